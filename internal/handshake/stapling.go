package handshake

import (
	"errors"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// OCSP stapling (RFC 6066 §8) and signed certificate timestamps (RFC 6962
// §3.3): a client asks for both in every ClientHello, as crypto/tls does;
// a server that has them for its certificate sends them — in TLS 1.2 the
// staple in a CertificateStatus message after Certificate (acknowledged by
// an empty status_request in ServerHello) and the timestamps in ServerHello,
// in TLS 1.3 both as extensions of the leaf's CertificateEntry (RFC 8446
// §4.4.2.1). The client keeps what it got in State, and hands it with the
// verified chain to Config.CheckStaple (the connection's OCSP policy) as
// soon as it knows whether a staple comes.

// requestStatus adds the client's requests to a ClientHello.
func requestStatus(h *wire.ClientHello) {
	h.Extensions.Add(wire.ExtStatusRequest, wire.OCSPStatusRequest)
	h.Extensions.AddEmpty(wire.ExtSCT)
}

// wantsStaple reports whether the ClientHello asks for an OCSP response
// this server has for cert.
func (s *Server) wantsStaple() bool {
	if s.cert == nil || len(s.cert.OCSPStaple) == 0 {
		return false
	}
	var req wire.StatusRequest
	found, err := s.hello.Extensions.DecodeWith(wire.ExtStatusRequest, req.Unmarshal)
	return found && err == nil && req.OCSP()
}

// wantsSCTs reports whether the ClientHello asks for timestamps this
// server has for cert (the request is an empty extension, RFC 6962 §3.3.1).
func (s *Server) wantsSCTs() bool {
	return s.cert != nil && len(s.cert.SignedCertificateTimestamps) > 0 && s.hello.Extensions.Has(wire.ExtSCT)
}

// leafStatus13 is the extensions of the TLS 1.3 leaf entry: what the
// client asked for and this server has.
func (s *Server) leafStatus13() wire.Extensions {
	var exts wire.Extensions
	if s.wantsStaple() {
		exts.Add(wire.ExtStatusRequest, wire.CertificateStatusExt{OCSPResponse: s.cert.OCSPStaple})
	}
	if s.wantsSCTs() {
		exts.Add(wire.ExtSCT, wire.SignedCertificateTimestamps(s.cert.SignedCertificateTimestamps))
	}
	return exts
}

// statusInServerHello12 adds the TLS 1.2 ServerHello's answers: an empty
// status_request when a CertificateStatus will follow, the timestamps.
func (s *Server) statusInServerHello12(sh *wire.ServerHello) {
	if s.s12.resumed {
		return // no certificate in an abbreviated handshake
	}
	if s.wantsStaple() {
		sh.Extensions.AddEmpty(wire.ExtStatusRequest)
	}
	if s.wantsSCTs() {
		sh.Extensions.Add(wire.ExtSCT, wire.SignedCertificateTimestamps(s.cert.SignedCertificateTimestamps))
	}
}

// sendCertificateStatus12 sends the staple after Certificate, if promised.
func (s *Server) sendCertificateStatus12() error {
	if !s.wantsStaple() {
		return nil
	}
	return s.send(&wire.CertificateStatusMessage{CertificateStatus: wire.CertificateStatus{OCSPResponse: s.cert.OCSPStaple}}, 3)
}

// readStatusInServerHello12 reads the TLS 1.2 ServerHello's answers: an
// acknowledgement must be empty (RFC 6066 §8), the timestamps well formed.
func (c *Client) readStatusInServerHello12(sh *wire.ServerHello) error {
	promised, err := sh.Extensions.Empty(wire.ExtStatusRequest)
	if err != nil {
		return alert.Errorf(alert.DecodeError, 2, "ServerHello", "status_request: %w", err)
	}
	c.c12.statusPromised = promised
	var scts wire.SignedCertificateTimestamps
	if found, err := sh.Extensions.DecodeWith(wire.ExtSCT, scts.Unmarshal); err != nil {
		return alert.Errorf(alert.DecodeError, 2, "ServerHello", "signed_certificate_timestamp: %w", err)
	} else if found {
		c.state.SignedCertificateTimestamps = scts
	}
	return nil
}

// readCertificateStatus12 takes the CertificateStatus a server that
// acknowledged status_request may send after Certificate ("a server MAY
// also choose not to send" it, RFC 6066 §8); any other message goes on to
// next, once the policy has judged the missing staple: an acknowledgement
// must not stand in for the staple a must-staple certificate needs.
func (c *Client) readCertificateStatus12(next clientState) clientState {
	return func(c *Client, msg []byte) (clientState, error) {
		if len(msg) == 0 || wire.HandshakeType(msg[0]) != wire.TypeCertificateStatus {
			if err := c.checkStaple(3, "Certificate"); err != nil {
				return nil, err
			}
			return next(c, msg)
		}
		cs := new(wire.CertificateStatusMessage)
		if err := parse(cs, msg, 3); err != nil {
			return nil, err
		}
		c.received(cs, msg, 3)
		c.state.OCSPResponse = cs.OCSPResponse
		if err := c.checkStaple(3, "CertificateStatus"); err != nil {
			return nil, err
		}
		return next, nil
	}
}

// checkStaple hands the server's staple (or its absence) and chain to the
// connection's OCSP policy, if it has one. message names where a failure
// is reported: the CertificateStatus, or the Certificate no staple followed.
func (c *Client) checkStaple(step int, message string) error {
	if c.cfg.CheckStaple == nil || c.outerOnly {
		return nil
	}
	peer := &PeerCertificates{Certificates: c.state.PeerCertificates, VerifiedChains: c.state.VerifiedChains}
	checked, err := c.cfg.CheckStaple(peer, c.state.OCSPResponse)
	if err != nil {
		var ae *alert.Error
		if errors.As(err, &ae) {
			ae.Step, ae.Message = step, message
			return ae
		}
		return alert.Errorf(alert.BadCertificateStatusResponse, step, message, "%w", err)
	}
	if checked {
		c.note(trace.KindVerified, step, "OCSP staple")
	}
	return nil
}

// readLeafStatus13 reads the staple and timestamps from the server's TLS
// 1.3 leaf entry (checkEntryExtensions has made sure they were asked for).
func (c *Client) readLeafStatus13(cert *wire.Certificate13) error {
	exts := cert.Entries[0].Extensions
	var status wire.CertificateStatusExt
	if found, err := exts.DecodeWith(wire.ExtStatusRequest, status.Unmarshal); err != nil {
		return alert.Errorf(alert.DecodeError, 3, "Certificate", "status_request: %w", err)
	} else if found {
		c.state.OCSPResponse = status.OCSPResponse
	}
	var scts wire.SignedCertificateTimestamps
	if found, err := exts.DecodeWith(wire.ExtSCT, scts.Unmarshal); err != nil {
		return alert.Errorf(alert.DecodeError, 3, "Certificate", "signed_certificate_timestamp: %w", err)
	} else if found {
		c.state.SignedCertificateTimestamps = scts
	}
	if (c.state.OCSPResponse != nil || c.state.SignedCertificateTimestamps != nil) && c.tracing() {
		c.note(trace.KindNote, 3, "Certificate", "stapled", stapledWhat(c.state))
	}
	return nil
}

func stapledWhat(st *State) string {
	switch {
	case st.OCSPResponse != nil && st.SignedCertificateTimestamps != nil:
		return "an OCSP response and signed certificate timestamps"
	case st.OCSPResponse != nil:
		return "an OCSP response"
	}
	return "signed certificate timestamps"
}
