package wire

// DecodeError reports a handshake message or extension_data that does not
// parse: truncated, an inner length that overruns its container, trailing
// bytes, a vector outside its RFC bounds, or a duplicate extension. The engine
// answers it with a decode_error alert (RFC 8446 §6.2, RFC 5246 §7.2.2).
type DecodeError struct {
	Message string // the message or extension, e.g. "ClientHello", "key_share extension"
	Field   string // the field that failed, e.g. "cipher_suites"; may be empty
}

func (e *DecodeError) Error() string {
	if e.Field == "" {
		return "wire: cannot decode " + e.Message
	}
	return "wire: cannot decode " + e.Message + ": " + e.Field
}

// IllegalParameterError reports a value that parses but that the RFC forbids
// in a way that calls for an illegal_parameter alert, such as a non-null
// TLS 1.2 ServerHello legacy_compression_method or two key shares for one
// group.
type IllegalParameterError struct {
	Message string
	Field   string
}

func (e *IllegalParameterError) Error() string {
	if e.Field == "" {
		return "wire: illegal parameter in " + e.Message
	}
	return "wire: illegal parameter in " + e.Message + ": " + e.Field
}

func decodeErr(message, field string) error {
	return &DecodeError{Message: message, Field: field}
}

func illegalErr(message, field string) error {
	return &IllegalParameterError{Message: message, Field: field}
}

// MarshalError reports a message or extension that cannot be written: a
// field longer than its length prefix can express (RFC 8446 §3). The data
// came from a peer or a configuration; the caller decides what that means
// (a configuration error, a ticket not issued, an internal_error alert).
type MarshalError struct {
	What string // the message or extension, e.g. "ClientHello", "cookie extension"
	Err  error
}

func (e *MarshalError) Error() string { return "wire: cannot marshal " + e.What + ": " + e.Err.Error() }

func (e *MarshalError) Unwrap() error { return e.Err }
