package tlsflow_test

import (
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

// flowPair returns a connected, handshaken tlsflow client and server over loopback TCP.
func flowPair(t *testing.T, cli, srv *tlsflow.Config) (*tlsflow.Conn, *tlsflow.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan *tlsflow.Conn, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		s := tlsflow.Server(raw, srv)
		s.Handshake()
		accepted <- s
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := tlsflow.Client(raw, cli)
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	deadline := time.Now().Add(10 * time.Second)
	c.SetDeadline(deadline)
	s.SetDeadline(deadline)
	return c, s
}

// TestEndlessKeyUpdatesAreRefused: a peer that sends KeyUpdate after
// KeyUpdate with no data between burns our CPU for nothing; after a bounded
// number the connection ends with unexpected_message.
func TestEndlessKeyUpdatesAreRefused(t *testing.T) {
	c := sharedCerts()
	cli, srv := flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	go func() {
		for i := 0; i < 40; i++ {
			if cli.KeyUpdate(false) != nil {
				return
			}
		}
		cli.Write([]byte("x"))
	}()
	_, err := io.ReadFull(srv, make([]byte, 1))
	var ae *tlsflow.Error
	if !errors.As(err, &ae) || ae.Alert.String() != "unexpected_message" {
		t.Fatalf("server read error = %v; want unexpected_message after too many KeyUpdates", err)
	}
}

// TestKeyUpdatesWithDataBetweenAreFine: the bound counts KeyUpdates without
// application data between them, not KeyUpdates in all.
func TestKeyUpdatesWithDataBetweenAreFine(t *testing.T) {
	c := sharedCerts()
	cli, srv := flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < 100; i++ {
			if err := cli.KeyUpdate(false); err != nil {
				errc <- err
				return
			}
			if _, err := cli.Write([]byte{byte(i)}); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	buf := make([]byte, 100)
	if _, err := io.ReadFull(srv, buf); err != nil {
		t.Fatalf("server read: %v", err)
	}
	for i, b := range buf {
		if b != byte(i) {
			t.Fatalf("byte %d = %d; data corrupted across key updates", i, b)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// rawServer starts a tlsflow server and returns a raw TCP connection to it
// and a channel with the server's handshake-and-read error.
func rawServer(t *testing.T, cfg *tlsflow.Config) (net.Conn, <-chan error) {
	t.Helper()
	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	errc := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = io.ReadFull(conn, make([]byte, 1))
		errc <- err
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	return raw, errc
}

func wantAlert(t *testing.T, err error, want string) {
	t.Helper()
	var ae *tlsflow.Error
	if !errors.As(err, &ae) || ae.Alert.String() != want {
		t.Fatalf("error = %v; want alert %s", err, want)
	}
}

// TestHugeHandshakeLengthAllocatesNothing: a handshake header claiming
// 2^24-1 bytes is refused at once, before anything that size is buffered.
func TestHugeHandshakeLengthAllocatesNothing(t *testing.T) {
	c := sharedCerts()
	raw, errc := rawServer(t, &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	raw.Write([]byte{22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff}) // ClientHello of 16 MiB - 1
	err := <-errc
	runtime.ReadMemStats(&after)
	wantAlert(t, err, "illegal_parameter")
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("the server allocated %d bytes for a message it refused", grew)
	}
}

// TestOneByteRecordsAreReassembled: a ClientHello cut into one-byte records
// is legal (RFC 8446 §5.1), and the handshake succeeds.
func TestOneByteRecordsAreReassembled(t *testing.T) {
	c := sharedCerts()
	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err == nil {
			conn.Write([]byte("x"))
			io.Copy(io.Discard, conn)
			conn.Close()
		}
	}()
	addr := tamperFirstRecordFunc(t, ln, func(rec []byte) []byte {
		var out []byte
		for _, b := range rec[5:] {
			out = append(out, rec[0], rec[1], rec[2], 0, 1, b)
		}
		return out
	})
	conn, err := tlsflow.Dial("tcp", addr, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"})
	if err != nil {
		t.Fatalf("handshake over one-byte records: %v", err)
	}
	defer conn.Close()
	if _, err := io.ReadFull(conn, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
}

// TestThousandsOfExtensionsCostLittle: a ClientHello with 5,000 unknown
// extensions is parsed once, linearly, and answered: unknown extensions are
// ignored (RFC 8446 §4.2).
func TestThousandsOfExtensionsCostLittle(t *testing.T) {
	c := sharedCerts()
	cfg := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"}
	for i := 0; i < 5000; i++ {
		tlsflow.AddClientHelloExtension(cfg, uint16(0x1000+i), nil)
	}
	co, so := runPair(t, tlsflowClient(cfg), tlsflowServer(&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}}), []int{1})
	if co.err != nil || so.err != nil {
		t.Fatalf("client: %v; server: %v", co.err, so.err)
	}
}

// TestEndlessWarningAlertsAreRefused: TLS 1.2 warning alerts are skipped,
// but not without end.
func TestEndlessWarningAlertsAreRefused(t *testing.T) {
	c := sharedCerts()
	cli, srv := flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tlsflow.VersionTLS12},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	for i := 0; i < 10; i++ {
		tlsflow.SendAlert(cli, 1, 90) // warning user_canceled
	}
	_, err := io.ReadFull(srv, make([]byte, 1))
	wantAlert(t, err, "unexpected_message")
}

// TestRenegotiationIsRefused: a TLS 1.2 server answers a renegotiating
// ClientHello with no_renegotiation, a warning (RFC 5246 §7.2.2), and its
// connection ends there (as BoringSSL and crypto/tls do): the client skips
// the warning and sees the connection close, with no fatal alert.
func TestRenegotiationIsRefused(t *testing.T) {
	c := sharedCerts()
	cli, srv := flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tlsflow.VersionTLS12},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	hello := []byte{1, 0, 0, 4, 3, 3, 0, 0} // a (truncated) ClientHello is enough to ask
	tlsflow.SendHandshakeRecord(cli, hello)
	_, err := io.ReadFull(srv, make([]byte, 1))
	wantAlert(t, err, "no_renegotiation")
	if ae := new(tlsflow.Error); !errors.As(err, &ae) || !ae.Warning {
		t.Fatalf("server error = %v; want no_renegotiation sent as a warning", err)
	}
	srv.Close()
	_, err = io.ReadFull(cli, make([]byte, 1))
	var ae *tlsflow.Error
	if !errors.As(err, &ae) || !ae.Received || ae.Alert.String() != "close_notify" || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("client error = %v; want the connection to end without an alert after the warning", err)
	}
}

// TestDataBeforeCloseIsNeverLost: everything written before Close arrives,
// then a clean EOF — the close_notify says the end is real.
func TestDataBeforeCloseIsNeverLost(t *testing.T) {
	c := sharedCerts()
	cli, srv := flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"},
		&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	go func() {
		cli.Write(data)
		cli.Close()
	}()
	got, err := io.ReadAll(srv)
	if err != nil {
		t.Fatalf("ReadAll: %v (want a clean EOF after close_notify)", err)
	}
	if len(got) != len(data) {
		t.Fatalf("read %d bytes; want %d", len(got), len(data))
	}
}
