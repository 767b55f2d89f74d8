package tlsflow_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/testpeer"
	"github.com/tlsflow/tlsflow/trace"
)

// earlyConfigs are a tlsflow client with a session cache and a tlsflow
// server whose tickets allow 1 KiB of 0-RTT data.
func earlyConfigs() (cli, srv *tlsflow.Config) {
	cli = clientConfig13()
	cli.ClientSessionCache = tlsflow.NewLRUClientSessionCache(4)
	srv = serverConfig13(sharedCerts().ecdsa)
	srv.MaxEarlyData = 1024
	return cli, srv
}

// earlyResult is what one 0-RTT attempt did on both sides.
type earlyResult struct {
	writeErr       error  // the client's WriteEarlyData
	early          []byte // what the server's ReadEarlyData returned
	readErr        error  // ReadEarlyData's error other than io.EOF
	cliErr, srvErr error  // the handshakes
	cs, ss         tlsflow.ConnectionState
	oneRTT         []byte // what the server then Read
	halfRTT        []byte // what the client read of the server's 0.5-RTT answer
}

// earlyRound connects once: the client writes early (if it can; else it
// sends early with Write once the handshake is done), then late; the
// server reads early data, answers it before the handshake completes, and
// then reads the 1-RTT data.
func earlyRound(t *testing.T, cli, srv *tlsflow.Config, early, late string) earlyResult {
	t.Helper()
	a, b := testpeer.Loopback(t, 10*time.Second)
	var r earlyResult
	done := make(chan struct{})
	go func() {
		defer close(done)
		server := tlsflow.Server(b, srv)
		defer server.Close()
		buf := make([]byte, 4096)
		for {
			n, err := server.ReadEarlyData(buf)
			r.early = append(r.early, buf[:n]...)
			if err != nil {
				if err != io.EOF {
					r.readErr = err
					return
				}
				break
			}
		}
		if len(r.early) > 0 {
			if _, err := server.Write([]byte("0.5-RTT:" + string(r.early))); err != nil {
				r.readErr = err
				return
			}
		}
		if r.srvErr = server.Handshake(); r.srvErr != nil {
			return
		}
		r.ss = server.ConnectionState()
		want := len(late)
		if !r.ss.EarlyDataAccepted {
			want += len(early)
		}
		got := make([]byte, want)
		if _, err := io.ReadFull(server, got); err != nil {
			r.srvErr = err
			return
		}
		r.oneRTT = got
		server.Write([]byte("done"))
	}()
	client := tlsflow.Client(a, cli)
	defer client.Close()
	_, r.writeErr = client.WriteEarlyData([]byte(early))
	if r.cliErr = client.Handshake(); r.cliErr == nil {
		r.cs = client.ConnectionState()
		if !r.cs.EarlyDataAccepted {
			client.Write([]byte(early)) // the application resends what was not read
		} else {
			got := make([]byte, len("0.5-RTT:")+len(early))
			if _, err := io.ReadFull(client, got); err == nil {
				r.halfRTT = got
			}
		}
		client.Write([]byte(late))
		end := make([]byte, 4)
		io.ReadFull(client, end)
	}
	<-done
	return r
}

// TestEarlyDataAcceptedOnResumption: the first connection gets a ticket
// that allows 0-RTT (WriteEarlyData says there is no session yet: nothing
// is sent early, and the data goes after the handshake); the second sends
// its request as early data, which the server reads before the handshake
// completes and answers with 0.5-RTT data; 1-RTT data follows apart.
func TestEarlyDataAcceptedOnResumption(t *testing.T) {
	cli, srv := earlyConfigs()
	first := earlyRound(t, cli, srv, "GET /a", " then more")
	if !errors.Is(first.writeErr, tlsflow.ErrNoEarlyData) {
		t.Fatalf("first connection: WriteEarlyData = %v, want ErrNoEarlyData", first.writeErr)
	}
	if first.cliErr != nil || first.srvErr != nil || first.readErr != nil {
		t.Fatalf("first connection: client %v, server %v, read %v", first.cliErr, first.srvErr, first.readErr)
	}
	if first.cs.EarlyDataAccepted || len(first.early) != 0 || string(first.oneRTT) != "GET /a then more" {
		t.Fatalf("first connection: accepted %v, early %q, 1-RTT %q", first.cs.EarlyDataAccepted, first.early, first.oneRTT)
	}

	second := earlyRound(t, cli, srv, "GET /b", " then more")
	if second.writeErr != nil || second.cliErr != nil || second.srvErr != nil || second.readErr != nil {
		t.Fatalf("second connection: write %v, client %v, server %v, read %v", second.writeErr, second.cliErr, second.srvErr, second.readErr)
	}
	if !second.cs.DidResume || !second.cs.EarlyDataAccepted || !second.ss.EarlyDataAccepted {
		t.Fatalf("second connection: resumed %v, accepted client %v server %v", second.cs.DidResume, second.cs.EarlyDataAccepted, second.ss.EarlyDataAccepted)
	}
	if string(second.early) != "GET /b" || string(second.oneRTT) != " then more" || string(second.halfRTT) != "0.5-RTT:GET /b" {
		t.Fatalf("second connection: early %q, 1-RTT %q, 0.5-RTT %q", second.early, second.oneRTT, second.halfRTT)
	}
}

// TestEarlyDataHasItsOwnStepInTheTrace: both sides' traces head the early
// data with a title of its own that says it can be replayed, in English
// and in German.
func TestEarlyDataHasItsOwnStepInTheTrace(t *testing.T) {
	for _, tc := range []struct{ lang, title, warning, length string }{
		{"en", "0-RTT · Early data", "replayable", "length in bytes: 6"},
		{"de", "0-RTT · Frühe Daten", "wiederholbar", "Länge in Bytes: 6"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			cli, srv := earlyConfigs()
			earlyRound(t, cli, srv, "GET /a", "")
			var cliOut, srvOut strings.Builder
			cli.Trace = trace.NewRenderer(&cliOut, trace.Options{Lang: tc.lang})
			srv.Trace = trace.NewRenderer(&srvOut, trace.Options{Lang: tc.lang})
			if r := earlyRound(t, cli, srv, "GET /b", ""); !r.cs.EarlyDataAccepted {
				t.Fatal("early data not accepted")
			}
			for side, out := range map[string]string{"client": cliOut.String(), "server": srvOut.String()} {
				i := strings.Index(out, tc.title)
				if i < 0 {
					t.Fatalf("%s trace has no %q title:\n%s", side, tc.title, out)
				}
				section := out[i:]
				if end := strings.Index(section[1:], "\n\n"); end > 0 {
					section = section[:end+1]
				}
				if !strings.Contains(section, tc.warning) || !strings.Contains(section, tc.length) {
					t.Errorf("%s trace's early data step lacks the warning %q or the length:\n%s", side, tc.warning, section)
				}
			}
		})
	}
}

// TestEarlyDataAfterHelloRetryRequestIsResent: the server wants another
// key share, so the early data is lost (RFC 8446 §4.1.2); the session is
// resumed all the same, the client's second flight goes under the
// handshake key, and the application resends what was not read.
func TestEarlyDataAfterHelloRetryRequestIsResent(t *testing.T) {
	cli, srv := earlyConfigs()
	earlyRound(t, cli, srv, "GET /a", "")
	cli.CurvePreferences = []tlsflow.CurveID{tlsflow.X25519, tlsflow.CurveP256}
	srv.CurvePreferences = []tlsflow.CurveID{tlsflow.CurveP256}
	r := earlyRound(t, cli, srv, "GET /b", " then more")
	if r.writeErr != nil || r.cliErr != nil || r.srvErr != nil || r.readErr != nil {
		t.Fatalf("write %v, client %v, server %v, read %v", r.writeErr, r.cliErr, r.srvErr, r.readErr)
	}
	if !r.cs.HelloRetryRequest || !r.cs.DidResume || r.cs.EarlyDataAccepted || r.ss.EarlyDataAccepted {
		t.Fatalf("HelloRetryRequest %v, resumed %v, accepted %v/%v", r.cs.HelloRetryRequest, r.cs.DidResume, r.cs.EarlyDataAccepted, r.ss.EarlyDataAccepted)
	}
	if len(r.early) != 0 || string(r.oneRTT) != "GET /b then more" {
		t.Fatalf("early %q, 1-RTT %q", r.early, r.oneRTT)
	}
}

// TestHalfRTTWritesWhileTheHandshakeGoesOn: a traced server that answers
// early data at once while another goroutine completes the handshake (as
// net/http's background read does); run with -race.
func TestHalfRTTWritesWhileTheHandshakeGoesOn(t *testing.T) {
	cli, srv := earlyConfigs()
	srv.Trace = func(trace.Event) {}
	earlyRound(t, cli, srv, "GET /a", "")
	a, b := testpeer.Loopback(t, 10*time.Second)
	done := make(chan error, 1)
	go func() {
		server := tlsflow.Server(b, srv)
		defer server.Close()
		buf := make([]byte, 100)
		n, err := server.ReadEarlyData(buf)
		if err != nil {
			done <- err
			return
		}
		finished := make(chan error, 1)
		go func() { finished <- server.Handshake() }()
		for range 20 {
			if _, err := server.Write(buf[:n]); err != nil {
				done <- err
				return
			}
		}
		done <- <-finished
	}()
	client := tlsflow.Client(a, cli)
	defer client.Close()
	if _, err := client.WriteEarlyData([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 80)
	if _, err := io.ReadFull(client, got); err != nil || string(got[:4]) != "ping" {
		t.Fatalf("read %q, %v", got, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
