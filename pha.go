package tlsflow

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/tlsflow/tlsflow/internal/handshake"
)

// Post-handshake client authentication (TLS 1.3, RFC 8446 §4.6.2). A
// tlsflow client that has a certificate to show (Config.Certificates or
// GetClientCertificate) offers it in its ClientHello and answers a
// server's later CertificateRequest with the certificate it would have
// chosen in the handshake; a tlsflow server asks with
// RequestClientCertificate. crypto/tls has neither side.

// ErrNoClientCertificate is what RequestClientCertificate returns when a
// client required to show a certificate answered without one. The
// connection stays usable: the application decides (an HTTP server may
// answer 403).
var ErrNoClientCertificate = errors.New("tlsflow: the client sent no certificate")

// phaPoll is how often a RequestClientCertificate that cannot read itself
// (another goroutine is reading, or application data waits for Read)
// looks again.
const phaPoll = 10 * time.Millisecond

// RequestClientCertificate asks the client for a certificate after the
// handshake, and waits for its answer (TLS 1.3 only, to a client that
// offered post-handshake authentication). auth says what the answer must
// be, as Config.ClientAuth does in a handshake: RequestClientCert takes
// any chain, VerifyClientCertIfGiven verifies one if sent (against
// ClientCAs, then VerifyPeerCertificate), the Require modes also need one;
// NoClientCert is read as RequestClientCert. On success
// ConnectionState().PeerCertificates (and VerifiedChains) is the chain
// the client proved it holds, or nil if it sent none where that is
// allowed. A client required to send one that sends none gives
// ErrNoClientCertificate, and the connection goes on; a chain that fails
// verification, a bad signature or Finished end the connection with the
// alert a handshake would send.
//
// The answer arrives among the client's application data: a Read in
// progress on another goroutine reads it (net/http's connection reader,
// say); if none is, RequestClientCertificate reads itself, keeping the
// data for the next Read, but it stops at data the application has not
// read yet. If ctx ends first, the connection is closed, as
// HandshakeContext does. HTTP/2 forbids this exchange (RFC 8740).
func (c *Conn) RequestClientCertificate(ctx context.Context, auth ClientAuthType) error {
	if c.isClient {
		return errors.New("tlsflow: RequestClientCertificate is for servers")
	}
	if err := c.HandshakeContext(ctx); err != nil {
		return err
	}
	if c.post == nil {
		return errors.New("tlsflow: RequestClientCertificate needs TLS 1.3 (TLS 1.2 would renegotiate, which tlsflow never does)")
	}
	done := make(chan error, 1)
	c.stateMu.Lock()
	if c.phaWaiter != nil {
		c.stateMu.Unlock()
		return errors.New("tlsflow: a RequestClientCertificate is already waiting on this connection")
	}
	c.phaWaiter = done
	c.stateMu.Unlock()
	defer func() {
		c.stateMu.Lock()
		c.phaWaiter = nil
		c.stateMu.Unlock()
	}()
	if err := c.sendCertificateRequest(auth); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { c.conn.Close() })
	defer stop()
	return c.awaitClientCertificate(ctx, done)
}

// sendCertificateRequest writes the post-handshake CertificateRequest.
func (c *Conn) sendCertificateRequest(auth ClientAuthType) error {
	requires := auth == RequireAnyClientCert || auth == RequireAndVerifyClientCert
	verify := func(certs []*x509.Certificate) (*handshake.PeerCertificates, error) {
		return c.verifyClientAs(auth, certs)
	}
	c.out.Lock()
	defer c.unlockOut()
	if c.out.err != nil {
		return c.out.err
	}
	if c.out.closed {
		return errors.New("tlsflow: RequestClientCertificate after Close or CloseWrite")
	}
	c.postMu.Lock()
	actions, err := c.post.RequestClientCertificate(requires, verify)
	c.postMu.Unlock()
	if err != nil {
		return fmt.Errorf("tlsflow: %w", err)
	}
	if err := c.applyLocked(actions); err != nil {
		return err
	}
	return c.out.w.Flush()
}

// awaitClientCertificate waits for the client's answer, reading records
// itself while no one else reads and no application data waits for Read.
func (c *Conn) awaitClientCertificate(ctx context.Context, done <-chan error) error {
	for {
		select {
		case err := <-done:
			return err
		default:
		}
		if c.in.TryLock() {
			var err error
			if len(c.in.pending) == 0 && c.in.err == nil {
				err = c.readRecordLocked(nil)
			}
			if err == nil {
				err = c.in.err
			}
			readMore := len(c.in.pending) == 0
			c.in.Unlock()
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("tlsflow: waiting for the client's certificate: %w", ctx.Err())
				}
				return err
			}
			if readMore {
				continue
			}
		}
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			return fmt.Errorf("tlsflow: waiting for the client's certificate: %w", ctx.Err())
		case <-time.After(phaPoll):
		}
	}
}

// clientCertificateAnswered makes a client's proved chain the peer's, and
// wakes RequestClientCertificate. The reader calls it.
func (c *Conn) clientCertificateAnswered(peer *handshake.PeerCertificates, result error) {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	if result == nil && peer != nil {
		c.state.PeerCertificates, c.state.VerifiedChains, c.state.PeerRawPublicKey = peer.Certificates, peer.VerifiedChains, peer.RawPublicKey
	}
	if result != nil {
		result = fmt.Errorf("%w (post-handshake authentication)", ErrNoClientCertificate)
	}
	if c.phaWaiter != nil {
		c.phaWaiter <- result
	}
}

// answerCertificateRequestLocked sends our answer to the server's
// post-handshake CertificateRequest, if one is owed. c.out is held.
func (c *Conn) answerCertificateRequestLocked() error {
	if !c.certificateRequestOwed.Swap(false) || c.out.closed || c.out.err != nil {
		return nil
	}
	c.postMu.Lock()
	actions, err := c.post.AnswerCertificateRequest()
	c.postMu.Unlock()
	if err != nil {
		return err
	}
	return c.applyLocked(actions)
}
