package wire

import (
	"bytes"
	"testing"
)

// TestCompressedCertificateRoundTrip: RFC 8879 §4's message, and the
// bounds of its fields.
func TestCompressedCertificateRoundTrip(t *testing.T) {
	m := &CompressedCertificate{Algorithm: CertCompressionBrotli, UncompressedLength: 1000, Compressed: []byte{1, 2, 3}}
	raw := must(m.Marshal())
	want := []byte{25, 0, 0, 11, 0, 2, 0, 0x03, 0xe8, 0, 0, 3, 1, 2, 3}
	if !bytes.Equal(raw, want) {
		t.Fatalf("Marshal = %x, want %x", raw, want)
	}
	var back CompressedCertificate
	if err := back.Unmarshal(raw); err != nil || back.Algorithm != 2 || back.UncompressedLength != 1000 || !bytes.Equal(back.Compressed, []byte{1, 2, 3}) {
		t.Fatalf("Unmarshal = %+v, %v", back, err)
	}
	empty := []byte{25, 0, 0, 8, 0, 1, 0, 0, 5, 0, 0, 0}
	wantDecodeError(t, back.Unmarshal(empty), "CompressedCertificate", "compressed_certificate_message")
	var algs CertificateCompressionAlgorithms
	if err := algs.Unmarshal([]byte{3, 0, 2, 0}); err == nil {
		t.Error("an odd-length algorithm list was accepted")
	}
	if err := algs.Unmarshal([]byte{4, 0, 2, 0, 1}); err != nil || len(algs) != 2 || algs[0] != 2 {
		t.Fatalf("algorithms = %v, %v", algs, err)
	}
	if err := algs.Unmarshal([]byte{0}); err == nil {
		t.Error("an empty algorithm list was accepted (RFC 8879 §3: <2..2^8-2>)")
	}
}
