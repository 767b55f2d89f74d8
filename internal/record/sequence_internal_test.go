package record

import (
	"errors"
	"math"
	"testing"
)

// The last sequence number, 2^64-1, is used once; then the cipher refuses
// rather than wrap to 0 and reuse a nonce (RFC 8446 §5.3, RFC 5246 §6.1).
func TestSequenceNumberDoesNotWrap(t *testing.T) {
	ciphers := map[string]Cipher{
		"TLS 1.2": NewAEAD12(nullAEAD{}, make([]byte, 4), true),
		"TLS 1.3": NewAEAD13(nullAEAD{}, make([]byte, 12), 0),
	}
	for name, c := range ciphers {
		t.Run(name, func(t *testing.T) {
			switch c := c.(type) {
			case *aead12:
				c.seq.next = math.MaxUint64
			case *aead13:
				c.seq.next = math.MaxUint64
			}
			if _, err := c.Seal(nil, ApplicationData, 0x0303, []byte("last")); err != nil {
				t.Fatalf("sealing with sequence number 2^64-1: %v", err)
			}
			_, err := c.Seal(nil, ApplicationData, 0x0303, []byte("one too many"))
			var re *Error
			if !errors.Is(err, ErrSequenceExhausted) || !errors.As(err, &re) {
				t.Fatalf("sealing after 2^64-1: %v, want ErrSequenceExhausted", err)
			}
			hdr := []byte{23, 3, 3, 0, 17}
			if _, _, err := c.Open(hdr, make([]byte, 17)); !errors.Is(err, ErrSequenceExhausted) {
				t.Errorf("opening after 2^64-1: %v, want ErrSequenceExhausted", err)
			}
		})
	}
}

// nullAEAD is a do-nothing AEAD with a 16-byte "tag": enough to drive the
// sequence logic without real keys.
type nullAEAD struct{}

func (nullAEAD) NonceSize() int { return 12 }
func (nullAEAD) Overhead() int  { return 16 }
func (nullAEAD) Seal(dst, nonce, plaintext, ad []byte) []byte {
	return append(append(dst, plaintext...), make([]byte, 16)...)
}
func (nullAEAD) Open(dst, nonce, ciphertext, ad []byte) ([]byte, error) {
	return append(dst, ciphertext[:len(ciphertext)-16]...), nil
}
