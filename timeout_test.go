package tlsflow_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

// TestStalledHandshakeTimesOut: a client that opens TCP and then says
// nothing (or stops after its ClientHello) cannot hold a server: the
// handshake fails after Config.HandshakeTimeout with an error that says so.
func TestStalledHandshakeTimesOut(t *testing.T) {
	c := sharedCerts()
	for _, sendHello := range []bool{false, true} {
		name := "silent-client"
		if sendHello {
			name = "client-stops-after-ClientHello"
		}
		t.Run(name, func(t *testing.T) {
			srvCfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, HandshakeTimeout: 200 * time.Millisecond}
			ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", srvCfg)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			raw, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if sendHello {
				// A real ClientHello, then silence: the client never answers the server's flight.
				go tlsflow.Client(&stallAfterWrite{Conn: raw}, &tlsflow.Config{InsecureSkipVerify: true}).Handshake()
			}
			conn, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = conn.(*tlsflow.Conn).Handshake()
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Fatalf("the handshake took %v; want about 200ms", elapsed)
			}
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") {
				t.Fatalf("error = %v; want a timeout wrapping context.DeadlineExceeded", err)
			}
			if sendHello && !strings.Contains(err.Error(), "after") {
				t.Errorf("error %q does not say where the handshake stalled", err)
			}
		})
	}
}

// stallAfterWrite passes writes through but delivers no read: it swallows
// what arrives until the connection closes.
type stallAfterWrite struct{ net.Conn }

func (s *stallAfterWrite) Read([]byte) (int, error) {
	_, err := io.Copy(io.Discard, s.Conn)
	if err == nil {
		err = io.EOF
	}
	return 0, err
}

func TestServerHandshakeTimeoutDefaultsToTenSeconds(t *testing.T) {
	var cfg tlsflow.Config
	if got := tlsflow.HandshakeTimeoutOf(&cfg, false); got != 10*time.Second {
		t.Errorf("server default = %v; want 10s", got)
	}
	if got := tlsflow.HandshakeTimeoutOf(&cfg, true); got != 0 {
		t.Errorf("client default = %v; want none", got)
	}
	cfg.HandshakeTimeout = -1
	if got := tlsflow.HandshakeTimeoutOf(&cfg, false); got > 0 {
		t.Errorf("negative HandshakeTimeout gives %v; want no bound", got)
	}
}
