package wire

// Finished is RFC 5246 §7.4.9 / RFC 8446 §4.4.4: the body is verify_data,
// whose length the cipher suite fixes (12 bytes in TLS 1.2, the hash length in
// TLS 1.3). Unmarshal only rejects empty; the engine, which knows the suite,
// refuses any other length with decode_error.
type Finished struct {
	VerifyData []byte
}

func (*Finished) Type() HandshakeType { return TypeFinished }

func (m *Finished) Marshal() ([]byte, error) {
	return marshalMessage(TypeFinished, func(b *builder) { b.AddBytes(m.VerifyData) })
}

func (m *Finished) Unmarshal(msg []byte) error {
	s, err := readMessage(msg, TypeFinished)
	if err != nil {
		return err
	}
	if s.Empty() {
		return decodeErr("Finished", "verify_data")
	}
	m.VerifyData = clip(s)
	return nil
}

// EndOfEarlyData is RFC 8446 §4.5: struct {}.
type EndOfEarlyData struct{}

func (*EndOfEarlyData) Type() HandshakeType      { return TypeEndOfEarlyData }
func (*EndOfEarlyData) Marshal() ([]byte, error) { return marshalEmptyMessage(TypeEndOfEarlyData), nil }
func (*EndOfEarlyData) Unmarshal(msg []byte) error {
	return readEmptyMessage(msg, TypeEndOfEarlyData)
}

// NewSessionTicket is the TLS 1.2 NewSessionTicket, RFC 5077 §3.3.
type NewSessionTicket struct {
	LifetimeHint uint32 // ticket_lifetime_hint, seconds; 0 means unspecified
	Ticket       []byte // ticket<0..2^16-1>
}

func (*NewSessionTicket) Type() HandshakeType { return TypeNewSessionTicket }

func (m *NewSessionTicket) Marshal() ([]byte, error) {
	return marshalMessage(TypeNewSessionTicket, func(b *builder) {
		b.AddUint32(m.LifetimeHint)
		addOpaque16(b, m.Ticket)
	})
}

func (m *NewSessionTicket) Unmarshal(msg []byte) error {
	const name = "NewSessionTicket"
	s, err := readMessage(msg, TypeNewSessionTicket)
	if err != nil {
		return err
	}
	var out NewSessionTicket
	switch {
	case !s.ReadUint32(&out.LifetimeHint):
		return decodeErr(name, "ticket_lifetime_hint")
	case !readOpaque16(&s, &out.Ticket, 0, 1<<16-1):
		return decodeErr(name, "ticket")
	case !s.Empty():
		return decodeErr(name, "trailing bytes")
	}
	*m = out
	return nil
}

// NewSessionTicket13 is the TLS 1.3 NewSessionTicket, RFC 8446 §4.6.1.
// The engine enforces the 7-day cap on Lifetime.
type NewSessionTicket13 struct {
	Lifetime   uint32 // ticket_lifetime, seconds
	AgeAdd     uint32 // ticket_age_add
	Nonce      []byte // ticket_nonce<0..255>
	Ticket     []byte // ticket<1..2^16-1>
	Extensions Extensions
}

func (*NewSessionTicket13) Type() HandshakeType { return TypeNewSessionTicket }

func (m *NewSessionTicket13) Marshal() ([]byte, error) {
	return marshalMessage(TypeNewSessionTicket, func(b *builder) {
		b.AddUint32(m.Lifetime)
		b.AddUint32(m.AgeAdd)
		addOpaque8(b, m.Nonce)
		addOpaque16(b, m.Ticket)
		m.Extensions.marshal(b)
	})
}

func (m *NewSessionTicket13) Unmarshal(msg []byte) error {
	const name = "NewSessionTicket"
	s, err := readMessage(msg, TypeNewSessionTicket)
	if err != nil {
		return err
	}
	var out NewSessionTicket13
	switch {
	case !s.ReadUint32(&out.Lifetime):
		return decodeErr(name, "ticket_lifetime")
	case !s.ReadUint32(&out.AgeAdd):
		return decodeErr(name, "ticket_age_add")
	case !readOpaque8(&s, &out.Nonce, 0, 255):
		return decodeErr(name, "ticket_nonce")
	case !readOpaque16(&s, &out.Ticket, 1, 1<<16-1):
		return decodeErr(name, "ticket")
	}
	// Note the upper bound: extensions<0..2^16-2>.
	if out.Extensions, err = readExtensions(&s, name, 0, 1<<16-2); err != nil {
		return err
	}
	if !s.Empty() {
		return decodeErr(name, "trailing bytes")
	}
	*m = out
	return nil
}

// KeyUpdateRequest values, RFC 8446 §4.6.3.
const (
	UpdateNotRequested = 0
	UpdateRequested    = 1
)

// KeyUpdate is RFC 8446 §4.6.3. A request_update other than the two defined
// values is an IllegalParameterError ("MUST ... abort the connection with an
// illegal_parameter alert").
type KeyUpdate struct {
	RequestUpdate uint8
}

func (*KeyUpdate) Type() HandshakeType { return TypeKeyUpdate }

func (m *KeyUpdate) Marshal() ([]byte, error) {
	return marshalMessage(TypeKeyUpdate, func(b *builder) { b.AddUint8(m.RequestUpdate) })
}

func (m *KeyUpdate) Unmarshal(msg []byte) error {
	const name = "KeyUpdate"
	s, err := readMessage(msg, TypeKeyUpdate)
	if err != nil {
		return err
	}
	var req uint8
	switch {
	case !s.ReadUint8(&req):
		return decodeErr(name, "request_update")
	case !s.Empty():
		return decodeErr(name, "trailing bytes")
	case req != UpdateNotRequested && req != UpdateRequested:
		return illegalErr(name, "request_update")
	}
	m.RequestUpdate = req
	return nil
}

// MessageHash builds the synthetic message_hash handshake message that
// replaces ClientHello1 in the transcript after a HelloRetryRequest
// (RFC 8446 §4.4.1): msg_type 254, a uint24 length, and Hash(ClientHello1).
// A hash is at most 64 bytes, so the message always fits its uint24 length.
func MessageHash(hashOfClientHello1 []byte) []byte {
	n := len(hashOfClientHello1)
	return append([]byte{byte(TypeMessageHash), 0, 0, byte(n)}, hashOfClientHello1...)
}
