package capture

import (
	"bytes"

	"github.com/tlsflow/tlsflow/internal/handshake"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// message handles one whole handshake message of side s: decoded with the
// engines' codecs and described as they describe it.
func (o *observer) message(s int, raw []byte) {
	sd := &o.sides[s]
	typ := wire.HandshakeType(raw[0])
	m := o.newMessage(typ, s)
	name := typ.String()
	var fields []trace.Field
	var err error = errUnknownMessage
	if m != nil {
		err = m.Unmarshal(raw)
	}
	if err != nil {
		fields = []trace.Field{{Name: "error", Value: "not decoded: " + err.Error()}}
	} else {
		name = handshake.MessageName(m)
		fields = handshake.Describe(m)
	}

	if sh, ok := m.(*wire.ServerHello); ok && err == nil && s == serverSide {
		o.serverHello(sh)
	}
	if ch, ok := m.(*wire.ClientHello); ok && err == nil && s == clientSide && o.clientRandom == nil {
		o.clientRandom = bytes.Clone(ch.Random[:])
	}
	if ske, ok := m.(*wire.ServerKeyExchange); ok && err == nil {
		o.group = suites.GroupName(ske.Group)
	}
	o.emit(trace.Event{Side: sd.who, Kind: trace.KindMessage, Direction: trace.Sent,
		Step: o.step(typ, s), Message: name, Fields: fields, Raw: raw})

	tls13 := o.version() == suites.VersionTLS13
	switch {
	case typ == wire.TypeServerHello && err == nil && tls13 && name != "HelloRetryRequest":
		o.handshakeKeys13()
	case typ == wire.TypeServerHello && err == nil && !tls13:
		o.keys12()
	case typ == wire.TypeFinished && tls13 && !sd.finished:
		sd.finished = true
		o.applicationKeys13(s)
		o.handshakeDone(s)
	case typ == wire.TypeFinished && !sd.finished:
		sd.finished = true
		o.handshakeDone(s)
	case typ == wire.TypeKeyUpdate && tls13:
		o.keyUpdate13(s)
	}
}

var errUnknownMessage = errorString("a message type this reader does not decode")

type errorString string

func (e errorString) Error() string { return string(e) }

// newMessage is the codec for a message of type typ from side s, as the
// version and suite chosen so far shape it; nil for a type without one.
func (o *observer) newMessage(typ wire.HandshakeType, s int) wire.Message {
	tls13 := o.version() == suites.VersionTLS13
	switch typ {
	case wire.TypeHelloRequest:
		return &wire.HelloRequest{}
	case wire.TypeClientHello:
		return &wire.ClientHello{}
	case wire.TypeServerHello:
		return &wire.ServerHello{}
	case wire.TypeNewSessionTicket:
		if tls13 {
			return &wire.NewSessionTicket13{}
		}
		return &wire.NewSessionTicket{}
	case wire.TypeEndOfEarlyData:
		return &wire.EndOfEarlyData{}
	case wire.TypeEncryptedExtensions:
		return &wire.EncryptedExtensions{}
	case wire.TypeCertificate:
		if tls13 {
			return &wire.Certificate13{}
		}
		return &wire.Certificate{}
	case wire.TypeServerKeyExchange:
		return &wire.ServerKeyExchange{}
	case wire.TypeCertificateRequest:
		if tls13 {
			return &wire.CertificateRequest13{}
		}
		return &wire.CertificateRequest{}
	case wire.TypeServerHelloDone:
		return &wire.ServerHelloDone{}
	case wire.TypeCertificateVerify:
		return &wire.CertificateVerify{}
	case wire.TypeClientKeyExchange:
		if o.suite != nil && o.suite.KeyExchange == suites.KeyExchangeRSA {
			return &wire.ClientKeyExchangeRSA{}
		}
		return &wire.ClientKeyExchangeECDHE{}
	case wire.TypeFinished:
		return &wire.Finished{}
	case wire.TypeCertificateStatus:
		return &wire.CertificateStatusMessage{}
	case wire.TypeKeyUpdate:
		return &wire.KeyUpdate{}
	case wire.TypeCompressedCertificate:
		return &wire.CompressedCertificate{}
	}
	return nil
}

// serverHello learns the version, the suite and the server's random.
func (o *observer) serverHello(sh *wire.ServerHello) {
	version := sh.Version
	var sv wire.SupportedVersionServer
	if ok, err := sh.Extensions.Decode(wire.ExtSupportedVersions, &sv); ok && err == nil {
		version = uint16(sv) // RFC 8446 §4.2.1: the real version
	}
	o.conn.Version, o.conn.CipherSuite = version, sh.CipherSuite
	o.suite = suites.Lookup(sh.CipherSuite)
	if o.suite != nil && o.suite.Version != version {
		o.suite = nil
	}
	if sh.IsHelloRetryRequest() {
		return // the ServerHello that follows has the random and the keys
	}
	o.serverRandom = bytes.Clone(sh.Random[:])
	var ks wire.KeyShareServerHello
	if ok, err := sh.Extensions.Decode(wire.ExtKeyShare, &ks); ok && err == nil {
		o.group = suites.GroupName(ks.Group)
	}
}

// step is the course note's step of a message (docs/FLOW.md), as the
// engines number the messages they send and receive.
func (o *observer) step(typ wire.HandshakeType, s int) int {
	tls13 := o.version() == suites.VersionTLS13
	after := o.sides[clientSide].finished && o.sides[serverSide].finished
	switch typ {
	case wire.TypeClientHello:
		return 1
	case wire.TypeServerHello, wire.TypeEncryptedExtensions:
		return 2
	case wire.TypeServerKeyExchange, wire.TypeCertificateStatus, wire.TypeServerHelloDone:
		if typ == wire.TypeServerHelloDone {
			return 4
		}
		return 3
	case wire.TypeClientKeyExchange:
		return 5
	case wire.TypeEndOfEarlyData:
		return 6
	case wire.TypeNewSessionTicket:
		if tls13 {
			return 8
		}
		return 7
	case wire.TypeKeyUpdate, wire.TypeHelloRequest:
		return 8
	}
	if tls13 && after {
		return 8 // post-handshake authentication
	}
	switch typ {
	case wire.TypeCertificateRequest:
		return 3
	case wire.TypeCertificate, wire.TypeCompressedCertificate, wire.TypeCertificateVerify:
		if s == serverSide {
			return 3
		}
		return 5
	case wire.TypeFinished:
		return 7
	}
	return -1
}

// handshakeDone sums the connection up once both sides' Finished were
// read (in TLS 1.2 without keys, both ChangeCipherSpecs stand for them),
// as the side that completed it would.
func (o *observer) handshakeDone(s int) {
	if !o.sides[clientSide].finished || !o.sides[serverSide].finished {
		return
	}
	fields := []trace.Field{
		{Name: "version", Value: suites.VersionName(o.conn.Version)},
		{Name: "cipher_suite", Value: suites.Name(o.conn.CipherSuite)},
	}
	if o.group != "" {
		fields = append(fields, trace.Field{Name: "group", Value: o.group})
	}
	o.emit(trace.Event{Side: o.sides[s].who, Kind: trace.KindHandshakeDone, Direction: trace.Local, Step: 7, Fields: fields})
}
