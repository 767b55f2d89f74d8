package record_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/tlsflow/tlsflow/internal/record"
)

// FuzzReader feeds arbitrary streams to a Reader with each kind of cipher.
// Whatever the bytes, it must not panic, must stop (no endless loop on
// junk), and must only return known types with payloads within 2^14.
func FuzzReader(f *testing.F) {
	f.Add(unhex(s3ClientAppDataRecord))
	f.Add(concat(unhex(s7ChangeCipherSpecRecord), unhex(s3ClientAppDataRecord), unhex(s3ClientAlertRecord)))
	f.Add(rec(record.Handshake, 0x0301, []byte{1, 0, 0, 0}))
	f.Add(bytes.Repeat(rec(record.ApplicationData, 0x0303, nil), 40))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte{0x80, 0x2e, 0x01, 0x00, 0x02})
	f.Add([]byte{23, 3, 3, 0x40, 0xff})

	key, iv := unhex(s3ClientAppKey), unhex(s3ClientAppIV)
	f.Fuzz(func(t *testing.T, stream []byte) {
		ciphers := []record.Cipher{
			record.Plaintext(false),
			record.Plaintext(true),
			record.NewAEAD13(newGCM(t, key), iv, 0),
			record.NewAEAD12(newGCM(t, key), iv[:4], true),
		}
		for _, c := range ciphers {
			r := record.NewReader(bytes.NewReader(stream))
			r.SetCipher(c)
			// Each call consumes at least a header, so len/5+1 calls reach the end;
			// non-sticky errors (bad MAC) are read past like a 0-RTT-skipping server.
			for i := 0; i <= len(stream)/record.HeaderLen+1; i++ {
				typ, payload, err := r.ReadRecord()
				if err == io.EOF || err == io.ErrUnexpectedEOF {
					break
				}
				if err != nil {
					continue
				}
				if typ < record.ChangeCipherSpec || typ > record.ApplicationData {
					t.Fatalf("returned unknown type %d", typ)
				}
				if len(payload) == 0 || len(payload) > record.MaxPlaintext {
					t.Fatalf("returned a %d-byte payload", len(payload))
				}
			}
		}
	})
}

// FuzzHandshakeBuffer cuts arbitrary bytes into fragments at arbitrary
// points. The messages returned must be exactly a prefix of the input, each
// a whole message within the limits, and bad lengths must fail, not panic.
func FuzzHandshakeBuffer(f *testing.F) {
	f.Add(concat(msg(1, []byte("hello")), msg(2, nil)), []byte{1, 3, 200})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0}, []byte{2})
	f.Add(concat(msg(11, make([]byte, 300)), msg(14, nil)), []byte{0, 1, 1, 1})

	f.Fuzz(func(t *testing.T, data []byte, cuts []byte) {
		var b record.HandshakeBuffer
		var got []byte
		rest := data
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if i < len(cuts) {
				n = min(int(cuts[i]), n)
			}
			b.Add(rest[:n])
			rest = rest[n:]
			for {
				m, ok, err := b.Next()
				if err != nil || !ok {
					break
				}
				if len(m) < 4 || len(m)-4 != int(m[1])<<16|int(m[2])<<8|int(m[3]) {
					t.Fatalf("message %x is not whole", m)
				}
				if len(m)-4 > 262144 {
					t.Fatalf("message of %d bytes passed the limits", len(m)-4)
				}
				got = append(got, m...)
			}
		}
		if !bytes.HasPrefix(data, got) {
			t.Fatalf("the messages returned are not a prefix of the input")
		}
	})
}
