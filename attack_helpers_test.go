package tlsflow_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/pki"
)

// The attack tests (attack_*_test.go) put a hostile testpeer on one end
// of a loopback TCP connection and a real tlsflow Conn, the victim, on
// the other. The victim runs in a goroutine that turns a panic into an
// error, and every wait is bounded, so a test fails cleanly instead of
// crashing or hanging.

// attackTimeout bounds each connection of an attack test.
const attackTimeout = 10 * time.Second

// victimRun is what the tlsflow side does once connected; nil means just
// the handshake.
type victimRun func(c *tlsflow.Conn) error

func handshakeOnlyRun(c *tlsflow.Conn) error { return c.Handshake() }

// runVictim runs run on c in a goroutine and reports its error; a panic
// is reported as an error that says so. The connection is closed when run
// returns, so the hostile peer sees the end at once.
func runVictim(c *tlsflow.Conn, run victimRun) <-chan error {
	if run == nil {
		run = handshakeOnlyRun
	}
	done := make(chan error, 1)
	go func() {
		defer c.Close()
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("tlsflow panicked: %v\n%s", r, debug.Stack())
			}
		}()
		done <- run(c)
	}()
	return done
}

// hostileClient connects a testpeer client to a tlsflow server running run.
func hostileClient(t *testing.T, cfg *tlsflow.Config, run victimRun) (*testpeer.Peer, <-chan error) {
	t.Helper()
	a, b := testpeer.Loopback(t, attackTimeout)
	return testpeer.New(a, testpeer.Client), runVictim(tlsflow.Server(b, cfg), run)
}

// hostileServer connects a tlsflow client running run to a testpeer server.
func hostileServer(t *testing.T, cfg *tlsflow.Config, run victimRun) (*testpeer.Peer, <-chan error) {
	t.Helper()
	a, b := testpeer.Loopback(t, attackTimeout)
	return testpeer.New(b, testpeer.Server), runVictim(tlsflow.Client(a, cfg), run)
}

// victimErr waits for the victim's result.
func victimErr(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		if err != nil && strings.HasPrefix(err.Error(), "tlsflow panicked") {
			t.Fatalf("%v", err)
		}
		return err
	case <-time.After(attackTimeout + 5*time.Second):
		t.Fatal("the tlsflow side did not finish: it hangs")
		return nil
	}
}

// wantVictimAlert waits for the victim and checks it failed with w.
func wantVictimAlert(t *testing.T, who string, done <-chan error, w alertWant) *tlsflow.Error {
	t.Helper()
	err := victimErr(t, done)
	if err == nil {
		t.Errorf("%s: the handshake completed; want it to fail with alert %s", who, w.alert)
		return nil
	}
	return checkAlert(t, who, err, w)
}

// wantPeerAlert checks that what stopped the hostile peer's flow is the
// alert a (at any level), or, if the flow did not stop on an alert, reads
// on for it.
func wantPeerAlert(t *testing.T, p *testpeer.Peer, flowErr error, a alert.Alert) {
	t.Helper()
	var ae *testpeer.AlertError
	if !errors.As(flowErr, &ae) {
		// The flow ended without reading the alert (or stopped on a write
		// to a connection the victim had closed): it may still be there.
		level, got, err := p.ExpectAlert()
		if err != nil {
			t.Errorf("hostile peer: %v (flow: %v); want alert %s", err, flowErr, a)
			return
		}
		flowErr = &testpeer.AlertError{Level: level, Alert: got}
	}
	if !testpeer.IsAlert(flowErr, a) {
		t.Errorf("hostile peer stopped by %v; want alert %s", flowErr, a)
	}
}

// tlsflowClientConfig trusts the shared test CA and verifies "localhost".
func tlsflowClientConfig(maxVersion uint16) *tlsflow.Config {
	return &tlsflow.Config{RootCAs: sharedCerts().ca.Pool, ServerName: "localhost", MaxVersion: maxVersion}
}

// tlsflowServerConfig serves the shared ECDSA certificate.
func tlsflowServerConfig(maxVersion uint16) *tlsflow.Config {
	return &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(sharedCerts().ecdsa)}, MaxVersion: maxVersion}
}

// issuer is the shared test CA as a testpeer.Issuer.
func issuer(ca *pki.Authority) testpeer.Issuer { return testpeer.Issuer{Cert: ca.Cert, Key: ca.Key} }

// versions are the protocol versions most attacks are tried in.
var versions = []struct {
	name string
	v    uint16
}{{"TLS1.2", tlsflow.VersionTLS12}, {"TLS1.3", tlsflow.VersionTLS13}}

// clientHandshake runs the testpeer client flow of version v.
func clientHandshake(p *testpeer.Peer, v uint16, o *testpeer.ClientOptions) error {
	if v == tlsflow.VersionTLS12 {
		return p.ClientHandshake12(o)
	}
	return p.ClientHandshake13(o)
}

// serverHandshake runs the testpeer server flow of version v.
func serverHandshake(p *testpeer.Peer, v uint16, o *testpeer.ServerOptions) error {
	if v == tlsflow.VersionTLS12 {
		return p.ServerHandshake12(o)
	}
	return p.ServerHandshake13(o)
}

// writeThenRead is a victim that completes the handshake, writes one byte
// (after which a TLS 1.3 server has sent its tickets) and reads until
// the peer closes or fails.
func writeThenRead(c *tlsflow.Conn) error {
	if err := c.Handshake(); err != nil {
		return err
	}
	if _, err := c.Write([]byte("x")); err != nil {
		return err
	}
	_, err := io.Copy(io.Discard, c)
	return err
}

// readOneByte is a victim that completes the handshake and reads one byte.
func readOneByte(c *tlsflow.Conn) error {
	if err := c.Handshake(); err != nil {
		return err
	}
	_, err := io.ReadFull(c, make([]byte, 1))
	return err
}

// putExtension puts data as the extension_data of type typ in exts,
// replacing the extension if present.
func putExtension(exts *wire.Extensions, typ wire.ExtensionType, data []byte) {
	for i := range *exts {
		if (*exts)[i].Type == typ {
			(*exts)[i].Data = data
			return
		}
	}
	*exts = append(*exts, wire.Extension{Type: typ, Data: data})
}

// isTimeout reports a deadline that passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
