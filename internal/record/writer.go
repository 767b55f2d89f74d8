package record

import (
	"io"

	"github.com/tlsflow/tlsflow/alert"
)

// flushRetain is the buffer capacity a Writer keeps across Flushes; a larger
// buffer, left by one big write, is released.
const flushRetain = 64 << 10

// Writer fragments payloads into records of at most MaxPlaintext bytes, seals
// them with the current Cipher and collects them in a buffer; Flush writes
// the buffer to the stream in one Write, so a flight of handshake messages
// leaves in as few segments as possible.
type Writer struct {
	w       io.Writer
	cipher  Cipher
	version uint16
	buf     []byte
}

// NewWriter returns a Writer of unprotected records with
// legacy_record_version 0x0303.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, cipher: Plaintext(false), version: 0x0303}
}

// SetCipher switches to c for the records that follow; records already
// buffered keep the protection they were sealed with.
func (w *Writer) SetCipher(c Cipher) { w.cipher = c }

// SetVersion sets legacy_record_version for the records that follow
// (default 0x0303). A TLS 1.3 cipher always writes 0x0303 (RFC 8446 §5.1).
func (w *Writer) SetVersion(v uint16) { w.version = v }

// WriteRecord seals payload into one or more records of type typ. An empty
// payload is refused: no protocol step needs an empty record, and empty
// handshake, alert and change_cipher_spec records are forbidden (RFC 8446
// §5.1, RFC 5246 §6.2.1).
func (w *Writer) WriteRecord(typ ContentType, payload []byte) error {
	if len(payload) == 0 {
		return errorf(alert.InternalError, nil, "refusing to write an empty %s record", typ)
	}
	for len(payload) > 0 {
		n := min(len(payload), MaxPlaintext)
		buf, err := w.cipher.Seal(w.buf, typ, w.version, payload[:n])
		if err != nil {
			return err
		}
		w.buf = buf
		payload = payload[n:]
	}
	return nil
}

// Flush writes the buffered records in one Write. The buffer is emptied
// even if the Write fails: after a failed write the stream is unusable.
func (w *Writer) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.w.Write(w.buf)
	if cap(w.buf) > flushRetain {
		w.buf = nil
	} else {
		w.buf = w.buf[:0]
	}
	return err
}

// Buffered returns the number of bytes sealed but not yet flushed.
func (w *Writer) Buffered() int { return len(w.buf) }

// WriteChangeCipherSpec writes the one-byte ChangeCipherSpec record, always
// unprotected: in TLS 1.2 it comes before the new keys, and in TLS 1.3 it is
// only middlebox compatibility (RFC 8446 §5), never encrypted, even when the
// handshake keys are already in use.
func (w *Writer) WriteChangeCipherSpec() error {
	buf, err := Plaintext(false).Seal(w.buf, ChangeCipherSpec, w.version, []byte{1})
	if err != nil {
		return err
	}
	w.buf = buf
	return nil
}
