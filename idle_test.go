package tlsflow_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

// An established connection that has returned everything it read and sent
// everything it wrote holds no record buffer and no handshake engine: idle,
// it costs only its keys and state (issue 6: buffers released while idle).
func TestIdleConnectionHoldsNoBuffers(t *testing.T) {
	c := sharedCerts()
	for _, v := range []uint16{tlsflow.VersionTLS12, tlsflow.VersionTLS13} {
		t.Run(tlsflow.VersionName(v), func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			srvDone := make(chan *tlsflow.Conn, 1)
			go func() {
				raw, err := ln.Accept()
				if err != nil {
					srvDone <- nil
					return
				}
				raw.SetDeadline(time.Now().Add(10 * time.Second))
				s := tlsflow.Server(raw, &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}, MaxVersion: v})
				buf := make([]byte, 4)
				if _, err := io.ReadFull(s, buf); err != nil {
					s.Close()
					srvDone <- nil
					return
				}
				s.Write(buf)
				srvDone <- s
			}()
			raw, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			raw.SetDeadline(time.Now().Add(10 * time.Second))
			cli := tlsflow.Client(raw, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: v,
				ClientSessionCache: tlsflow.NewLRUClientSessionCache(4)})
			defer cli.Close()
			if _, err := cli.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 4)
			if _, err := io.ReadFull(cli, buf); err != nil { // takes in a TLS 1.3 ticket too
				t.Fatal(err)
			}
			srv := <-srvDone
			if srv == nil {
				t.Fatal("the server side failed")
			}
			defer srv.Close()
			for _, side := range []struct {
				name string
				conn *tlsflow.Conn
			}{{"client", cli}, {"server", srv}} {
				r, w, hs, eng := tlsflow.HeldForTest(side.conn)
				if r || w || hs || eng {
					t.Errorf("idle %s holds: read buffer %v, write buffer %v, handshake buffer %v, engine %v; want none",
						side.name, r, w, hs, eng)
				}
			}
		})
	}
}
