package record

import (
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/limits"
)

// handshakeHeaderLen is msg_type(1) length(3), RFC 8446 §4 / RFC 5246 §7.4.
// A header can declare up to 2^24-1 bytes; nothing in TLS needs that much,
// so anything above the limits policy for its type is refused before it is
// buffered.
const handshakeHeaderLen = 4

// HandshakeBuffer reassembles handshake messages from the payloads of
// handshake records: a message may span records, and a record may carry
// several messages (RFC 5246 §6.2.1, RFC 8446 §5.1). Add each payload, then
// call Next until it reports no complete message. The zero value is ready to
// use with limits.Default.
type HandshakeBuffer struct {
	buf   []byte // buffered bytes; buf[off:] is not yet returned
	off   int
	limit func(msgType uint8) int
	err   error
}

// Add appends the payload of one handshake record.
func (b *HandshakeBuffer) Add(fragment []byte) {
	if b.err != nil {
		return
	}
	// Drop what Next has returned, once per record rather than once per
	// message: a record of 4096 empty messages must not cost 4096 moves.
	if b.off > 0 {
		b.buf = b.buf[:copy(b.buf, b.buf[b.off:])]
		b.off = 0
	}
	b.buf = append(b.buf, fragment...)
}

// Next returns the next complete message, 4-byte header included, in a fresh
// slice the caller may keep; ok is false if no complete message is buffered
// yet. As soon as a header is buffered its declared length is checked against
// the limit for its type, so a hostile 2^24-1 length fails at once, without
// waiting for (or allocating) the body. Errors are sticky.
func (b *HandshakeBuffer) Next() (msg []byte, ok bool, err error) {
	if b.err != nil {
		return nil, false, b.err
	}
	rest := b.buf[b.off:]
	if len(rest) < handshakeHeaderLen {
		return nil, false, nil
	}
	msgType := rest[0]
	n := int(rest[1])<<16 | int(rest[2])<<8 | int(rest[3])
	if limit := b.maxLen(msgType); n > limit {
		b.err = errorf(alert.IllegalParameter, ErrHandshakeTooLarge,
			"handshake message type %d declares %d bytes, above the limit of %d", msgType, n, limit)
		b.buf, b.off = nil, 0
		return nil, false, b.err
	}
	if len(rest) < handshakeHeaderLen+n {
		return nil, false, nil
	}
	msg = append([]byte(nil), rest[:handshakeHeaderLen+n]...)
	b.off += handshakeHeaderLen + n
	if b.off == len(b.buf) {
		b.buf, b.off = b.buf[:0], 0
	}
	return msg, true, nil
}

func (b *HandshakeBuffer) maxLen(msgType uint8) int {
	if b.limit != nil {
		return b.limit(msgType)
	}
	return limits.Default.HandshakeLimit(msgType)
}

// SetLimit replaces the per-type limit on message body length (a
// limits.Policy's HandshakeLimit); nil restores limits.Default.
func (b *HandshakeBuffer) SetLimit(limit func(msgType uint8) int) { b.limit = limit }

// Release drops the buffer if nothing is buffered, so that a connection
// between handshake messages (nearly always, after the handshake) holds no
// reassembly buffer.
func (b *HandshakeBuffer) Release() {
	if b.Empty() {
		b.buf, b.off = nil, 0
	}
}

// HoldsBuffer reports whether the buffer is allocated, even if empty.
func (b *HandshakeBuffer) HoldsBuffer() bool { return b.buf != nil }

// Empty reports whether nothing is buffered, not even part of a message. A
// key change must fall on a message boundary (RFC 8446 §5.1), so the
// handshake checks Empty before switching keys.
func (b *HandshakeBuffer) Empty() bool { return len(b.buf) == b.off }
