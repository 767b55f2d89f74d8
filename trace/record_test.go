package trace_test

import (
	"bytes"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/trace"
)

// The golden tests render fixed recordings; this file makes them. Run
//
//	go test ./trace -run Record -record && go test ./trace -update
//
// after the engine's events change. Without -record, the same handshakes
// run and their events are compared in shape with the recordings, so a
// stale fixture is noticed.
var record = flag.Bool("record", false, "re-record testdata/*.jsonl from live handshakes")

// recordings are the handshakes the goldens show.
var recordings = []struct {
	file      string
	serverKey pki.KeyType
	client    func(*tlsflow.Config)
	server    func(*tlsflow.Config)
}{
	{
		// The course note's flow: RSA key exchange, client certificate.
		file: "tls12.jsonl", serverKey: pki.RSA2048,
		client: func(c *tlsflow.Config) {
			c.MaxVersion = tlsflow.VersionTLS12
			c.CipherSuites = []uint16{tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256}
		},
		server: func(c *tlsflow.Config) {
			c.MaxVersion = tlsflow.VersionTLS12
			c.CipherSuites = []uint16{tlsflow.TLS_RSA_WITH_AES_128_GCM_SHA256}
		},
	},
	{
		// TLS 1.3 with the defaults (X25519MLKEM768) and a client certificate.
		file: "tls13.jsonl", serverKey: pki.ECDSAP256,
		client: func(*tlsflow.Config) {}, server: func(*tlsflow.Config) {},
	},
}

func TestRecordFixtures(t *testing.T) {
	for _, rec := range recordings {
		t.Run(rec.file, func(t *testing.T) {
			events := runRecorded(t, rec.serverKey, rec.client, rec.server)
			path := filepath.Join("testdata", rec.file)
			if *record {
				var out bytes.Buffer
				hook := trace.NewRenderer(&out, trace.Options{Format: trace.FormatJSON, Secrets: true})
				for _, e := range events {
					hook(e)
				}
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			old, err := trace.ReadJSONLines(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, side := range []trace.Side{trace.Client, trace.Server} {
				got, want := shape(events, side), shape(old, side)
				if got != want {
					t.Errorf("%s: the %s's events no longer match the recording; re-record with\n"+
						"\tgo test ./trace -run Record -record && go test ./trace -update\n"+
						"live:\n%s\nrecorded:\n%s", path, side, got, want)
				}
			}
		})
	}
}

// shape is one side's events without the values that change per run.
func shape(events []trace.Event, side trace.Side) string {
	var b strings.Builder
	for _, e := range events {
		if e.Side != side {
			continue
		}
		fmt.Fprintf(&b, "%s %s %q step=%d version=%#04x secret=%t fields:", e.Kind, e.Direction, e.Message,
			e.Step, e.Version, len(e.Secret) > 0)
		for _, f := range e.Fields {
			b.WriteString(" " + f.Name)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// runRecorded runs one handshake over loopback TCP with a client
// certificate, sends "ping" and answers "pong", closes both sides, and
// returns both sides' events in the order they came, at times 1 ms apart.
func runRecorded(t *testing.T, serverKey pki.KeyType, client, server func(*tlsflow.Config)) []trace.Event {
	ca := pki.MustNewCA("tlsflow trace fixture CA", pki.ECDSAP256)
	srvLeaf := ca.MustIssue(pki.LeafOptions{KeyType: serverKey, CommonName: "localhost",
		DNSNames: []string{"localhost"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	cliLeaf := ca.MustClient(pki.ECDSAP256, "fixture client")

	var mu sync.Mutex
	var events []trace.Event
	hook := func(e trace.Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	scfg := &tlsflow.Config{
		Certificates: []tlsflow.Certificate{{Certificate: srvLeaf.Chain, PrivateKey: srvLeaf.Key, Leaf: srvLeaf.Cert}},
		ClientAuth:   tlsflow.RequireAndVerifyClientCert, ClientCAs: ca.Pool,
		KeyLogWriter: io.Discard, Trace: hook,
	}
	server(scfg)
	ccfg := &tlsflow.Config{
		Certificates: []tlsflow.Certificate{{Certificate: cliLeaf.Chain, PrivateKey: cliLeaf.Key, Leaf: cliLeaf.Cert}},
		RootCAs:      ca.Pool, ServerName: "localhost",
		KeyLogWriter: io.Discard, Trace: hook,
	}
	client(ccfg)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serverDone := make(chan error, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			serverDone <- err
			return
		}
		c := tlsflow.Server(raw, scfg)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil {
			c.Close()
			serverDone <- fmt.Errorf("server read: %w", err)
			return
		}
		_, err = c.Write([]byte("pong"))
		c.Close() // its close_notify is in the trace before serverDone
		serverDone <- err
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := tlsflow.Client(raw, ccfg)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatalf("client write: %v", err)
	}
	if got, err := io.ReadAll(c); err != nil || string(got) != "pong" {
		t.Fatalf("client read %q, %v; want pong", got, err)
	}
	if err := <-serverDone; err != nil {
		t.Fatal(err)
	}
	c.Close()

	mu.Lock()
	defer mu.Unlock()
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := range events {
		events[i].Time = start.Add(time.Duration(i) * time.Millisecond)
	}
	return events
}
