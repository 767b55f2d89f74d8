package tlsflow_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"

	"github.com/tlsflow/tlsflow"
)

// An external PSK (TLS 1.3): a device and its server share a key agreed
// outside TLS, and neither has a certificate. The client has no
// ServerName, so a server that does not take the PSK is refused.
func ExampleExternalPSK() {
	key := bytes.Repeat([]byte{0x42}, 32) // in production: 32 random bytes, provisioned per device
	psk := tlsflow.ExternalPSK{Identity: []byte("sensor-0042"), Key: key}

	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{psk}})
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		tc := conn.(*tlsflow.Conn)
		if err := tc.Handshake(); err != nil {
			return // a client without the PSK: "step 2, ServerHello: …"
		}
		io.WriteString(tc, "hello, "+string(tc.ConnectionState().ExternalPSKIdentity)+"\n")
	}()

	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	conn := tlsflow.Client(raw, &tlsflow.Config{ExternalPSKs: []tlsflow.ExternalPSK{psk}})
	defer conn.Close()
	reply, err := io.ReadAll(conn)
	if err != nil {
		log.Fatal(err)
	}
	st := conn.ConnectionState()
	fmt.Print(string(reply))
	fmt.Println(tlsflow.VersionName(st.Version), "server certificates:", len(st.PeerCertificates))
	// Output:
	// hello, sensor-0042
	// TLS 1.3 server certificates: 0
}
