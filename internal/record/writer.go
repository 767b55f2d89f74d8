package record

import (
	"io"

	"github.com/tlsflow/tlsflow/alert"
)

// Writer fragments payloads into records of at most MaxPlaintext bytes, seals
// them with the current Cipher and collects them in a buffer; Flush writes
// the buffer to the stream in one Write, so a flight of handshake messages
// leaves in as few segments as possible.
type Writer struct {
	w       io.Writer
	cipher  Cipher
	version uint16
	buf     *[]byte // sealed records not yet flushed; pooled, nil when empty
	// limit bounds the payload of a protected record (the peer's
	// record_size_limit, RFC 8449); 0 means MaxPlaintext.
	limit int
}

// NewWriter returns a Writer of unprotected records with
// legacy_record_version 0x0303.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, cipher: Plaintext(false), version: 0x0303}
}

// SetCipher switches to c for the records that follow; records already
// buffered keep the protection they were sealed with.
func (w *Writer) SetCipher(c Cipher) { w.cipher = c }

// SetRecordLimit bounds the payload of every protected record from now on
// to n bytes (the peer's record_size_limit, RFC 8449 §4: in TLS 1.3 one
// less than the limit, which counts the content type). Unprotected records
// are not subject to it.
func (w *Writer) SetRecordLimit(n int) { w.limit = n }

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
	most := MaxPlaintext
	if _, ok := w.cipher.(protected); ok && w.limit > 0 {
		most = min(most, w.limit)
	}
	for len(payload) > 0 {
		n := min(len(payload), most)
		if err := w.seal(w.cipher, typ, payload[:n]); err != nil {
			return err
		}
		payload = payload[n:]
	}
	return nil
}

// seal appends one record to the buffer, taking a buffer from the pool if
// there is none.
func (w *Writer) seal(c Cipher, typ ContentType, fragment []byte) error {
	if w.buf == nil {
		w.buf = getBuffer()
	}
	buf, err := c.Seal(*w.buf, typ, w.version, fragment)
	if err != nil {
		return err
	}
	*w.buf = buf
	return nil
}

// Flush writes the buffered records in one Write. The buffer is emptied
// even if the Write fails: after a failed write the stream is unusable.
func (w *Writer) Flush() error {
	if w.buf == nil {
		return nil
	}
	var err error
	if len(*w.buf) > 0 {
		_, err = w.w.Write(*w.buf)
	}
	// What went out is ciphertext (or a plaintext handshake record the
	// peer has seen anyway), so the buffer goes back as it is.
	putBuffer(w.buf)
	w.buf = nil
	return err
}

// HoldsBuffer reports whether the Writer holds a buffer: only between a
// WriteRecord and the Flush that sends it.
func (w *Writer) HoldsBuffer() bool { return w.buf != nil }

// Buffered returns the number of bytes sealed but not yet flushed.
func (w *Writer) Buffered() int {
	if w.buf == nil {
		return 0
	}
	return len(*w.buf)
}

// WriteChangeCipherSpec writes the one-byte ChangeCipherSpec record, always
// unprotected: in TLS 1.2 it comes before the new keys, and in TLS 1.3 it is
// only middlebox compatibility (RFC 8446 §5), never encrypted, even when the
// handshake keys are already in use.
func (w *Writer) WriteChangeCipherSpec() error {
	return w.seal(Plaintext(false), ChangeCipherSpec, []byte{1})
}
