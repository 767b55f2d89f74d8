package capture

import (
	"fmt"

	"github.com/tlsflow/tlsflow/internal/record"
)

// recordSplitter cuts one direction's bytes into TLS records (RFC 8446
// §5.1, RFC 5246 §6.2.1) without interpreting them: a passive reader has
// no keys to switch and no alerts to send. It holds at most one record's
// bytes between calls.
type recordSplitter struct {
	buf []byte
	err error
}

// maxRecordBody is the largest record body either version allows
// (TLSCiphertext in TLS 1.2: 2^14 + 2048).
const maxRecordBody = record.MaxCiphertext12

// contentHeartbeat is RFC 6520's content type, which is framed like the
// others.
const contentHeartbeat = 24

// split adds data and calls each for every complete record, with its
// 5-byte header and its body (both only valid during the call). Once the
// bytes are not TLS records it reports why, and keeps doing so.
func (r *recordSplitter) split(data []byte, each func(hdr, body []byte)) error {
	if r.err != nil {
		return r.err
	}
	in := data
	if len(r.buf) > 0 {
		r.buf = append(r.buf, data...)
		in = r.buf
	}
	for len(in) >= record.HeaderLen {
		typ, major, minor := in[0], in[1], in[2]
		n := int(in[3])<<8 | int(in[4])
		if typ < byte(record.ChangeCipherSpec) || typ > contentHeartbeat || major != 3 || minor > 4 || n > maxRecordBody {
			r.err = fmt.Errorf("the bytes are no longer TLS records (a header % x)", in[:record.HeaderLen])
			r.buf = nil
			return r.err
		}
		if len(in) < record.HeaderLen+n {
			break
		}
		each(in[:record.HeaderLen], in[record.HeaderLen:record.HeaderLen+n])
		in = in[record.HeaderLen+n:]
	}
	// Keep the partial record; copying it to the front keeps the buffer
	// from growing past one record and a segment.
	r.buf = append(r.buf[:0], in...)
	return nil
}
