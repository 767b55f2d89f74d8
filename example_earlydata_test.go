package tlsflow_test

import (
	"fmt"
	"io"
	"log"
	"net"
	"strings"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
)

// 0-RTT: the second connection sends its request before the handshake,
// and the server answers it at once. The request must be one whose
// repetition does no harm (a GET); the server acts on nothing else before
// the handshake completes (RFC 8446 §8; HTTP: 425 Too Early, RFC 8470).
func ExampleConn_ReadEarlyData() {
	ca := pki.MustNewCA("example CA", pki.ECDSAP256)
	leaf := ca.MustServer(pki.ECDSAP256, "localhost")
	cert, err := tlsflow.X509KeyPair(leaf.ChainPEM(), leaf.KeyPEM())
	if err != nil {
		log.Fatal(err)
	}
	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", &tlsflow.Config{
		Certificates: []tlsflow.Certificate{cert},
		MaxEarlyData: 4096, // tickets allow 4 KiB of 0-RTT data
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
			go serveEarly(conn.(*tlsflow.Conn))
		}
	}()

	cache := tlsflow.NewLRUClientSessionCache(8) // where the ticket is kept
	for range 2 {
		raw, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			log.Fatal(err)
		}
		conn := tlsflow.Client(raw, &tlsflow.Config{RootCAs: ca.Pool, ServerName: "localhost", ClientSessionCache: cache})
		request := "GET /time\n"
		if _, err := conn.WriteEarlyData([]byte(request)); err == tlsflow.ErrNoEarlyData {
			fmt.Println("no ticket yet: the request waits for the handshake")
		}
		if err := conn.Handshake(); err != nil {
			log.Fatal(err)
		}
		if !conn.ConnectionState().EarlyDataAccepted {
			io.WriteString(conn, request) // not read early: send it now
		}
		reply, _ := io.ReadAll(conn)
		fmt.Print(string(reply))
		conn.Close()
	}
	// Output:
	// no ticket yet: the request waits for the handshake
	// 1-RTT: GET /time
	// 0-RTT: GET /time
}

// serveEarly answers one request line, read as early data if the client
// sent it so, else after the handshake.
func serveEarly(conn *tlsflow.Conn) {
	defer conn.Close()
	var early strings.Builder
	buf := make([]byte, 1024)
	for {
		n, err := conn.ReadEarlyData(buf)
		early.Write(buf[:n])
		if err != nil {
			break // io.EOF: the early data is over, or there was none
		}
	}
	if early.Len() > 0 && strings.HasPrefix(early.String(), "GET ") {
		io.WriteString(conn, "0-RTT: "+early.String()) // sent before the handshake completes
		conn.Handshake()                               // then the client's Finished, for a clean close
		return
	}
	n, err := conn.Read(buf)
	if err != nil {
		return
	}
	io.WriteString(conn, "1-RTT: "+string(buf[:n]))
}
