package record_test

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/record"
	"golang.org/x/crypto/chacha20poly1305"
)

// unhex decodes a hex constant written as the RFCs print it. The constants
// are fixed, so a bad one is a broken test file and panics.
func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic("bad hex constant: " + err.Error())
	}
	return b
}

func newGCM(t testing.TB, key []byte) cipher.AEAD {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead
}

func newChaCha(t testing.TB, key []byte) cipher.AEAD {
	t.Helper()
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return aead
}

// splitRecord returns a copy of a record's header and fragment, so that
// in-place decryption leaves the test's data alone.
func splitRecord(rec []byte) (hdr, fragment []byte) {
	c := append([]byte(nil), rec...)
	return c[:record.HeaderLen], c[record.HeaderLen:]
}

// wantAlert fails unless err is a *record.Error for alert a and of the given kind.
func wantAlert(t *testing.T, err error, a alert.Alert, kind error) {
	t.Helper()
	var re *record.Error
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T), want a *record.Error with alert %s", err, err, a)
	}
	if re.Alert != a {
		t.Errorf("alert %s, want %s (error: %v)", re.Alert, a, err)
	}
	if kind != nil && !errors.Is(err, kind) {
		t.Errorf("error %v is not %v", err, kind)
	}
}
