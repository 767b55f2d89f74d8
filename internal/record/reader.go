package record

import (
	"errors"
	"io"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/limits"
)

// Reader reads records from a stream, checks their headers and unprotects
// them with the current Cipher.
//
// The header checks: a known content type (else unexpected_message, RFC 8446
// §5), a legacy_record_version with major version 3 (0x0300..0x03ff, else
// decode_error), and a length no greater than the cipher's MaxFragment (else
// record_overflow, RFC 8446 §5.2 / RFC 5246 §6.2.3). The very first header is
// examined further so that an SSL 2.0 ClientHello or a plaintext protocol
// gets an error that says so (ErrNotTLS).
//
// Once SetVersion has been called, every header must carry that
// legacy_record_version (else protocol_version): RFC 5246 §6.2.1 has the
// negotiated version in every record, and RFC 8446 §5.2 fixes 0x0303 in
// every record protected by TLS 1.3.
//
// Empty records: an empty handshake, alert or change_cipher_spec record is
// refused (unexpected_message; RFC 5246 §6.2.1 and RFC 8446 §5.1 forbid
// sending them). Empty application_data records are legal but carry
// nothing, so an endless run of them is a peer keeping us busy for free:
// they are skipped, up to limits.Policy.EmptyRecords between two records
// that carry application data (other records in between, an alert or a
// KeyUpdate, do not start the count again); one more is an error
// (unexpected_message). With RefuseEmptyApplicationData(true) even one is
// refused: before the handshake is complete no application data may come.
//
// Errors that leave the stream out of step (I/O errors, bad headers, too
// many empty records) are sticky: every later call returns them again. A
// timeout (a read deadline) is not: the bytes read so far are kept and the
// next call goes on; net/http relies on that between requests. An
// error from the Cipher's Open is not: the record was read whole, the
// sequence number has not moved, and a TLS 1.3 server that rejected 0-RTT
// data must skip the records it cannot decrypt and read on (RFC 8446 §4.2.10).
type Reader struct {
	r      io.Reader
	cipher Cipher
	hdr    [HeaderLen]byte // the current record's header
	// buf holds bytes read from the stream; buf[start:end] are not yet
	// returned. It is pooled, and nil while the connection is idle.
	buf        *[]byte
	start, end int
	high       int  // the most of buf used since it was taken: what to clear
	hdrN       int  // header bytes read into hdr while there is no buf
	empty      int  // empty records skipped since the last application data
	maxEmpty   int  // how many may be
	first      bool // no header read yet

	version     uint16 // the legacy_record_version every header must carry; 0: any 3.x
	refuseEmpty bool   // an empty application_data record is an error, not skipped
	// limit bounds a protected record's plaintext (our record_size_limit,
	// RFC 8449); 0 means the protocol's.
	limit int
	err   error
	// eager: take a buffer at once instead of reading a lone header first
	// (ReadEagerly), while records are sure to come.
	eager bool
}

// SetRecordLimit bounds the plaintext of every protected record from now on
// to n bytes, as the record_size_limit this side advertised counts it (RFC
// 8449 §4: TLSInnerPlaintext in TLS 1.3); a longer one is record_overflow.
func (r *Reader) SetRecordLimit(n int) { r.limit = n }

// ReadEagerly(true) makes the Reader take its buffer before the next
// header instead of after it: the header and what follows it come in one
// read call instead of two. An idle connection's Reader should not (it
// would hold a buffer while waiting); a handshake's should, as its peer's
// flight is on its way.
func (r *Reader) ReadEagerly(on bool) { r.eager = on }

// NewReader returns a Reader of unprotected records (Plaintext(false)).
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, cipher: Plaintext(false), first: true, maxEmpty: limits.Default.EmptyRecords}
}

// SetMaxEmptyRecords sets how many empty application_data records may come
// between two that carry data (limits.Policy.EmptyRecords).
func (r *Reader) SetMaxEmptyRecords(n int) { r.maxEmpty = n }

// SetCipher switches to c for the records that follow.
func (r *Reader) SetCipher(c Cipher) { r.cipher = c }

// SetVersion makes every following record header carry v as its
// legacy_record_version; the connection calls it once the version is known.
func (r *Reader) SetVersion(v uint16) { r.version = v }

// RefuseEmptyApplicationData makes an empty application_data record an
// error (unexpected_message) instead of something to skip: during the
// handshake application data of any length is out of place.
func (r *Reader) RefuseEmptyApplicationData(refuse bool) { r.refuseEmpty = refuse }

// ReadRecord returns the next non-empty record's content type and plaintext.
// payload is valid until the next call. io.EOF at a record boundary is
// returned as io.EOF; a stream ending inside a record is io.ErrUnexpectedEOF.
func (r *Reader) ReadRecord() (typ ContentType, payload []byte, err error) {
	if r.err != nil {
		return 0, nil, r.err
	}
	for {
		var sticky bool
		typ, payload, sticky, err = r.readOne()
		if err != nil {
			if sticky {
				r.err = err
			}
			return 0, nil, err
		}
		if len(payload) > 0 {
			if typ == ApplicationData {
				r.empty = 0
			}
			return typ, payload, nil
		}
		if typ != ApplicationData {
			r.err = errorf(alert.UnexpectedMessage, ErrUnexpectedRecord,
				"empty %s record (only application_data may be empty)", typ)
			return 0, nil, r.err
		}
		if r.refuseEmpty {
			r.err = errorf(alert.UnexpectedMessage, ErrUnexpectedRecord,
				"empty application_data record during the handshake")
			return 0, nil, r.err
		}
		if r.empty++; r.empty > r.maxEmpty {
			r.err = errorf(alert.UnexpectedMessage, ErrUnexpectedRecord,
				"more than %d empty records without application data between them", r.maxEmpty)
			return 0, nil, r.err
		}
	}
}

// LastRecordLen is the length of the last record's fragment as read (also
// for a record that failed to unprotect): what skipping it cost.
func (r *Reader) LastRecordLen() int { return int(r.hdr[3])<<8 | int(r.hdr[4]) }

// readOne reads and unprotects one record. sticky says whether an error
// leaves the stream unusable.
func (r *Reader) readOne() (_ ContentType, _ []byte, sticky bool, _ error) {
	typ, fragment, err := r.readRaw()
	if err != nil {
		return 0, nil, !isTimeout(err), err
	}
	inner, payload, err := r.cipher.Open(r.hdr[:], fragment)
	if err != nil {
		return 0, nil, false, err
	}
	if !inner.known() {
		return 0, nil, true, errorf(alert.UnexpectedMessage, ErrUnexpectedRecord,
			"unknown inner record type %d in a %s record", byte(inner), typ)
	}
	return inner, payload, false, nil
}

// readRaw reads one record's header and fragment and checks the header.
//
// An idle Reader holds no buffer, so it reads the next header on its own,
// into hdr: a connection waiting for its peer costs no buffer memory. From
// there the stream is read in pieces as large as the buffer, so the
// fragment's read also brings whatever follows it, and while records keep
// coming each costs at most one read call instead of two (header, then
// fragment). A read that fails part-way (a deadline) keeps what it got: the
// next call goes on from there, so a timeout costs nothing but the wait.
func (r *Reader) readRaw() (ContentType, []byte, error) {
	if err := r.fill(HeaderLen); err != nil {
		return 0, nil, err // io.EOF only if no byte of the header came
	}
	copy(r.hdr[:], (*r.buf)[r.start:])
	if err := r.checkHeader(); err != nil {
		return 0, nil, err
	}
	n := int(r.hdr[3])<<8 | int(r.hdr[4]) // checkHeader bounded it by MaxCiphertext12
	if err := r.fill(HeaderLen + n); err != nil {
		return 0, nil, err
	}
	fragment := (*r.buf)[r.start+HeaderLen : r.start+HeaderLen+n]
	r.start += HeaderLen + n
	return ContentType(r.hdr[0]), fragment, nil
}

// fill reads until at least want bytes (at most pooledBufferCap) are
// buffered, taking a buffer from the pool if there is none. The unread bytes
// move to the front when the rest would not fit behind them; what an
// earlier ReadRecord returned is overwritten then, as its contract allows.
func (r *Reader) fill(want int) error {
	if r.buf == nil {
		if r.eager {
			r.takeBuffer()
		} else if err := r.readIdleHeader(); err != nil {
			return err
		}
	}
	if r.end-r.start >= want {
		return nil
	}
	b := *r.buf
	if r.start+want > len(b) {
		r.end = copy(b, b[r.start:r.end])
		r.start = 0
	}
	for r.end-r.start < want {
		m, err := r.r.Read(b[r.end:])
		r.end += m
		r.high = max(r.high, r.end)
		if err != nil && r.end-r.start < want {
			if errors.Is(err, io.EOF) && r.end > r.start {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// HoldsBuffer reports whether the Reader holds a record buffer: it does
// from a record's first header byte until Release, and never while idle.
func (r *Reader) HoldsBuffer() bool { return r.buf != nil || r.hdrN != 0 }

// readIdleHeader reads a record header without a buffer, then takes one
// from the pool and puts the header at its start.
func (r *Reader) readIdleHeader() error {
	for r.hdrN < HeaderLen {
		n, err := r.r.Read(r.hdr[r.hdrN:])
		r.hdrN += n
		if err != nil && r.hdrN < HeaderLen {
			if errors.Is(err, io.EOF) && r.hdrN > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err // io.EOF only if no byte of the header came
		}
	}
	r.takeBuffer()
	return nil
}

// takeBuffer takes a record buffer from the pool, with the header bytes
// read so far at its start.
func (r *Reader) takeBuffer() {
	r.buf = getBuffer()
	*r.buf = (*r.buf)[:cap(*r.buf)] // the whole buffer is ours to read into
	r.start, r.end = 0, copy(*r.buf, r.hdr[:r.hdrN])
	r.high, r.hdrN = r.end, 0
}

// Release gives the buffer back to the pool; the payload of the last
// ReadRecord must no longer be used. The connection calls it when it has
// nothing left to return from the last record, before it waits for the
// next one, so that an idle connection holds no buffer. A buffer that
// still holds bytes of a record not yet returned (read ahead, or read only
// in part before a deadline) is kept.
func (r *Reader) Release() {
	if r.buf == nil || r.start != r.end {
		return
	}
	// Fragments were decrypted in place: plaintext must not outlive its
	// connection in a shared buffer.
	clear((*r.buf)[:r.high])
	putBuffer(r.buf)
	r.buf, r.start, r.end, r.high = nil, 0, 0, 0
}

// checkHeader checks a complete record header.
func (r *Reader) checkHeader() error {
	if r.first {
		r.first = false
		if err := notTLS(r.hdr); err != nil {
			return err
		}
	}
	typ := ContentType(r.hdr[0])
	if !typ.known() {
		return errorf(alert.UnexpectedMessage, ErrUnexpectedRecord, "unknown record type %d", r.hdr[0])
	}
	if r.hdr[1] != 3 {
		return errorf(alert.DecodeError, ErrMalformedRecord,
			"record version %#04x is not 3.x", uint16(r.hdr[1])<<8|uint16(r.hdr[2]))
	}
	if v := uint16(r.hdr[1])<<8 | uint16(r.hdr[2]); r.version != 0 && v != r.version {
		return errorf(alert.ProtocolVersion, ErrMalformedRecord,
			"record version %#04x, but the connection uses %#04x", v, r.version)
	}
	n := int(r.hdr[3])<<8 | int(r.hdr[4])
	if limit := r.cipher.MaxFragment(); n > limit {
		return errorf(alert.RecordOverflow, ErrRecordOverflow,
			"%s record of %d bytes exceeds the limit of %d", typ, n, limit)
	}
	if p, ok := r.cipher.(protected); ok && r.limit > 0 && n-p.expansion() > r.limit {
		return errorf(alert.RecordOverflow, ErrRecordOverflow,
			"%s record of %d bytes of plaintext exceeds the record_size_limit of %d this side advertised (RFC 8449 §4)", typ, n-p.expansion(), r.limit)
	}
	return nil
}

// notTLS explains a first record header that cannot start a TLS
// connection; the error keeps the header.
func notTLS(hdr [HeaderLen]byte) error {
	err := whyNotTLS(hdr)
	if e, ok := err.(*Error); ok {
		e.Header = hdr
	}
	return err
}

func whyNotTLS(hdr [HeaderLen]byte) error {
	if ContentType(hdr[0]).known() && hdr[1] == 3 {
		return nil
	}
	// SSL 2.0 record: 2-byte length with the high bit set, then
	// msg_type 1 (CLIENT-HELLO) (RFC 6101 Appendix E.2; SSL 2.0 is banned by RFC 6176).
	if hdr[0]&0x80 != 0 && hdr[2] == 1 {
		return errorf(alert.ProtocolVersion, ErrNotTLS,
			"first record is an SSL 2.0-format ClientHello; SSL 2.0 is not supported (RFC 6176)")
	}
	printable := true
	for _, b := range hdr {
		if b < 0x20 || b > 0x7e {
			printable = false
		}
	}
	if printable {
		return errorf(alert.DecodeError, ErrNotTLS,
			"first bytes %q are plaintext, not a TLS record (plain HTTP to a TLS port?)", string(hdr[:]))
	}
	return errorf(alert.DecodeError, ErrNotTLS,
		"first bytes % x are not a TLS record header", hdr[:])
}

// isTimeout reports whether err is a deadline that passed, after which the
// stream can be read on.
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
