package capture

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow/trace"
)

// requirePeer finds an external program; in CI (CI set) a missing one
// fails the test, as ./test.sh installs it.
func requirePeer(t testing.TB, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; ./test.sh installs it", program)
		}
		t.Skipf("%s is not installed (run ./test.sh to install it)", program)
	}
	return path
}

// freePort is a loopback port nothing listens on (none of them 443: the
// reader finds TLS on any port).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startTcpdump captures loopback traffic to or from port into a pcap
// file; stop ends the capture and returns the file.
func startTcpdump(t *testing.T, port int) (stop func() string) {
	t.Helper()
	tcpdump := requirePeer(t, "tcpdump")
	file := filepath.Join(t.TempDir(), "capture.pcap")
	// --immediate-mode hands each packet over at once (else the kernel
	// holds them in blocks that a stop can lose), -U writes each at
	// once; -Z root keeps the right to write
	// into the test's directory.
	cmd := exec.Command(tcpdump, "-i", "lo", "-n", "-U", "--immediate-mode", "-Z", "root", "-w", file, "tcp port "+strconv.Itoa(port))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	listening := make(chan string, 1)
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "listening on") {
				listening <- sc.Text()
			}
		}
	}()
	select {
	case <-listening:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("tcpdump did not start listening:\n%s", log.String())
	}
	stopped := false
	stop = func() string {
		if !stopped {
			stopped = true
			time.Sleep(300 * time.Millisecond) // the last packets reach the file
			cmd.Process.Signal(syscall.SIGINT)
			cmd.Wait()
		}
		return file
	}
	t.Cleanup(func() { stop() })
	return stop
}

// startServer runs a TLS server program until the test ends, waiting until
// port accepts connections.
func startServer(t *testing.T, port int, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not listen on port %d:\n%s", name, port, out.String())
}

// wireItem is one thing that crossed the wire as both readers see it: a
// handshake message by type, or an alert by description.
type wireItem struct {
	from trace.Side
	what string
}

func (w wireItem) String() string { return string(w.from) + " " + w.what }

// tsharkView is what tshark dissects of one TCP stream.
type tsharkView struct {
	items    []wireItem
	suite    uint16 // the ServerHello's
	version  uint16 // the ServerHello's (supported_versions, else legacy)
	appData  map[trace.Side][]byte
	sawHello bool
}

// tsharkDissect runs tshark over file (decoding port as TLS, as tshark
// finds TLS by port; keyLog may be "") and returns its view of each TCP
// stream.
func tsharkDissect(t *testing.T, file, keyLog string, port int) []*tsharkView {
	t.Helper()
	tshark := requirePeer(t, "tshark")
	args := []string{"-r", file, "-d", "tcp.port==" + strconv.Itoa(port) + ",tls"}
	if keyLog != "" {
		args = append(args, "-o", "tls.keylog_file:"+keyLog)
	}
	fields := append(append([]string(nil), args...), "-Y", "tls", "-T", "fields", "-E", "separator=|",
		"-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tls.handshake.type", "-e", "tls.alert_message.desc",
		"-e", "tls.handshake.ciphersuite", "-e", "tls.handshake.extensions.supported_version", "-e", "tls.handshake.version")
	out, err := exec.Command(tshark, fields...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", strings.Join(fields, " "), err)
	}
	var views []*tsharkView
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 7 {
			continue
		}
		stream, _ := strconv.Atoi(f[0])
		for len(views) <= stream {
			views = append(views, &tsharkView{appData: map[trace.Side][]byte{}})
		}
		v := views[stream]
		from := trace.Client
		if f[1] == strconv.Itoa(port) {
			from = trace.Server
		}
		for _, typ := range splitList(f[2]) {
			v.items = append(v.items, wireItem{from, "handshake " + typ})
			if typ == "2" && from == trace.Server {
				v.suite = parseHex16(t, lastOf(f[4]))
				v.version = parseHex16(t, lastOf(f[6]))
				if sv := lastOf(f[5]); sv != "" {
					v.version = parseHex16(t, sv)
				}
			}
		}
		for _, desc := range splitList(f[3]) {
			v.items = append(v.items, wireItem{from, "alert " + desc})
		}
	}
	if keyLog != "" {
		for i, v := range views {
			v.appData = tsharkFollow(t, args, i, port)
		}
	}
	return views
}

// tsharkFollow is the decrypted application data of stream i, per
// direction (tshark -z follow,tls,raw).
func tsharkFollow(t *testing.T, args []string, i, port int) map[trace.Side][]byte {
	t.Helper()
	out, err := exec.Command("tshark", append(args, "-q", "-z", fmt.Sprintf("follow,tls,raw,%d", i))...).Output()
	if err != nil {
		t.Fatalf("tshark follow: %v", err)
	}
	data := map[trace.Side][]byte{}
	// Lines of node 0 start at the margin, node 1's after a tab.
	node0 := trace.Client
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Node 0: ") && strings.HasSuffix(line, ":"+strconv.Itoa(port)) {
			node0 = trace.Server
		}
		side := node0
		if strings.HasPrefix(line, "\t") {
			side = peerOf(node0)
		}
		b, err := hex.DecodeString(strings.TrimSpace(line))
		if err != nil || len(b) == 0 {
			continue
		}
		data[side] = append(data[side], b...)
	}
	return data
}

func peerOf(s trace.Side) trace.Side {
	if s == trace.Client {
		return trace.Server
	}
	return trace.Client
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func lastOf(s string) string {
	l := splitList(s)
	if len(l) == 0 {
		return ""
	}
	return l[len(l)-1]
}

func parseHex16(t *testing.T, s string) uint16 {
	t.Helper()
	if s == "" {
		return 0
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 16)
	if err != nil {
		t.Fatalf("tshark value %q: %v", s, err)
	}
	return uint16(v)
}

// ourItems is what crossed the wire in a connection's events, as tshark
// lists it: decoded handshake messages by type and alerts by description
// code.
func ourItems(c *Connection) []wireItem {
	var items []wireItem
	for _, e := range c.Events {
		switch {
		case e.Kind == trace.KindMessage && e.Message != "encrypted records" && len(e.Raw) > 0:
			items = append(items, wireItem{e.Side, "handshake " + strconv.Itoa(int(e.Raw[0]))})
		case e.Kind == trace.KindAlert:
			items = append(items, wireItem{e.Side, "alert " + strconv.Itoa(alertCode(e.Message))})
		}
	}
	return items
}

// ourAppData is the first application data each side sent, decrypted.
func ourAppData(c *Connection) map[trace.Side][]byte {
	data := map[trace.Side][]byte{}
	for _, e := range c.Events {
		if e.Kind == trace.KindApplicationData {
			data[e.Side] = e.Raw
		}
	}
	return data
}

func readCapture(t *testing.T, file, keyLog string) *Capture {
	t.Helper()
	var opt Options
	if keyLog != "" {
		f, err := os.Open(keyLog)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if opt.KeyLog, err = ReadKeyLog(f); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := Read(f, opt)
	if err != nil {
		t.Fatalf("Read %s: %v", file, err)
	}
	return c
}
