package probe

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/kex"
	"github.com/tlsflow/tlsflow/internal/limits"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// A probe hello is a ClientHello that tlsflow would never send on a real
// connection (SSL 3.0, a CBC suite, a single signature scheme...). It is
// built with the wire codecs, sent in a plaintext record, and the answer is
// read only as far as the question needs: usually the ServerHello or an
// alert, for a TLS 1.2 signature scheme the ServerKeyExchange. Then the
// probe hangs up. No keys are ever derived from these hellos.

// Protocol versions as they appear on the wire.
const (
	versionSSL30 uint16 = 0x0300
	versionTLS10 uint16 = 0x0301
	versionTLS11 uint16 = 0x0302
	versionTLS12 uint16 = 0x0303
	versionTLS13 uint16 = 0x0304
)

// fallbackSCSV is TLS_FALLBACK_SCSV (RFC 7507 §2); emptyRenegotiationSCSV is
// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 §3.3).
const (
	fallbackSCSV           uint16 = 0x5600
	emptyRenegotiationSCSV uint16 = 0x00FF
)

// helloSpec says what one probe ClientHello offers.
type helloSpec struct {
	version    uint16   // legacy_version; for TLS 1.3 0x0303 plus supported_versions
	suites     []uint16 // in order of preference
	groups     []uint16 // supported_groups; none: no extension
	keyShares  []uint16 // TLS 1.3 key_share entries to generate (nil: an empty client_shares)
	sigSchemes []uint16 // signature_algorithms (TLS 1.2, 1.3); nil: tlsflow's list
	alpn       []string
	serverName string
	// extras asks for the TLS 1.2 extensions whose echo is a finding:
	// extended_master_secret, renegotiation_info, session_ticket,
	// status_request.
	extras bool
	// until is the handshake message to read up to (ServerHello when 0).
	until wire.HandshakeType
	// fragment, if not 0, splits the ClientHello over records of at most
	// this many bytes (RFC 5246 §6.2.1 lets a client do so; servers must
	// reassemble).
	fragment int
	// recordSizeLimit, if not 0, is offered in record_size_limit (RFC 8449).
	recordSizeLimit uint16
}

// defaultSigSchemes are offered when a probe is not about signatures:
// everything a server might hold a certificate for.
var defaultSigSchemes = []uint16{
	0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806,
	0x0401, 0x0501, 0x0601, 0x0203, 0x0201, 0x0303, 0x0301,
}

// clientHello builds the ClientHello for spec.
func (s *helloSpec) clientHello() (*wire.ClientHello, error) {
	ch := &wire.ClientHello{
		Version:            min(s.version, versionTLS12),
		CipherSuites:       s.suites,
		CompressionMethods: []uint8{0},
		Extensions:         wire.Extensions{},
	}
	if _, err := io.ReadFull(rand.Reader, ch.Random[:]); err != nil {
		return nil, err
	}
	if s.version == versionSSL30 {
		// SSL 3.0 had no extensions (RFC 6101 §5.6.1.2); a server that still
		// speaks it may be old enough to choke on them.
		ch.Extensions = nil
		return ch, nil
	}
	if s.version >= versionTLS13 {
		// A 32-byte legacy_session_id, as a middlebox-compatible client
		// sends (RFC 8446 §D.4).
		ch.SessionID = make([]byte, 32)
		if _, err := io.ReadFull(rand.Reader, ch.SessionID); err != nil {
			return nil, err
		}
	}
	e := &ch.Extensions
	if s.serverName != "" {
		e.Add(wire.ExtServerName, wire.ServerName{HostName: s.serverName})
	}
	if len(s.groups) > 0 {
		e.Add(wire.ExtSupportedGroups, wire.SupportedGroups(s.groups))
		e.Add(wire.ExtECPointFormats, wire.ECPointFormats{0}) // uncompressed (RFC 8422 §5.1.2)
	}
	if s.version >= versionTLS12 {
		schemes := s.sigSchemes
		if schemes == nil {
			schemes = defaultSigSchemes
		}
		e.Add(wire.ExtSignatureAlgorithms, wire.SignatureAlgorithms(schemes))
	}
	if len(s.alpn) > 0 {
		e.Add(wire.ExtALPN, wire.ALPN(s.alpn))
	}
	if s.recordSizeLimit != 0 {
		e.Add(wire.ExtRecordSizeLimit, wire.RecordSizeLimit(s.recordSizeLimit))
	}
	if s.extras {
		e.AddEmpty(wire.ExtExtendedMasterSecret)
		e.Add(wire.ExtRenegotiationInfo, wire.RenegotiationInfo{})
		e.AddEmpty(wire.ExtSessionTicket)
		// status_request: CertificateStatusType ocsp(1), no responder IDs,
		// no extensions (RFC 6066 §8).
		e.Add(wire.ExtStatusRequest, rawExtension{1, 0, 0, 0, 0})
	}
	if s.version >= versionTLS13 {
		e.Add(wire.ExtSupportedVersions, wire.SupportedVersionsClient{versionTLS13})
		shares := wire.KeyShareClientHello{}
		for _, g := range s.keyShares {
			ks, err := kex.NewKeyShare(nil, g, rand.Reader)
			if err != nil {
				return nil, fmt.Errorf("key share for %s: %w", kex.Name(g), err)
			}
			shares = append(shares, wire.KeyShareEntry{Group: g, KeyExchange: ks.Public()})
		}
		e.Add(wire.ExtKeyShare, shares)
		e.Add(wire.ExtPSKKeyExchangeModes, wire.PSKKeyExchangeModes{1}) // psk_dhe_ke
	}
	return ch, nil
}

// rawExtension is extension_data the wire package has no type for.
type rawExtension []byte

func (r rawExtension) Marshal() ([]byte, error) { return r, nil }

// answer is what a server said to a probe hello.
type answer struct {
	hello *wire.ServerHello // nil when the server answered with an alert
	alert *alertRecord
	// chain is the TLS 1.2 Certificate, skx the ServerKeyExchange, when the
	// spec asked to read that far and the server sent them.
	chain [][]byte
	skx   *wire.ServerKeyExchange
}

// alertRecord is a received alert (RFC 5246 §7.2).
type alertRecord struct{ level, description uint8 }

// Alert descriptions the probes look for (RFC 8446 §6, RFC 7507 §2).
const (
	alertHandshakeFailure    = 40
	alertProtocolVersion     = 70
	alertInappropriateFallbk = 86
)

func (a *alertRecord) String() string { return alert.Alert(a.description).String() }

// errNoAnswer wraps every way a server can fail to answer a hello with a
// ServerHello or an alert: silence until the deadline, a closed
// connection, bytes that are not TLS.
var errNoAnswer = errors.New("no ServerHello or alert")

// readAnswer reads records from r until it has the ServerHello (and what
// spec.until asks for) or an alert. Everything it reads is bounded: a
// handshake message by the limits policy as its header arrives (so an
// enormous Certificate costs nothing), the number of records by
// maxAnswerRecords, the time by the connection's deadline.
func readAnswer(r *record.Reader, spec *helloSpec) (*answer, error) {
	var hb record.HandshakeBuffer
	hb.SetLimit(limits.Default.HandshakeLimit)
	a := &answer{}
	for range maxAnswerRecords {
		typ, payload, err := r.ReadRecord()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errNoAnswer, err)
		}
		switch typ {
		case record.Alert:
			if len(payload) != 2 {
				return nil, fmt.Errorf("%w: an alert record of %d bytes", errNoAnswer, len(payload))
			}
			if a.hello != nil {
				return a, nil // an alert after the ServerHello: keep what came
			}
			a.alert = &alertRecord{payload[0], payload[1]}
			return a, nil
		case record.Handshake:
			hb.Add(payload)
		default:
			return nil, fmt.Errorf("%w: a %s record before the ServerHello", errNoAnswer, typ)
		}
		for {
			msg, ok, err := hb.Next()
			if err != nil {
				return nil, fmt.Errorf("%w: %w", errNoAnswer, err)
			}
			if !ok {
				break
			}
			done, err := a.take(msg, spec)
			if err != nil || done {
				return a, err
			}
		}
	}
	return nil, fmt.Errorf("%w: more than %d records", errNoAnswer, maxAnswerRecords)
}

// maxAnswerRecords bounds the records a probe reads for one answer: a
// ServerHello, Certificate, status and ServerKeyExchange fit in far fewer,
// even split into small records.
const maxAnswerRecords = 64

// take handles one handshake message of the answer; done says the probe
// has what it asked for.
func (a *answer) take(msg []byte, spec *helloSpec) (done bool, err error) {
	if a.hello == nil {
		sh := &wire.ServerHello{}
		if err := sh.Unmarshal(msg); err != nil {
			return false, fmt.Errorf("%w: %w", errNoAnswer, err)
		}
		a.hello = sh
		return spec.until == 0 || sh.Version > versionTLS12 || sh.Extensions.Has(wire.ExtSupportedVersions), nil
	}
	t, _, _ := wire.ParseHeader(msg)
	switch t {
	case wire.TypeCertificate:
		c := &wire.Certificate{}
		if err := c.Unmarshal(msg); err == nil {
			a.chain = c.Chain
		}
	case wire.TypeServerKeyExchange:
		skx := &wire.ServerKeyExchange{}
		if err := skx.Unmarshal(msg); err == nil {
			a.skx = skx
		}
	case wire.TypeServerHelloDone:
		return true, nil
	}
	return t == spec.until, nil
}
