package tlsflow_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"

	"github.com/tlsflow/tlsflow"
)

// Raw public keys (RFC 7250): a server shows its bare public key, and a
// client that was given that key beforehand (provisioned with the device)
// pins it. No CA, no certificate, no server name to check; a key that is
// not the pinned one is refused, and without a pin no raw key is accepted.
func ExampleRawPublicKeyCertificate() {
	serverKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	serverCert, err := tlsflow.RawPublicKeyCertificate(serverKey)
	if err != nil {
		log.Fatal(err)
	}
	pin, err := x509.MarshalPKIXPublicKey(serverKey.Public()) // what the client is provisioned with
	if err != nil {
		log.Fatal(err)
	}

	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", &tlsflow.Config{Certificates: []tlsflow.Certificate{serverCert}})
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
		io.WriteString(conn, "hello over a raw public key\n")
	}()

	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	conn := tlsflow.Client(raw, &tlsflow.Config{
		ServerCertificateTypes: []tlsflow.CertificateType{tlsflow.CertificateTypeRawPublicKey},
		TrustedRawPublicKeys:   [][]byte{pin},
	})
	defer conn.Close()
	reply, err := io.ReadAll(conn)
	if err != nil {
		log.Fatal(err)
	}
	st := conn.ConnectionState()
	fmt.Print(string(reply))
	fmt.Println(tlsflow.VersionName(st.Version), st.ServerCertificateType, "pinned key:", bytes.Equal(st.PeerRawPublicKey, pin),
		"certificates:", len(st.PeerCertificates))
	// Output:
	// hello over a raw public key
	// TLS 1.3 RawPublicKey pinned key: true certificates: 0
}
