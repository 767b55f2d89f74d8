package handshake

import (
	"crypto/hpke"
	"fmt"
	"slices"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// The server's side of Encrypted Client Hello, in shared mode (the
// client-facing and the backend server are one, draft-ietf-tls-esni-25
// §3.1): open the outer hello's payload with one of our keys and go on with
// the inner hello, confirming that in the ServerHello's random (§7.2) or
// the HelloRetryRequest (§7.2.1); or, if nothing opens it, go on with the
// outer hello and offer the retry configurations (§7.1).

// echServer is what the server decided about a client's ECH offer.
type echServer struct {
	state       echState
	recipient   *hpke.Recipient // opens the second outer hello's payload too (§7.1.1)
	configID    uint8
	suite       wire.HPKESymmetricCipherSuite
	innerRandom []byte
	retry       []byte // our ECHConfigList of retry configurations, nil if none
	backend     bool   // split mode: the client-facing server decrypted the hello (§7.2)
}

// openECH looks at the first ClientHello's encrypted_client_hello. It
// returns the inner hello and its bytes when one of our keys opens it, and
// nil when the handshake goes on with outer (no ECH offered, none
// configured, or a payload none of our keys opens: then the client gets
// our retry configurations).
func (s *Server) openECH(outer *wire.ClientHello) (*wire.ClientHello, []byte, error) {
	data, found := outer.Extensions.Find(wire.ExtEncryptedClientHello)
	if !found {
		return nil, nil, nil
	}
	var ext wire.ECHClientHello
	if err := ext.Unmarshal(data); err != nil {
		return nil, nil, helloError(err, "encrypted_client_hello")
	}
	var keys []ECHKey
	if s.cfg.ECHKeys != nil {
		var err error
		if keys, err = s.cfg.ECHKeys(s.info); err != nil {
			return nil, nil, alert.Errorf(alert.InternalError, 1, "ClientHello", "finding the ECH keys: %w", err)
		}
	}
	if ext.Type == wire.ECHInner {
		if len(keys) > 0 {
			// §7: "A shared mode server which receives a ClientHello with
			// ECHClientHello.type of inner MUST abort with an
			// "illegal_parameter" alert".
			return nil, nil, alert.Errorf(alert.IllegalParameter, 1, "ClientHello",
				"encrypted_client_hello of type inner in a ClientHello from the network (draft-ietf-tls-esni-25 §7)")
		}
		// Without keys of our own we are a backend server behind a
		// client-facing one that opened this hello (split mode, §7.2):
		// it is the inner hello, and we confirm it.
		s.ech = &echServer{state: echAccepted, backend: true, innerRandom: outer.Random[:]}
		s.note(trace.KindNote, 1, "ClientHello", "encrypted_client_hello",
			"inner: a client-facing server decrypted this hello; this server confirms ECH as its backend (draft-ietf-tls-esni-25 §7.2)")
		return nil, nil, nil
	}
	if len(keys) == 0 {
		return nil, nil, nil
	}
	var err error
	e := &echServer{state: echRejected, configID: ext.ConfigID, suite: ext.CipherSuite}
	if e.retry, err = retryConfigs(keys); err != nil {
		return nil, nil, internalError(1, "ClientHello", err)
	}
	s.ech = e
	aad, err := echAAD(outer, ext)
	if err != nil {
		return nil, nil, helloError(err, "ClientHello")
	}
	for _, k := range keys {
		if k.Config.ConfigID != ext.ConfigID || !slices.Contains(k.Config.CipherSuites, ext.CipherSuite) {
			continue
		}
		_, kdf, aead, err := hpkeSuite(k.Config.KEM, ext.CipherSuite)
		if err != nil {
			continue
		}
		r, err := hpke.NewRecipient(ext.Enc, k.PrivateKey, kdf, aead, echInfo(k.Config.Raw))
		if err != nil {
			continue
		}
		plaintext, err := r.Open(aad, ext.Payload)
		if err != nil {
			continue // §7.1: try the next candidate
		}
		inner, raw, err := s.decodeInner(outer, plaintext)
		if err != nil {
			return nil, nil, err
		}
		e.state, e.recipient, e.innerRandom = echAccepted, r, inner.Random[:]
		return inner, raw, nil
	}
	s.note(trace.KindNote, 1, "ClientHello", "encrypted_client_hello",
		fmt.Sprintf("no key of this server opens it (config_id %d): going on with the outer ClientHello, retry configurations offered", ext.ConfigID))
	return nil, nil, nil
}

// openECH2 opens the second outer hello with the first one's HPKE context
// (§7.1.1): same config_id and suite, no enc; anything else ends the
// handshake.
func (s *Server) openECH2(outer *wire.ClientHello, raw []byte) (*wire.ClientHello, []byte, error) {
	data, found := outer.Extensions.Find(wire.ExtEncryptedClientHello)
	if !found {
		return nil, nil, alert.Errorf(alert.MissingExtension, 1, "ClientHello",
			"the second ClientHello drops encrypted_client_hello, which the first one's was accepted with (draft-ietf-tls-esni-25 §7.1.1)")
	}
	var ext wire.ECHClientHello
	if err := ext.Unmarshal(data); err != nil {
		return nil, nil, helloError(err, "encrypted_client_hello")
	}
	e := s.ech
	if e.backend {
		// The second inner hello, decrypted by the client-facing server.
		if ext.Type != wire.ECHInner {
			return nil, nil, alert.Errorf(alert.IllegalParameter, 1, "ClientHello", "the second ClientHello's encrypted_client_hello is not of type inner, as the first one's was")
		}
		return outer, raw, nil
	}
	if ext.Type != wire.ECHOuter || ext.ConfigID != e.configID || ext.CipherSuite != e.suite || len(ext.Enc) != 0 {
		return nil, nil, alert.Errorf(alert.IllegalParameter, 1, "ClientHello",
			"the second ClientHello's encrypted_client_hello must keep config_id and cipher_suite and have an empty enc (draft-ietf-tls-esni-25 §7.1.1)")
	}
	aad, err := echAAD(outer, ext)
	if err != nil {
		return nil, nil, helloError(err, "ClientHello")
	}
	plaintext, err := e.recipient.Open(aad, ext.Payload)
	if err != nil {
		return nil, nil, alert.Errorf(alert.DecryptError, 1, "ClientHello", "the second ClientHello's encrypted_client_hello does not open: %w", err)
	}
	return s.decodeInner(outer, plaintext)
}

// echAAD is §5.2's ClientHelloOuterAAD: the outer hello with the payload
// replaced by as many zeros.
func echAAD(outer *wire.ClientHello, ext wire.ECHClientHello) ([]byte, error) {
	zeroed := ext
	zeroed.Payload = make([]byte, len(ext.Payload))
	c := *outer
	c.Extensions = replaceExtension(append(wire.Extensions(nil), outer.Extensions...), wire.ExtEncryptedClientHello, zeroed)
	return c.Body()
}

// decodeInner rebuilds ClientHelloInner from EncodedClientHelloInner
// (§5.1): the outer session ID, ech_outer_extensions replaced by the outer
// extensions it names — in one pass over the outer hello, so a hostile
// list cannot make it quadratic or larger than both hellos together — and
// checks what §7.1 requires of the result.
func (s *Server) decodeInner(outer *wire.ClientHello, plaintext []byte) (*wire.ClientHello, []byte, error) {
	var enc wire.EncodedClientHelloInner
	if err := enc.Unmarshal(plaintext); err != nil {
		return nil, nil, helloError(err, "EncodedClientHelloInner")
	}
	inner := enc.ClientHello
	inner.SessionID = outer.SessionID
	exts := make(wire.Extensions, 0, len(inner.Extensions))
	for _, ext := range inner.Extensions {
		if ext.Type != wire.ExtECHOuterExtensions {
			exts = append(exts, ext)
			continue
		}
		var refs wire.OuterExtensions
		if err := refs.Unmarshal(ext.Data); err != nil {
			return nil, nil, helloError(err, "ech_outer_extensions")
		}
		j := 0
		for _, t := range refs {
			if t == wire.ExtEncryptedClientHello {
				return nil, nil, alert.Errorf(alert.IllegalParameter, 1, "ClientHello", "ech_outer_extensions names encrypted_client_hello (draft-ietf-tls-esni-25 §5.1)")
			}
			for j < len(outer.Extensions) && outer.Extensions[j].Type != t {
				j++
			}
			if j == len(outer.Extensions) {
				return nil, nil, alert.Errorf(alert.IllegalParameter, 1, "ClientHello",
					"ech_outer_extensions names %s, which the outer ClientHello lacks, or names extensions twice or out of order (draft-ietf-tls-esni-25 §5.1)", t)
			}
			exts = append(exts, outer.Extensions[j])
			j++
		}
	}
	inner.Extensions = exts
	raw, err := inner.Marshal()
	if err != nil {
		return nil, nil, alert.Errorf(alert.DecodeError, 1, "ClientHello", "the inner ClientHello: %w", err)
	}
	// Parsing the rebuilt hello again applies every rule of a ClientHello
	// to it: an extension present twice (once inside, once referenced),
	// pre_shared_key not last.
	checked := new(wire.ClientHello)
	if err := parse(checked, raw, 1); err != nil {
		return nil, nil, err
	}
	var mark wire.ECHClientHello
	if found, err := checked.Extensions.DecodeWith(wire.ExtEncryptedClientHello, mark.Unmarshal); !found || err != nil || mark.Type != wire.ECHInner {
		return nil, nil, alert.Errorf(alert.IllegalParameter, 1, "ClientHello", "the inner ClientHello lacks encrypted_client_hello of type inner (draft-ietf-tls-esni-25 §7.1)")
	}
	var versions wire.SupportedVersionsClient
	if found, err := checked.Extensions.DecodeWith(wire.ExtSupportedVersions, versions.Unmarshal); !found || err != nil ||
		slices.ContainsFunc(versions, func(v uint16) bool { return v < suites.VersionTLS13 && !isGREASE(v) }) {
		return nil, nil, alert.Errorf(alert.IllegalParameter, 1, "ClientHello", "the inner ClientHello offers TLS 1.2 or below (draft-ietf-tls-esni-25 §7.1)")
	}
	s.emit(trace.Event{Kind: trace.KindNote, Direction: trace.Local, Step: 1, Message: "ClientHelloInner",
		Fields: append([]trace.Field{{Name: "encrypted_client_hello", Value: "opened with this server's ECH key: the handshake goes on with this inner ClientHello"}}, describe(checked)...)})
	return checked, raw, nil
}

// isGREASE reports an RFC 8701 GREASE value (0x?a?a).
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// retryConfigs is the ECHConfigList of the keys marked SendAsRetry.
func retryConfigs(keys []ECHKey) ([]byte, error) {
	var configs [][]byte
	for _, k := range keys {
		if k.SendAsRetry {
			configs = append(configs, k.Config.Raw)
		}
	}
	if len(configs) == 0 {
		return nil, nil
	}
	return wire.MarshalECHConfigList(configs...)
}

// echAccepted reports whether this handshake runs on the inner hello.
func (s *Server) echAccepted() bool { return s.ech != nil && s.ech.state == echAccepted }

// confirmECH writes §7.2's accept_confirmation into the last eight bytes
// of the ServerHello's random, over the transcript up to it.
func (s *Server) confirmECH(sh *wire.ServerHello) error {
	clear(sh.Random[24:])
	raw, err := sh.Marshal()
	if err != nil {
		return internalError(2, "ServerHello", err)
	}
	t := s.transcript.Clone()
	t.Write(raw)
	copy(sh.Random[24:], echConfirmation(s.hash(s.s13.suite.Hash), s.ech.innerRandom, echAcceptLabel, t.Sum()))
	// A backend only confirms: the client-facing server accepted ECH.
	s.state.ECHAccepted = !s.ech.backend
	return nil
}

// confirmECHInHRR adds §7.2.1's hrr_accept_confirmation to a
// HelloRetryRequest, over the transcript with ClientHelloInner1 replaced
// by its message_hash.
func (s *Server) confirmECHInHRR(hrr *wire.ServerHello) error {
	hrr.Extensions.Add(wire.ExtEncryptedClientHello, wire.ECHHelloRetryRequest{})
	raw, err := hrr.Marshal()
	if err != nil {
		return internalError(2, "HelloRetryRequest", err)
	}
	t := s.transcript.Clone()
	t.Write(raw)
	var conf wire.ECHHelloRetryRequest
	copy(conf[:], echConfirmation(s.hash(s.s13.suite.Hash), s.ech.innerRandom, echHRRAcceptLabel, t.Sum()))
	hrr.Extensions = replaceExtension(hrr.Extensions, wire.ExtEncryptedClientHello, conf)
	return nil
}

// echRetry adds the retry configurations to EncryptedExtensions when the
// client offered ECH and we could not open it (§7.1).
func (s *Server) echRetry(ee *wire.EncryptedExtensions) {
	if s.ech != nil && s.ech.state == echRejected && s.ech.retry != nil {
		ee.Extensions.Add(wire.ExtEncryptedClientHello, wire.ECHEncryptedExtensions{RetryConfigs: s.ech.retry})
	}
}
