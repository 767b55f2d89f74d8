package tlsflow_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// The record size limit (RFC 8449): each side keeps its protected records
// within the limit the other advertised, and refuses a larger one with
// record_overflow.

// recordTally parses one direction of a connection's byte stream into
// records and keeps the body length of every protected record: in TLS 1.3
// every application_data record (the outer type of all protected ones), in
// TLS 1.2 every record after the writer's ChangeCipherSpec.
type recordTally struct {
	mu        sync.Mutex
	buf       []byte
	tls13     bool
	seenCCS   bool
	protected []int
}

func (r *recordTally) add(b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, b...)
	for len(r.buf) >= 5 {
		n := int(r.buf[3])<<8 | int(r.buf[4])
		if len(r.buf) < 5+n {
			break
		}
		typ := r.buf[0]
		switch {
		case typ == 20:
			r.seenCCS = true
		case r.tls13 && typ == 23, !r.tls13 && r.seenCCS:
			r.protected = append(r.protected, n)
		}
		r.buf = r.buf[5+n:]
	}
}

// largest returns the body length of the largest protected record, and
// how many there were.
func (r *recordTally) largest() (int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	most := 0
	for _, n := range r.protected {
		most = max(most, n)
	}
	return most, len(r.protected)
}

// recordSizes tallies the records written to a connection.
type recordSizes struct {
	net.Conn
	recordTally
}

func (r *recordSizes) Write(b []byte) (int, error) {
	r.add(b)
	return r.Conn.Write(b)
}

// TestRecordSizeLimitBothWays: a client that accepts records of 64 bytes
// and a server that accepts 100 exchange 20 KB each way, in both versions;
// every protected record each writes stays within the other's limit (plus
// the protection: tag, and in TLS 1.2 the explicit nonce), the server's
// encrypted certificate flight included in TLS 1.3.
func TestRecordSizeLimitBothWays(t *testing.T) {
	for _, v := range []uint16{tlsflow.VersionTLS12, tlsflow.VersionTLS13} {
		t.Run(tlsflow.VersionName(v), func(t *testing.T) {
			cli, srv := clientConfig13(), serverConfig13(sharedCerts().rsa)
			cli.MaxVersion, cli.RecordSizeLimit, srv.RecordSizeLimit = v, 64, 100
			cli.CipherSuites = []uint16{tlsflow.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tlsflow.TLS_AES_128_GCM_SHA256}
			a, b := testpeer.Loopback(t, 10*time.Second)
			cw := &recordSizes{Conn: a, recordTally: recordTally{tls13: v == tlsflow.VersionTLS13}}
			sw := &recordSizes{Conn: b, recordTally: recordTally{tls13: v == tlsflow.VersionTLS13}}
			data := make([]byte, 20000)
			rand.Read(data)
			done := make(chan error, 1)
			go func() {
				server := tlsflow.Server(sw, srv)
				defer server.Close()
				got := make([]byte, len(data))
				if _, err := io.ReadFull(server, got); err != nil {
					done <- err
					return
				}
				_, err := server.Write(got)
				done <- err
			}()
			client := tlsflow.Client(cw, cli)
			defer client.Close()
			if _, err := client.Write(data); err != nil {
				t.Fatal(err)
			}
			echo := make([]byte, len(data))
			if _, err := io.ReadFull(client, echo); err != nil || !bytes.Equal(echo, data) {
				t.Fatalf("echo: %v", err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			expansion := 16
			if v == tlsflow.VersionTLS12 {
				expansion += 8 // AES-GCM's explicit nonce
			}
			if most, n := sw.largest(); most > 64+expansion || n < 20000/64 {
				t.Errorf("the server's protected records: the largest %d bytes (of %d); want at most %d", most, n, 64+expansion)
			}
			if most, n := cw.largest(); most > 100+expansion || n < 20000/100 {
				t.Errorf("the client's protected records: the largest %d bytes (of %d); want at most %d", most, n, 100+expansion)
			}
		})
	}
}

// TestRecordOverTheAdvertisedLimitIsRecordOverflow: a hostile client that
// was told the server accepts records of 64 bytes sends one of 200:
// record_overflow (RFC 8449 §4: "MUST generate a fatal record_overflow
// alert").
func TestRecordOverTheAdvertisedLimitIsRecordOverflow(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			cfg := tlsflowServerConfig(v.v)
			cfg.RecordSizeLimit = 64
			p, done := hostileClient(t, cfg, func(c *tlsflow.Conn) error {
				_, err := io.ReadAll(c)
				return err
			})
			o := &testpeer.ClientOptions{ServerName: "localhost"}
			o.Mutate = testpeer.MutateType(func(ch *wire.ClientHello) {
				testpeer.SetExtension(ch, wire.ExtRecordSizeLimit, wire.RecordSizeLimit(1000))
			})
			if err := clientHandshake(p, v.v, o); err != nil {
				t.Fatalf("hostile client: %v", err)
			}
			if err := p.WriteApplicationData(bytes.Repeat([]byte{'x'}, 65)); err != nil {
				t.Fatal(err)
			}
			wantVictimAlert(t, "server", done, sent(alert.RecordOverflow, 8, "", "record_size_limit of 64"))
		})
	}
}

// TestRecordSizeLimitBelow64IsIllegalParameter: a ClientHello whose
// record_size_limit says 63 (RFC 8449 §4: "MUST treat receipt of a smaller
// value as a fatal error and generate an illegal_parameter alert").
func TestRecordSizeLimitBelow64IsIllegalParameter(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			p, done := hostileClient(t, tlsflowServerConfig(v.v), nil)
			o := &testpeer.ClientOptions{ServerName: "localhost"}
			o.Mutate = testpeer.MutateType(func(ch *wire.ClientHello) {
				testpeer.SetExtension(ch, wire.ExtRecordSizeLimit, wire.RecordSizeLimit(63))
			})
			_ = clientHandshake(p, v.v, o)
			wantVictimAlert(t, "server", done, sent(alert.IllegalParameter, 1, "ClientHello", "record_size_limit"))
		})
	}
}
