// Package alert names the TLS alert descriptions (RFC 5246 §7.2, RFC 8446 §6)
// and carries the error that ends a handshake: the alert that was sent or
// received, where in the flow it happened, and why.
package alert

import "strconv"

// Alert is an AlertDescription.
type Alert uint8

// Level is an AlertLevel. TLS 1.3 ignores it; TLS 1.2 uses it to tell a
// warning from a fatal alert.
type Level uint8

const (
	LevelWarning Level = 1
	LevelFatal   Level = 2
)

// AlertDescription values, RFC 8446 §6 and RFC 5246 §7.2.
const (
	CloseNotify                  Alert = 0
	UnexpectedMessage            Alert = 10
	BadRecordMAC                 Alert = 20
	RecordOverflow               Alert = 22
	HandshakeFailure             Alert = 40
	BadCertificate               Alert = 42
	UnsupportedCertificate       Alert = 43
	CertificateRevoked           Alert = 44
	CertificateExpired           Alert = 45
	CertificateUnknown           Alert = 46
	IllegalParameter             Alert = 47
	UnknownCA                    Alert = 48
	AccessDenied                 Alert = 49
	DecodeError                  Alert = 50
	DecryptError                 Alert = 51
	ProtocolVersion              Alert = 70
	InsufficientSecurity         Alert = 71
	InternalError                Alert = 80
	InappropriateFallback        Alert = 86
	UserCanceled                 Alert = 90
	NoRenegotiation              Alert = 100
	MissingExtension             Alert = 109
	UnsupportedExtension         Alert = 110
	UnrecognizedName             Alert = 112
	BadCertificateStatusResponse Alert = 113
	UnknownPSKIdentity           Alert = 115
	CertificateRequired          Alert = 116
	NoApplicationProtocol        Alert = 120
	ECHRequired                  Alert = 121 // draft-ietf-tls-esni-25 §11.2
)

var names = map[Alert]string{
	CloseNotify:                  "close_notify",
	UnexpectedMessage:            "unexpected_message",
	BadRecordMAC:                 "bad_record_mac",
	RecordOverflow:               "record_overflow",
	HandshakeFailure:             "handshake_failure",
	BadCertificate:               "bad_certificate",
	UnsupportedCertificate:       "unsupported_certificate",
	CertificateRevoked:           "certificate_revoked",
	CertificateExpired:           "certificate_expired",
	CertificateUnknown:           "certificate_unknown",
	IllegalParameter:             "illegal_parameter",
	UnknownCA:                    "unknown_ca",
	AccessDenied:                 "access_denied",
	DecodeError:                  "decode_error",
	DecryptError:                 "decrypt_error",
	ProtocolVersion:              "protocol_version",
	InsufficientSecurity:         "insufficient_security",
	InternalError:                "internal_error",
	InappropriateFallback:        "inappropriate_fallback",
	UserCanceled:                 "user_canceled",
	NoRenegotiation:              "no_renegotiation",
	MissingExtension:             "missing_extension",
	UnsupportedExtension:         "unsupported_extension",
	UnrecognizedName:             "unrecognized_name",
	BadCertificateStatusResponse: "bad_certificate_status_response",
	UnknownPSKIdentity:           "unknown_psk_identity",
	CertificateRequired:          "certificate_required",
	NoApplicationProtocol:        "no_application_protocol",
	ECHRequired:                  "ech_required",
}

// Error makes an Alert an error, so that errors.As finds the alert an
// *Error went with (tlsflow.AlertError, as in crypto/tls).
func (a Alert) Error() string { return a.String() }

// String returns the RFC's name for the alert, e.g. "bad_record_mac".
func (a Alert) String() string {
	if n, ok := names[a]; ok {
		return n
	}
	return "alert(" + strconv.Itoa(int(a)) + ")"
}
