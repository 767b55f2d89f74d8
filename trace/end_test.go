package trace_test

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/trace"
)

// TestEndOfTellsHowAConnectionEnded runs a tlsflow client into each way a
// handshake can end and classifies the error it returns: a peer that just
// closed TCP is not one that sent close_notify, a reset is a reset.
func TestEndOfTellsHowAConnectionEnded(t *testing.T) {
	ca := pki.MustNewCA("end test CA", pki.ECDSAP256)
	other := pki.MustNewCA("end test other CA", pki.ECDSAP256)
	leaf := ca.MustServer(pki.ECDSAP256, "localhost")
	good := &tlsflow.Config{Certificates: []tlsflow.Certificate{{Certificate: leaf.Chain, PrivateKey: leaf.Key}}}

	// rawPeer answers the ClientHello with what answer does.
	rawPeer := func(t *testing.T, answer func(c *net.TCPConn)) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.Read(make([]byte, 4096))
			answer(c.(*net.TCPConn))
		}()
		return ln.Addr().String()
	}
	tlsPeer := func(t *testing.T, cfg *tlsflow.Config, serverErr chan<- error) string {
		ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			serverErr <- c.(*tlsflow.Conn).Handshake()
		}()
		return ln.Addr().String()
	}
	closedPort := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}

	for _, tc := range []struct {
		name string
		addr func(t *testing.T, serverErr chan error) string
		cfg  *tlsflow.Config
		want trace.End
		// wantServer is the server's end, for a tlsflow server.
		wantServer trace.End
	}{
		{"the client refuses the certificate", func(t *testing.T, se chan error) string { return tlsPeer(t, good, se) },
			&tlsflow.Config{RootCAs: other.Pool, ServerName: "localhost"}, trace.EndAlertSent, trace.EndAlertReceived},
		{"the server closes TCP without an alert", func(t *testing.T, _ chan error) string {
			return rawPeer(t, func(*net.TCPConn) {})
		}, nil, trace.EndClosed, ""},
		{"the server sends close_notify", func(t *testing.T, _ chan error) string {
			return rawPeer(t, func(c *net.TCPConn) { c.Write([]byte{21, 3, 3, 0, 2, 1, 0}) })
		}, nil, trace.EndCloseNotify, ""},
		{"the server resets the connection", func(t *testing.T, _ chan error) string {
			return rawPeer(t, func(c *net.TCPConn) { c.SetLinger(0) })
		}, nil, trace.EndReset, ""},
		{"the server speaks SSH", func(t *testing.T, _ chan error) string {
			return rawPeer(t, func(c *net.TCPConn) { io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n"); time.Sleep(time.Second) })
		}, nil, trace.EndNotTLS, ""},
		{"the server does not answer", func(t *testing.T, _ chan error) string {
			return rawPeer(t, func(*net.TCPConn) { time.Sleep(2 * time.Second) })
		}, nil, trace.EndTimeout, ""},
		{"nothing listens", func(t *testing.T, _ chan error) string { return closedPort(t) }, nil, trace.EndRefused, ""},
		{"the configuration cannot start", func(t *testing.T, _ chan error) string {
			return rawPeer(t, func(*net.TCPConn) {})
		}, &tlsflow.Config{RootCAs: ca.Pool}, trace.EndLocal, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			serverErr := make(chan error, 1)
			addr := tc.addr(t, serverErr)
			cfg := tc.cfg
			if cfg == nil {
				cfg = &tlsflow.Config{RootCAs: ca.Pool, ServerName: "localhost"}
			}
			raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err == nil {
				conn := tlsflow.Client(raw, cfg)
				conn.SetDeadline(time.Now().Add(500 * time.Millisecond))
				err = conn.Handshake()
				conn.Close()
			}
			if err == nil {
				t.Fatal("the handshake succeeded")
			}
			if got := trace.EndOf(err); got != tc.want {
				t.Errorf("EndOf(%v) = %q, want %q", err, got, tc.want)
			}
			if tc.wantServer != "" {
				select {
				case se := <-serverErr:
					if got := trace.EndOf(se); got != tc.wantServer {
						t.Errorf("server: EndOf(%v) = %q, want %q", se, got, tc.wantServer)
					}
				case <-time.After(5 * time.Second):
					t.Error("the server did not end its handshake")
				}
			}
		})
	}
	if trace.EndOf(nil) != "" || trace.EndOf(errors.New("something")) != trace.EndOther {
		t.Error("EndOf(nil) or of an unknown error is wrong")
	}
}
