package keys_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// unhex decodes a hex constant written as the RFCs print it: pairs of digits
// separated by spaces and line breaks. The constants are fixed, so a bad one
// is a broken test file and panics.
func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic("bad hex constant: " + err.Error())
	}
	return b
}

// check fails the test if got differs from the hex constant want, saying
// which value it was.
func check(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if w := unhex(want); !bytes.Equal(got, w) {
		t.Errorf("%s:\n got  %x\n want %x", what, got, w)
	}
}
