package tlsflow_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/limits"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// Attacks on the record layer and on what may come between records.

// readAll is a victim that completes the handshake and reads until the
// end, keeping what it read in *got.
func readAll(got *[]byte) victimRun {
	return func(c *tlsflow.Conn) error {
		if err := c.Handshake(); err != nil {
			return err
		}
		buf := make([]byte, 1024)
		for {
			n, err := c.Read(buf)
			*got = append(*got, buf[:n]...)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
}

// TestEmptyRecordsAreCountedAcrossWarningAlerts: empty application_data
// records carry nothing, so at most limits.Default.EmptyRecords of them
// may come between two records of data (RFC 8446 §5.4 allows them, a
// stream of them is a denial of service). An alert that is not fatal
// (user_canceled, or a TLS 1.2 warning) carries no data either and must
// not restart the count. Exactly EmptyRecords between data is fine.
func TestEmptyRecordsAreCountedAcrossWarningAlerts(t *testing.T) {
	n := limits.Default.EmptyRecords
	for _, v := range versions {
		for _, warning := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/warning=%v", v.name, warning), func(t *testing.T) {
				var got []byte
				p, done := hostileClient(t, tlsflowServerConfig(v.v), readAll(&got))
				if err := clientHandshake(p, v.v, nil); err != nil {
					t.Fatalf("handshake: %v (server: %v)", err, victimErr(t, done))
				}
				p.WriteApplicationData([]byte("a"))
				for range n {
					p.SendRecord(record.ApplicationData, nil)
				}
				if warning {
					p.SendAlert(alert.LevelWarning, alert.UserCanceled)
					p.SendRecord(record.ApplicationData, nil) // the limit + 1st since "a"
				}
				p.WriteApplicationData([]byte("b"))
				p.Close()
				err := victimErr(t, done)
				if !warning {
					if err != nil || string(got) != "ab" {
						t.Fatalf("exactly %d empty records between data: read %q, %v; want \"ab\" and a clean end", n, got, err)
					}
					return
				}
				if err == nil {
					t.Fatalf("%d empty records, a warning alert and one more empty record were all skipped (read %q); want unexpected_message", n, got)
				}
				checkAlert(t, "server", err, sent(alert.UnexpectedMessage, anyStep, ""))
				if string(got) != "a" {
					t.Errorf("read %q before the failure; want \"a\"", got)
				}
			})
		}
	}
}

// TestTLS13WarningAlertDuringTheHandshakeIsFatal: TLS 1.3 has no warning
// alerts besides the closure alerts: "all error alerts ... MUST be treated
// as fatal regardless of the AlertLevel" (RFC 8446 §6.2, §6). A
// warning-level unexpected_message or handshake_failure received during
// the handshake, encrypted under the handshake keys, ends it at once.
func TestTLS13WarningAlertDuringTheHandshakeIsFatal(t *testing.T) {
	for _, desc := range []alert.Alert{alert.UnexpectedMessage, alert.HandshakeFailure} {
		warn := func(before wire.HandshakeType) func(p *testpeer.Peer, m wire.Message) error {
			return func(p *testpeer.Peer, m wire.Message) error {
				if m.Type() == before {
					return p.SendAlert(alert.LevelWarning, desc)
				}
				return nil
			}
		}
		t.Run("from the server/"+desc.String(), func(t *testing.T) {
			p, done := hostileServer(t, tlsflowClientConfig(0), nil)
			p.ServerHandshake13(&testpeer.ServerOptions{Chain: sharedCerts().ecdsa.Chain, Signer: sharedCerts().ecdsa.Key,
				Script: testpeer.Script{Before: warn(wire.TypeEncryptedExtensions)}})
			wantVictimAlert(t, "client", done, received(desc))
		})
		t.Run("from the client/"+desc.String(), func(t *testing.T) {
			p, done := hostileClient(t, tlsflowServerConfig(0), nil)
			p.ClientHandshake13(&testpeer.ClientOptions{Script: testpeer.Script{Before: warn(wire.TypeFinished)}})
			wantVictimAlert(t, "server", done, received(desc))
		})
	}
}

// writeSizes is a net.Conn that records the largest single Write.
type writeSizes struct {
	net.Conn
	max atomic.Int64
}

func (w *writeSizes) Write(b []byte) (int, error) {
	if n := int64(len(b)); n > w.max.Load() {
		w.max.Store(n)
	}
	return w.Conn.Write(b)
}

// TestHugeWriteIsStreamed: Conn.Write of 100 MB seals and sends the data
// a bounded piece at a time: no single write to the network above 256
// KiB, and no buffer anywhere near the size of the data (less than 16 MB
// allocated while writing, counted as TotalAlloc, so that a collection
// during the write cannot hide a large buffer). Everything arrives intact.
func TestHugeWriteIsStreamed(t *testing.T) {
	const size = 100 << 20
	a, b := testpeer.Loopback(t, attackTimeout)
	deadline := time.Now().Add(120 * time.Second)
	a.SetDeadline(deadline)
	b.SetDeadline(deadline)
	counted := &writeSizes{Conn: a}
	type sum struct {
		n   int64
		sha [32]byte
		err error
	}
	got := make(chan sum, 1)
	go func() {
		s := tlsflow.Server(b, tlsflowServerConfig(0))
		h := sha256.New()
		n, err := io.Copy(h, s)
		var out sum
		out.n, out.err = n, err
		copy(out.sha[:], h.Sum(nil))
		got <- out
	}()
	c := tlsflow.Client(counted, tlsflowClientConfig(0))
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7 % 251)
	}
	want := sha256.Sum256(data)
	counted.max.Store(0)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := c.Write(data)
	runtime.ReadMemStats(&after)
	if err != nil || n != size {
		t.Fatalf("Write = %d, %v", n, err)
	}
	c.CloseWrite() // the server reads to the close_notify, then reports
	s := <-got
	c.Close()
	if s.err != nil || s.n != size || s.sha != want {
		t.Errorf("the server read %d bytes (%v); want all %d, intact (sha256 equal: %v)", s.n, s.err, size, s.sha == want)
	}
	if m := counted.max.Load(); m > 256<<10 {
		t.Errorf("a single write to the network of %d bytes; want none above 256 KiB", m)
	}
	bound := uint64(16 << 20)
	if raceEnabled {
		bound = 48 << 20 // sync.Pool drops buffers under the race detector
	}
	if extra := after.TotalAlloc - before.TotalAlloc; extra > bound {
		t.Errorf("writing 100 MB allocated %d MB; want less than %d MB", extra>>20, bound>>20)
	}
}

// TestTLS13EmptyAlertRecordIsUnexpected: a TLS 1.3 record whose inner
// plaintext is an alert with no content has no alert in it at all:
// unexpected_message (RFC 8446 §5.1: "Zero-length fragments of ...
// Alert ... MUST NOT be sent"; §5.4). An alert of one or three bytes is
// malformed: decode_error.
func TestTLS13EmptyAlertRecordIsUnexpected(t *testing.T) {
	for _, c := range []struct {
		payload []byte
		want    alert.Alert
	}{
		{nil, alert.UnexpectedMessage},
		{[]byte{1}, alert.DecodeError},
		{[]byte{1, 0, 0}, alert.DecodeError},
	} {
		t.Run(fmt.Sprintf("%d bytes", len(c.payload)), func(t *testing.T) {
			p, done := hostileClient(t, tlsflowServerConfig(0), readOneByte)
			if err := p.ClientHandshake13(nil); err != nil {
				t.Fatalf("handshake: %v (server: %v)", err, victimErr(t, done))
			}
			p.SendRecord(record.Alert, c.payload)
			wantVictimAlert(t, "server", done, sent(c.want, anyStep, ""))
		})
	}
}

// noFatalAlertFollows reads until the connection ends and reports any
// fatal alert on the way (a close_notify is fine).
func noFatalAlertFollows(t *testing.T, p *testpeer.Peer) {
	t.Helper()
	for {
		typ, payload, err := p.ReadRecord()
		if err != nil {
			return
		}
		if typ == record.Alert && len(payload) == 2 && alert.Level(payload[0]) == alert.LevelFatal {
			t.Errorf("a fatal %s alert followed the warning", alert.Alert(payload[1]))
		}
	}
}

// TestTLS12RenegotiationIsRefusedWithAWarning: tlsflow never renegotiates;
// it says so with no_renegotiation, which "is always a warning" (RFC 5246
// §7.2.2), to a server's HelloRequest and to a client's new ClientHello.
// No fatal alert follows (the connection is then ended locally).
func TestTLS12RenegotiationIsRefusedWithAWarning(t *testing.T) {
	t.Run("HelloRequest to the client", func(t *testing.T) {
		p, done := hostileServer(t, tlsflowClientConfig(tlsflow.VersionTLS12), readOneByte)
		if err := p.ServerHandshake12(&testpeer.ServerOptions{Chain: sharedCerts().ecdsa.Chain, Signer: sharedCerts().ecdsa.Key}); err != nil {
			t.Fatalf("handshake: %v (client: %v)", err, victimErr(t, done))
		}
		p.Send(&wire.HelloRequest{})
		checkNoRenegotiationWarning(t, p, done)
	})
	t.Run("HelloRequest to a client that allows renegotiation", func(t *testing.T) {
		// crypto/tls's RenegotiateOnceAsClient: the setting is accepted,
		// tlsflow still refuses, and its error says the setting was seen.
		cfg := tlsflowClientConfig(tlsflow.VersionTLS12)
		cfg.Renegotiation = tlsflow.RenegotiateOnceAsClient
		p, done := hostileServer(t, cfg, readOneByte)
		if err := p.ServerHandshake12(&testpeer.ServerOptions{Chain: sharedCerts().ecdsa.Chain, Signer: sharedCerts().ecdsa.Key}); err != nil {
			t.Fatalf("handshake: %v (client: %v)", err, victimErr(t, done))
		}
		p.Send(&wire.HelloRequest{})
		level, desc, err := p.ExpectAlert()
		if err != nil || desc != alert.NoRenegotiation || level != alert.LevelWarning {
			t.Errorf("hostile peer got a %s %v alert (%v); want a warning no_renegotiation", levelString(level), desc, err)
		}
		if err := victimErr(t, done); err == nil || !strings.Contains(err.Error(), "Config.Renegotiation allows it") {
			t.Errorf("client error %v; want it to say that Config.Renegotiation allowed what tlsflow does not do", err)
		}
	})
	t.Run("ClientHello to the server", func(t *testing.T) {
		p, done := hostileClient(t, tlsflowServerConfig(tlsflow.VersionTLS12), readOneByte)
		if err := p.ClientHandshake12(nil); err != nil {
			t.Fatalf("handshake: %v (server: %v)", err, victimErr(t, done))
		}
		hello := &wire.ClientHello{Version: tlsflow.VersionTLS12, CipherSuites: p.ClientHello.CipherSuites,
			CompressionMethods: []uint8{0}, Extensions: p.ClientHello.Extensions}
		copy(hello.Random[:], testpeer.Random(32))
		p.Send(hello)
		checkNoRenegotiationWarning(t, p, done)
	})
}

func checkNoRenegotiationWarning(t *testing.T, p *testpeer.Peer, done <-chan error) {
	t.Helper()
	level, desc, err := p.ExpectAlert()
	if err != nil || desc != alert.NoRenegotiation || level != alert.LevelWarning {
		t.Errorf("hostile peer got a %s %v alert (%v); want a warning no_renegotiation", levelString(level), desc, err)
	}
	noFatalAlertFollows(t, p)
	if err := victimErr(t, done); err == nil {
		t.Error("the tlsflow side read on; want it to end the connection")
	}
}

func levelString(l alert.Level) string {
	switch l {
	case alert.LevelWarning:
		return "warning"
	case alert.LevelFatal:
		return "fatal"
	}
	return fmt.Sprintf("level-%d", l)
}

// TestNoAlertAfterCloseNotify: once this side has sent close_notify
// (CloseWrite), garbage from the peer makes Read fail, but nothing more
// goes out: close_notify was the last record this side writes (RFC 8446
// §6.1: after it, "any data ... is ignored"; no alert may follow it).
func TestNoAlertAfterCloseNotify(t *testing.T) {
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			p, done := hostileClient(t, tlsflowServerConfig(v.v), func(c *tlsflow.Conn) error {
				if err := c.Handshake(); err != nil {
					return err
				}
				if err := c.CloseWrite(); err != nil {
					return err
				}
				_, err := c.Read(make([]byte, 1))
				if err == nil {
					return errors.New("Read of garbage succeeded")
				}
				return fmt.Errorf("read failed as it should: %w", err)
			})
			if err := clientHandshake(p, v.v, nil); err != nil {
				t.Fatalf("handshake: %v (server: %v)", err, victimErr(t, done))
			}
			if level, desc, err := p.ExpectAlert(); err != nil || desc != alert.CloseNotify {
				t.Fatalf("got a %s %v alert (%v); want close_notify", levelString(level), desc, err)
			}
			garbage := append([]byte{byte(record.ApplicationData), 3, 3, 0, 40}, testpeer.Random(40)...)
			p.WriteRaw(garbage)
			if err := p.ExpectClosedWithoutAlert(); err != nil {
				t.Errorf("after its close_notify the server sent more: %v; want the connection closed without an alert", err)
			}
			if err := victimErr(t, done); err == nil || !bytes.Contains([]byte(err.Error()), []byte("read failed as it should")) {
				t.Errorf("server: %v; want Read to fail", err)
			}
		})
	}
}
