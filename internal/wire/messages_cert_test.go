package wire

import (
	"reflect"
	"testing"
)

func TestCertificateMessagesRejectMalformed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		into    Message
		body    string
		message string
		field   string
	}{
		{"TLS 1.2 empty ASN.1Cert", new(Certificate), "000003 000000", "Certificate", "ASN.1Cert"},
		{"TLS 1.2 cert longer than the list", new(Certificate), "000004 000002 01", "Certificate", "ASN.1Cert"},
		{"TLS 1.2 list longer than the message", new(Certificate), "000005 000001 01", "Certificate", "certificate_list"},
		{"TLS 1.3 empty cert_data", new(Certificate13), "00 000005 000000 0000", "Certificate", "cert_data"},
		{"TLS 1.3 entry without extensions", new(Certificate13), "00 000004 000001 01", "Certificate", "extensions"},
		{"TLS 1.3 context longer than the message", new(Certificate13), "05 0102", "Certificate", "certificate_request_context"},
		{"TLS 1.3 duplicate entry extension", new(Certificate13), "00 00000e 000001 01 0008 0005 0000 0005 0000", "Certificate", "duplicate extension status_request"},
		{"TLS 1.2 request empty certificate_types", new(CertificateRequest), "00 0002 0403 0000", "CertificateRequest", "certificate_types"},
		{"TLS 1.2 request empty signature algorithms", new(CertificateRequest), "01 40 0000 0000", "CertificateRequest", "supported_signature_algorithms"},
		{"TLS 1.2 request odd-length signature algorithms", new(CertificateRequest), "01 40 0003 040304 0000", "CertificateRequest", "supported_signature_algorithms"},
		{"TLS 1.2 request empty DistinguishedName", new(CertificateRequest), "01 40 0002 0403 0002 0000", "CertificateRequest", "certificate_authorities"},
		{"TLS 1.2 request without certificate_authorities", new(CertificateRequest), "01 40 0002 0403", "CertificateRequest", "certificate_authorities"},
		{"TLS 1.3 request with empty extensions", new(CertificateRequest13), "00 0000", "CertificateRequest", "extensions"},
		{"TLS 1.3 request context too long for the message", new(CertificateRequest13), "09 00", "CertificateRequest", "certificate_request_context"},
		{"CertificateVerify signature longer than the message", new(CertificateVerify), "0804 0003 0102", "CertificateVerify", "signature"},
		{"CertificateVerify without signature", new(CertificateVerify), "0804", "CertificateVerify", "signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDecodeError(t, tc.into.Unmarshal(frame(t, tc.into.Type(), tc.body)), tc.message, tc.field)
		})
	}
}

// The two Certificate encodings share a type byte, so a TLS 1.3 message read
// as TLS 1.2 (or the reverse) must fail rather than yield nonsense.
func TestCertificateVersionsDoNotParseAsEachOther(t *testing.T) {
	c13 := must((&Certificate13{Entries: []CertificateEntry{{Data: seq(1, 10)}}}).Marshal())
	if err := new(Certificate).Unmarshal(c13); err == nil {
		t.Error("TLS 1.3 Certificate accepted as TLS 1.2")
	}
	c12 := must((&Certificate{Chain: [][]byte{seq(1, 10)}}).Marshal())
	if err := new(Certificate13).Unmarshal(c12); err == nil {
		t.Error("TLS 1.2 Certificate accepted as TLS 1.3")
	}
}

func TestCertificateVerifyAllowsEmptySignature(t *testing.T) {
	var cv CertificateVerify
	if err := cv.Unmarshal(frame(t, TypeCertificateVerify, "0403 0000")); err != nil {
		t.Fatalf("signature<0..2^16-1> of length 0: %v", err)
	}
	if want := (CertificateVerify{SignatureScheme: 0x0403}); !reflect.DeepEqual(cv, want) {
		t.Fatalf("got %+v, want %+v", cv, want)
	}
}
