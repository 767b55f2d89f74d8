package tlsflow_test

import (
	"errors"
	"fmt"
	"io"
	"net"
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

// TestReadDeadlineWhileEarlyDataIsRead: a server application reading early
// data sets a read deadline to interrupt a read (net/http does so after
// each request, to stop its background read). The deadline passes while
// the client holds its second flight: ReadEarlyData returns a timeout, as
// Read would after the handshake, and the connection stays usable: 0.5-RTT
// data still goes out, and once the client goes on the handshake
// completes and 1-RTT data arrives.
func TestReadDeadlineWhileEarlyDataIsRead(t *testing.T) {
	cli, srv := earlyConfigs()
	earlyRound(t, cli, srv, "GET /a", "")
	a, b := testpeer.Loopback(t, 10*time.Second)
	goOn := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			defer close(goOn)
			server := tlsflow.Server(b, srv)
			defer server.Close()
			buf := make([]byte, 100)
			if n, err := server.ReadEarlyData(buf); err != nil || string(buf[:n]) != "ping" {
				return fmt.Errorf("first ReadEarlyData: %q, %v", buf[:n], err)
			}
			server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			_, err := server.ReadEarlyData(buf)
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				return fmt.Errorf("ReadEarlyData past the deadline: %v, want a timeout", err)
			}
			server.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := server.Write([]byte("pong")); err != nil {
				return fmt.Errorf("0.5-RTT write after the timeout: %v", err)
			}
			goOn <- struct{}{}
			if n, err := server.ReadEarlyData(buf); n != 0 || err != io.EOF {
				return fmt.Errorf("ReadEarlyData after the timeout: %q, %v; want io.EOF", buf[:n], err)
			}
			if err := server.Handshake(); err != nil {
				return fmt.Errorf("handshake after the timeout: %v", err)
			}
			if n, err := io.ReadFull(server, buf[:4]); err != nil || string(buf[:n]) != "late" {
				return fmt.Errorf("1-RTT read: %q, %v", buf[:n], err)
			}
			return nil
		}()
	}()
	client := tlsflow.Client(a, cli)
	defer client.Close()
	if _, err := client.WriteEarlyData([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-goOn; !ok {
		t.Fatal(<-done)
	}
	finishPingPong(t, client, done)
}

// finishPingPong is the client's side after its early "ping": it
// completes the handshake (its early data accepted), reads the server's
// 0.5-RTT "pong", sends "late" as 1-RTT data, and waits for the server's
// verdict on done.
func finishPingPong(t *testing.T, client *tlsflow.Conn, done <-chan error) {
	t.Helper()
	if err := client.Handshake(); err != nil || !client.ConnectionState().EarlyDataAccepted {
		t.Fatalf("client handshake: %v, early data accepted %v (server: %v)", err, client.ConnectionState().EarlyDataAccepted, <-done)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(client, got); err != nil || string(got) != "pong" {
		t.Fatalf("0.5-RTT data: %q, %v", got, err)
	}
	client.Write([]byte("late"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestStalledSecondFlightIsBoundedByTheHandshakeTimeout is the attack on
// the test above: a client sends early data and never its second flight,
// while the server application retries each read that its deadline ends.
// Config.HandshakeTimeout still ends the connection.
func TestStalledSecondFlightIsBoundedByTheHandshakeTimeout(t *testing.T) {
	cli, srv := earlyConfigs()
	earlyRound(t, cli, srv, "GET /a", "")
	slow := srv.Clone()
	slow.HandshakeTimeout = 400 * time.Millisecond
	a, b := testpeer.Loopback(t, 10*time.Second)
	client := tlsflow.Client(a, cli)
	defer client.Close()
	if _, err := client.WriteEarlyData([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	server := tlsflow.Server(b, slow)
	defer server.Close()
	start := time.Now()
	buf := make([]byte, 100)
	timeouts := 0
	var err error
	for time.Since(start) < 3*time.Second {
		server.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
		_, err = server.ReadEarlyData(buf)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			timeouts++
			continue
		}
		if err != nil && err != io.EOF {
			break
		}
	}
	if elapsed := time.Since(start); timeouts == 0 || err == nil || elapsed > 1500*time.Millisecond || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("after %d read timeouts and %v the server's read said %v; want the handshake timed out near 400ms", timeouts, elapsed, err)
	}
	if err := server.Handshake(); err == nil {
		t.Fatal("the handshake completed after it timed out")
	}
}

// TestServerAnswersWhileReadWaitsForTheClient: a server that took early
// data hands it to its application, and a Read in another goroutine goes
// on with the handshake, waiting for the client's second flight (net/http
// starts such a background read before it runs the handler). Meanwhile
// the application asks ConnectionState and writes its 0.5-RTT answer:
// neither may wait for that Read, since this client sends its Finished
// only once it has the answer.
func TestServerAnswersWhileReadWaitsForTheClient(t *testing.T) {
	cli, srv := earlyConfigs()
	earlyRound(t, cli, srv, "GET /a", "")
	srv.HandshakeTimeout = 3 * time.Second // what a deadlock would last
	a, b := testpeer.Loopback(t, 10*time.Second)
	done := make(chan error, 1)
	answered := make(chan struct{}) // the client holds its Finished until then
	go func() {
		done <- func() error {
			defer close(answered)
			server := tlsflow.Server(b, srv)
			defer server.Close()
			buf := make([]byte, 100)
			if n, err := server.ReadEarlyData(buf); err != nil || string(buf[:n]) != "ping" {
				return fmt.Errorf("ReadEarlyData: %q, %v", buf[:n], err)
			}
			read := make(chan error, 1)
			go func() {
				for {
					if _, err := server.ReadEarlyData(buf); err != nil {
						if err != io.EOF {
							read <- err
							return
						}
						break
					}
				}
				_, err := io.ReadFull(server, buf[:4])
				read <- err
			}()
			time.Sleep(50 * time.Millisecond) // the reader is in the handshake by now
			if st := server.ConnectionState(); st.HandshakeComplete || !st.EarlyDataAccepted || !st.DidResume {
				return fmt.Errorf("state while the reader waits: complete %v, early data accepted %v, resumed %v",
					st.HandshakeComplete, st.EarlyDataAccepted, st.DidResume)
			}
			if _, err := server.Write([]byte("pong")); err != nil {
				return fmt.Errorf("0.5-RTT write while the reader waits: %v", err)
			}
			answered <- struct{}{}
			if err := <-read; err != nil {
				return fmt.Errorf("the reader: %v", err)
			}
			if !server.ConnectionState().HandshakeComplete {
				return errors.New("the handshake is not complete after the 1-RTT read")
			}
			return nil
		}()
	}()
	client := tlsflow.Client(a, cli)
	defer client.Close()
	if _, err := client.WriteEarlyData([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	<-answered
	finishPingPong(t, client, done)
}

// TestNoHalfRTTWriteAfterTheHandshakeFailed: a client sends early data and
// then, instead of its second flight, ends its side of the connection
// (the handshake fails with no alert sent). Once the
// server's handshake has failed, its Write, which did not wait for the
// handshake while early data was read, fails too.
func TestNoHalfRTTWriteAfterTheHandshakeFailed(t *testing.T) {
	cli, srv := earlyConfigs()
	earlyRound(t, cli, srv, "GET /a", "")
	a, b := testpeer.Loopback(t, 10*time.Second)
	client := tlsflow.Client(a, cli)
	if _, err := client.WriteEarlyData([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	server := tlsflow.Server(b, srv)
	defer server.Close()
	buf := make([]byte, 100)
	if n, err := server.ReadEarlyData(buf); err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("ReadEarlyData: %q, %v", buf[:n], err)
	}
	if _, err := server.Write([]byte("pong")); err != nil {
		t.Fatalf("0.5-RTT write: %v", err)
	}
	// A FIN, not a reset: the socket would still take the server's writes.
	a.(*net.TCPConn).CloseWrite()
	if _, err := server.ReadEarlyData(buf); err == nil || err == io.EOF {
		t.Fatalf("ReadEarlyData after the client left: %v, want the handshake's failure", err)
	}
	if _, err := server.Write([]byte("pong")); err == nil {
		t.Fatal("Write succeeded after the handshake failed")
	}
	if st := server.ConnectionState(); st.HandshakeComplete {
		t.Fatal("ConnectionState says the failed handshake completed")
	}
}
