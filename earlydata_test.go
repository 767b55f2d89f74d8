package tlsflow_test

import (
	"crypto/rand"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

// injectAfterFirstRecord relays client↔server, and right after the client's
// first record (its ClientHello) inserts records, as a 0-RTT client sends
// its early data.
func injectAfterFirstRecord(t *testing.T, server net.Listener, inject [][]byte) (addr string) {
	return relayFirstRecord(t, server, func([]byte) {}, inject)
}

// tamperFirstRecord relays client↔server and lets change alter the
// client's first record (header included) on its way.
func tamperFirstRecord(t *testing.T, server net.Listener, change func(record []byte)) (addr string) {
	return relayFirstRecord(t, server, change, nil)
}

// tamperFirstRecordFunc relays client↔server and replaces the client's
// first record by what change makes of it (which may be several records).
func tamperFirstRecordFunc(t *testing.T, server net.Listener, change func(record []byte) []byte) (addr string) {
	return relay(t, server, change, nil)
}

func relayFirstRecord(t *testing.T, server net.Listener, change func([]byte), inject [][]byte) (addr string) {
	return relay(t, server, func(rec []byte) []byte { change(rec); return rec }, inject)
}

func relay(t *testing.T, server net.Listener, change func([]byte) []byte, inject [][]byte) (addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		defer client.Close()
		upstream, err := net.Dial("tcp", server.Addr().String())
		if err != nil {
			return
		}
		defer upstream.Close()
		go io.Copy(client, upstream)
		hdr := make([]byte, 5)
		if _, err := io.ReadFull(client, hdr); err != nil {
			return
		}
		body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
		if _, err := io.ReadFull(client, body); err != nil {
			return
		}
		upstream.Write(change(append(hdr, body...)))
		for _, rec := range inject {
			upstream.Write(rec)
		}
		io.Copy(upstream, client)
	}()
	return ln.Addr().String()
}

// fakeEarlyData is application_data records with random contents: early
// data protected with keys the server never derives.
func fakeEarlyData(n, size int) [][]byte {
	var recs [][]byte
	for i := 0; i < n; i++ {
		rec := make([]byte, 5+size)
		copy(rec, []byte{23, 3, 3, byte(size >> 8), byte(size)})
		rand.Read(rec[5:])
		recs = append(recs, rec)
	}
	return recs
}

func handshakeThrough(t *testing.T, announce bool, inject [][]byte) (cliErr, srvErr error) {
	t.Helper()
	c := sharedCerts()
	srvCfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}}
	ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", srvCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvDone := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			srvDone <- err
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 5)
		_, err = io.ReadFull(conn, buf)
		if err == nil {
			_, err = conn.Write(buf)
		}
		srvDone <- err
	}()
	cliCfg := &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"}
	if announce {
		tlsflow.AnnounceEarlyData(cliCfg)
	}
	raw, err := net.Dial("tcp", injectAfterFirstRecord(t, ln, inject))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	conn := tlsflow.Client(raw, cliCfg)
	if cliErr = conn.Handshake(); cliErr == nil {
		if _, cliErr = conn.Write([]byte("hello")); cliErr == nil {
			_, cliErr = io.ReadFull(conn, make([]byte, 5))
		}
	}
	raw.Close()
	return cliErr, <-srvDone
}

// TestServerSkipsRejectedEarlyData: a client that announced 0-RTT data and
// sent it gets a normal 1-RTT handshake; the server drops the records it
// cannot decrypt (RFC 8446 §4.2.10) instead of failing on them.
func TestServerSkipsRejectedEarlyData(t *testing.T) {
	cliErr, srvErr := handshakeThrough(t, true, fakeEarlyData(3, 300))
	if cliErr != nil || srvErr != nil {
		t.Fatalf("client: %v; server: %v", cliErr, srvErr)
	}
}

// TestServerSkipsOnlyAnnouncedEarlyData: without early_data in the
// ClientHello, an undecryptable record is an attack: bad_record_mac.
func TestServerSkipsOnlyAnnouncedEarlyData(t *testing.T) {
	_, srvErr := handshakeThrough(t, false, fakeEarlyData(1, 300))
	var ae *tlsflow.Error
	if !errors.As(srvErr, &ae) || ae.Alert.String() != "bad_record_mac" {
		t.Fatalf("server error = %v; want bad_record_mac", srvErr)
	}
}

// TestServerBoundsSkippedEarlyData: the skipping stops after a bounded
// amount, so a peer cannot feed the server garbage for ever.
func TestServerBoundsSkippedEarlyData(t *testing.T) {
	_, srvErr := handshakeThrough(t, true, fakeEarlyData(40, 16000))
	var ae *tlsflow.Error
	if !errors.As(srvErr, &ae) || ae.Alert.String() != "bad_record_mac" {
		t.Fatalf("server error = %v; want bad_record_mac once the early-data budget is spent", srvErr)
	}
}
