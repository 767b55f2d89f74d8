package tlsflow_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
)

// Encrypted Client Hello: a server for secret.example publishes an ECH
// configuration under the public name public.example (in production, in
// its DNS HTTPS record); the client seals its ClientHello with it, so the
// network sees only public.example. A client with an old configuration
// is told the server's new one in an ECHRejectionError, and retries.
func ExampleECHRejectionError() {
	ca := pki.MustNewCA("example CA", pki.ECDSAP256)
	secret, public := ca.MustServer(pki.ECDSAP256, "secret.example"), ca.MustServer(pki.ECDSAP256, "public.example")
	key, err := tlsflow.NewECHConfig(1, "public.example")
	if err != nil {
		log.Fatal(err)
	}
	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", &tlsflow.Config{
		Certificates: []tlsflow.Certificate{
			{Certificate: secret.Chain, PrivateKey: secret.Key},
			{Certificate: public.Chain, PrivateKey: public.Key}, // for clients whose offer is rejected
		},
		EncryptedClientHelloKeys: []tlsflow.EncryptedClientHelloKey{key},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				tc := conn.(*tlsflow.Conn)
				if tc.Handshake() == nil {
					io.WriteString(tc, "hello, "+tc.ConnectionState().ServerName+"\n")
				}
			}()
		}
	}()

	connect := func(configList []byte) error {
		raw, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		conn := tlsflow.Client(raw, &tlsflow.Config{RootCAs: ca.Pool, ServerName: "secret.example",
			EncryptedClientHelloConfigList: configList})
		defer conn.Close()
		reply, err := io.ReadAll(conn)
		if err != nil {
			return err
		}
		fmt.Printf("ECH accepted: %v; %s", conn.ConnectionState().ECHAccepted, reply)
		return nil
	}

	old, _ := tlsflow.NewECHConfig(1, "public.example") // a key the server no longer has
	oldList, _ := tlsflow.MarshalECHConfigList(old.Config)
	err = connect(oldList)
	var rejection *tlsflow.ECHRejectionError
	if errors.As(err, &rejection) {
		fmt.Println("rejected; retrying with the server's configurations")
		err = connect(rejection.RetryConfigList)
	}
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// rejected; retrying with the server's configurations
	// ECH accepted: true; hello, secret.example
}
