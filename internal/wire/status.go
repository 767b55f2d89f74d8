package wire

import "golang.org/x/crypto/cryptobyte"

// OCSP stapling (RFC 6066 §8) and Certificate Transparency timestamps (RFC
// 6962 §3.3), as TLS carries them: requested in ClientHello, answered in a
// TLS 1.2 ServerHello and CertificateStatus message, or in the extensions
// of a TLS 1.3 CertificateEntry (RFC 8446 §4.4.2.1).

// statusTypeOCSP is CertificateStatusType ocsp(1).
const statusTypeOCSP = 1

// StatusRequest is a client's status_request (RFC 6066 §8):
//
//	struct {
//	    CertificateStatusType status_type;
//	    select (status_type) {
//	        case ocsp: OCSPStatusRequest;   /* ResponderID responder_id_list<0..2^16-1>;
//	                                           Extensions request_extensions<0..2^16-1> */
//	    } request;
//	} CertificateStatusRequest;
//
// Request is the body as sent: for ocsp(1) the two lists, checked to be
// well formed; for a type RFC 6066 leaves to the future, whatever follows.
// tlsflow asks with both lists empty ("the responders are implicitly
// known to the server"). A server's acknowledgement in a TLS 1.2
// ServerHello is an empty extension.
type StatusRequest struct {
	StatusType uint8
	Request    []byte
}

// OCSPStatusRequest is the request tlsflow sends.
var OCSPStatusRequest = StatusRequest{StatusType: statusTypeOCSP, Request: []byte{0, 0, 0, 0}}

// OCSP reports whether the request is for an OCSP response.
func (r StatusRequest) OCSP() bool { return r.StatusType == statusTypeOCSP }

func (r StatusRequest) Marshal() ([]byte, error) {
	return marshalExt(ExtStatusRequest, func(b *builder) {
		b.AddUint8(r.StatusType)
		b.AddBytes(r.Request)
	})
}

func (r *StatusRequest) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var out StatusRequest
	if !s.ReadUint8(&out.StatusType) {
		return decodeErr(extName(ExtStatusRequest), "status_type")
	}
	out.Request = clip(s)
	if out.OCSP() {
		var responders, exts cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&responders) || !s.ReadUint16LengthPrefixed(&exts) {
			return decodeErr(extName(ExtStatusRequest), "OCSPStatusRequest")
		}
		if err := extEnd(s, ExtStatusRequest); err != nil {
			return err
		}
	}
	*r = out
	return nil
}

// CertificateStatus is RFC 6066 §8 CertificateStatus with an OCSP response,
// the body of the TLS 1.2 message of that name and of a TLS 1.3
// status_request certificate entry extension:
//
//	struct {
//	    CertificateStatusType status_type;   /* ocsp(1) */
//	    opaque OCSPResponse<1..2^24-1>;
//	} CertificateStatus;
type CertificateStatus struct {
	OCSPResponse []byte
}

func (m *CertificateStatus) add(b *builder) {
	b.AddUint8(statusTypeOCSP)
	addOpaque24(b, m.OCSPResponse)
}

func (m *CertificateStatus) read(s *cryptobyte.String, what string) error {
	var typ uint8
	if !s.ReadUint8(&typ) || typ != statusTypeOCSP || !readOpaque24(s, &m.OCSPResponse, 1, 1<<24-1) {
		return decodeErr(what, "CertificateStatus")
	}
	return nil
}

// CertificateStatusExt is a CertificateStatus as a TLS 1.3 certificate
// entry's status_request extension (RFC 8446 §4.4.2.1).
type CertificateStatusExt CertificateStatus

func (m CertificateStatusExt) Marshal() ([]byte, error) {
	return marshalExt(ExtStatusRequest, (*CertificateStatus)(&m).add)
}

func (m *CertificateStatusExt) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	if err := (*CertificateStatus)(m).read(&s, extName(ExtStatusRequest)); err != nil {
		return err
	}
	return extEnd(s, ExtStatusRequest)
}

// CertificateStatusMessage is the TLS 1.2 CertificateStatus message (RFC
// 6066 §8), sent after Certificate when the server has a staple.
type CertificateStatusMessage struct{ CertificateStatus }

func (*CertificateStatusMessage) Type() HandshakeType { return TypeCertificateStatus }

func (m *CertificateStatusMessage) Marshal() ([]byte, error) {
	return marshalMessage(TypeCertificateStatus, m.add)
}

func (m *CertificateStatusMessage) Unmarshal(msg []byte) error {
	const name = "CertificateStatus"
	s, err := readMessage(msg, TypeCertificateStatus)
	if err != nil {
		return err
	}
	var out CertificateStatusMessage
	if err := out.read(&s, name); err != nil {
		return err
	}
	if !s.Empty() {
		return decodeErr(name, "trailing bytes")
	}
	*m = out
	return nil
}

// SignedCertificateTimestamps is RFC 6962 §3.3 SignedCertificateTimestampList,
// the body of a server's signed_certificate_timestamp extension (TLS 1.2
// ServerHello, TLS 1.3 certificate entry); a client's request is an empty
// extension:
//
//	opaque SerializedSCT<1..2^16-1>;
//	struct { SerializedSCT sct_list <1..2^16-1>; } SignedCertificateTimestampList;
type SignedCertificateTimestamps [][]byte

func (l SignedCertificateTimestamps) Marshal() ([]byte, error) {
	return marshalExt(ExtSCT, func(b *builder) {
		b.AddUint16LengthPrefixed(func(b *builder) {
			for _, sct := range l {
				addOpaque16(b, sct)
			}
		})
	})
}

func (l *SignedCertificateTimestamps) Unmarshal(data []byte) error {
	name := extName(ExtSCT)
	s := cryptobyte.String(data)
	var list cryptobyte.String
	if !readVector16(&s, &list, 1, 1<<16-1) {
		return decodeErr(name, "sct_list")
	}
	if err := extEnd(s, ExtSCT); err != nil {
		return err
	}
	var out [][]byte
	for !list.Empty() {
		var sct []byte
		if !readOpaque16(&list, &sct, 1, 1<<16-1) {
			return decodeErr(name, "SerializedSCT")
		}
		out = append(out, sct)
	}
	*l = out
	return nil
}
