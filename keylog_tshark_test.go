package tlsflow_test

// The key log is only worth having if Wireshark can use it: capture real
// tlsflow sessions on loopback with tshark and let tshark decrypt them with
// nothing but Config.KeyLogWriter's file (NSS key log format,
// draft-ietf-tls-keylogfile: CLIENT_RANDOM for TLS 1.2, the five
// traffic/exporter secrets for TLS 1.3).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

func TestTsharkDecryptsHTTPWithTheKeyLog(t *testing.T) {
	tshark := requirePeer(t, "tshark")
	tests := []struct {
		name    string
		version uint16
		labels  []string // key log labels the client must write
	}{
		{"TLS 1.2", tlsflow.VersionTLS12, []string{"CLIENT_RANDOM"}},
		{"TLS 1.3", tlsflow.VersionTLS13, []string{"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
			"SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // tshark is slow to start; each capture has its own port
			dir := t.TempDir()
			pcap, keylog := filepath.Join(dir, "session.pcapng"), filepath.Join(dir, "keylog.txt")

			addr := startKeyLogHTTPServer(t, tc.version)
			_, port, _ := net.SplitHostPort(addr)
			capture := startTshark(t, tshark, port, pcap)
			getOverTlsflow(t, addr, tc.version, keylog)

			// tshark's fields, one line per HTTP message: the request's
			// URI and Host, then the response's status code.
			fields := []string{"-e", "http.request.uri", "-e", "http.host", "-e", "http.response.code"}
			decode := append([]string{"-r", pcap, "-d", "tcp.port==" + port + ",tls",
				"-o", "tls.keylog_file:" + keylog, "-Y", "http", "-T", "fields"}, fields...)
			wantRequest := "/\t" + addr + "\t"
			wantResponse := "\t\t200"
			// dumpcap writes the capture file as packets come: wait until
			// the connection's end (a FIN or RST) is in it, so everything
			// before it is too, then stop the capture.
			ended := []string{"-r", pcap, "-Y", "tcp.flags.fin==1 || tcp.flags.reset==1", "-T", "fields", "-e", "frame.number"}
			for deadline := time.Now().Add(15 * time.Second); strings.TrimSpace(runTshark(tshark, ended...)) == ""; {
				if time.Now().After(deadline) {
					t.Fatalf("the capture holds no end of the connection after 15 s (tshark %s)", strings.Join(ended, " "))
				}
				time.Sleep(100 * time.Millisecond)
			}
			capture.stop(t)
			out := runTshark(tshark, decode...)

			keyLog, err := os.ReadFile(keylog)
			if err != nil {
				t.Fatal(err)
			}
			for _, label := range tc.labels {
				if !bytes.Contains(keyLog, []byte(label+" ")) {
					t.Errorf("key log has no %s line:\n%s", label, keyLog)
				}
			}
			if !hasLine(out, wantRequest) {
				t.Errorf("tshark %s\ndid not show the decrypted request %q; it printed:\n%s",
					strings.Join(decode, " "), wantRequest, out)
			}
			if !hasLine(out, wantResponse) {
				t.Errorf("tshark %s\ndid not show the decrypted response %q; it printed:\n%s",
					strings.Join(decode, " "), wantResponse, out)
			}

			// The control: without the key log the same capture shows no
			// HTTP at all, so what tshark read above came from the key log.
			plain := append([]string{"-r", pcap, "-d", "tcp.port==" + port + ",tls", "-Y", "http", "-T", "fields"}, fields...)
			if out := runTshark(tshark, plain...); strings.TrimSpace(out) != "" {
				t.Errorf("tshark %s\nshowed HTTP without the key log:\n%s", strings.Join(plain, " "), out)
			}
		})
	}
}

// hasLine reports whether out has a line equal to want (tshark's fields
// are tab-separated, a line per packet shown).
func hasLine(out, want string) bool {
	for line := range strings.Lines(out) {
		if strings.TrimRight(line, "\r\n") == want {
			return true
		}
	}
	return false
}

// runTshark runs tshark to read a capture and returns what it printed on
// stdout; its complaints (running as root, a file still being written) go
// to stderr and are not part of the answer.
func runTshark(tshark string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, tshark, args...)
	cmd.Stdout = &stdout
	cmd.Run() // the output is the answer; a partial file may make it exit non-zero
	return stdout.String()
}

// startKeyLogHTTPServer serves a page over tlsflow (net/http on
// NewListener) at version and returns its address.
func startKeyLogHTTPServer(t *testing.T, version uint16) string {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tlsflow.Config{
		Certificates: []tlsflow.Certificate{flowCert(sharedCerts().ecdsa)},
		MinVersion:   version,
		MaxVersion:   version,
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello, tshark\n")
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(tlsflow.NewListener(inner, cfg)) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return inner.Addr().String()
}

// getOverTlsflow sends GET / to addr over a tlsflow client at version whose
// KeyLogWriter writes to the file keylog, and reads the whole answer.
func getOverTlsflow(t *testing.T, addr string, version uint16, keylog string) {
	t.Helper()
	f, err := os.Create(keylog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dialer := &tlsflow.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: &tlsflow.Config{
		RootCAs:      sharedCerts().ca.Pool,
		ServerName:   "localhost",
		MinVersion:   version,
		MaxVersion:   version,
		KeyLogWriter: f,
	}}
	tr := &http.Transport{DialTLSContext: dialer.DialContext, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	resp, err := client.Get("https://" + addr + "/")
	if err != nil {
		t.Fatalf("GET over tlsflow: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != "hello, tshark\n" {
		t.Fatalf("GET over tlsflow: %s %q, %v; want 200 %q", resp.Status, body, err, "hello, tshark\n")
	}
}

// tsharkCapture is a running "tshark -w".
type tsharkCapture struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr strings.Builder
	exited chan error
}

// startTshark captures the loopback traffic of one TCP port into pcap and
// returns once packets are really being captured. tshark says "Capturing
// on" some tens of milliseconds before dumpcap's filter sees packets, so
// that is not enough: it also captures a UDP port of ours, and we send
// datagrams there until tshark (-P: print packets while writing) shows one.
// A tshark that cannot capture (no permission to open lo) is a missing
// peer: a skip, a failure in CI.
func startTshark(t *testing.T, tshark, port, pcap string) *tsharkCapture {
	t.Helper()
	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	_, probePort, _ := net.SplitHostPort(probe.LocalAddr().String())

	c := &tsharkCapture{exited: make(chan error, 1)}
	c.cmd = exec.Command(tshark, "-i", "lo", "-f", "tcp port "+port+" or udp port "+probePort,
		"-w", pcap, "-P", "-l")
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", c.cmd, err)
	}
	t.Cleanup(func() { c.cmd.Process.Kill() })
	seen := make(chan struct{})
	var pipes sync.WaitGroup
	pipes.Add(2)
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			close(seen)
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.mu.Lock()
			c.stderr.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
		}
	}()
	go func() { pipes.Wait(); c.exited <- c.cmd.Wait() }()

	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case <-seen:
			return c
		case err := <-c.exited:
			c.exited <- err
			msg := fmt.Sprintf("%s could not capture (%v):\n%s", c.cmd, err, c.output())
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		case <-tick.C:
			probe.WriteTo([]byte("probe"), probe.LocalAddr())
		case <-timeout:
			t.Fatalf("%s captured none of our UDP probes within 20 s:\n%s", c.cmd, c.output())
		}
	}
}

func (c *tsharkCapture) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

// stop ends the capture the way Ctrl-C does, so tshark closes the file
// properly, and waits for it.
func (c *tsharkCapture) stop(t *testing.T) {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-c.exited:
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("%s: %v\n%s", c.cmd, err, c.output())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not stop on SIGINT within 10 s:\n%s", c.cmd, c.output())
	}
}
