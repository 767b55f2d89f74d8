package ftps

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
)

// vsftpdServer is a vsftpd running for one test: explicit FTPS with
// anonymous logins, TLS forced on logins and data, and data connections
// required to resume the control connection's session (require_ssl_reuse,
// vsftpd's default, written out so the test does not depend on it).
type vsftpdServer struct {
	addr  string
	roots *pki.Authority
	log   string // vsftpd's own log file
}

// ftpFiles are the files the anonymous root holds, by directory.
var ftpFiles = map[string][]string{
	"":    {"data.bin", "readme.txt", "sub"},
	"sub": {"inner.txt"},
}

const anonPassword = "guest-secret@example.org"

// startVsftpd starts vsftpd on a free loopback port. It skips the test
// when vsftpd or root rights are missing, except in CI (CI set), where
// ./test.sh installs vsftpd and runs as root.
func startVsftpd(t *testing.T) *vsftpdServer {
	t.Helper()
	bin := findVsftpd(t)
	dir := t.TempDir()
	// vsftpd enters anon_root as root and then serves it as the "ftp"
	// user, who must be able to read it but not write it.
	root := filepath.Join(dir, "root")
	empty := filepath.Join(dir, "empty") // secure_chroot_dir: an empty directory
	for _, d := range []string{root, filepath.Join(root, "sub"), empty} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil { // whatever the umask
			t.Fatal(err)
		}
	}
	for name, data := range map[string]string{
		"readme.txt":    "hello over FTPS\n",
		"data.bin":      strings.Repeat("x", 5000),
		"sub/inner.txt": "inner\n",
	} {
		path := filepath.Join(root, name)
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	ca := pki.MustNewCA("ftps test CA", pki.ECDSAP256)
	leaf := ca.MustServer(pki.RSA2048, "localhost", "127.0.0.1")
	certFile := filepath.Join(dir, "cert.pem")
	keyFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, leaf.ChainPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, leaf.KeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}

	port, pasvPort := freePort(t), freePort(t)
	logFile := filepath.Join(dir, "vsftpd.log")
	conf := fmt.Sprintf(`listen=YES
listen_address=127.0.0.1
listen_port=%d
background=NO
syslog_enable=NO
xferlog_enable=YES
log_ftp_protocol=YES
debug_ssl=YES
vsftpd_log_file=%s
anonymous_enable=YES
no_anon_password=NO
local_enable=NO
write_enable=NO
anon_root=%s
secure_chroot_dir=%s
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
pasv_enable=YES
pasv_min_port=%d
pasv_max_port=%d
ssl_enable=YES
allow_anon_ssl=YES
force_anon_logins_ssl=YES
force_anon_data_ssl=YES
require_ssl_reuse=YES
ssl_ciphers=HIGH
rsa_cert_file=%s
rsa_private_key_file=%s
`, port, logFile, root, empty, pasvPort, pasvPort, certFile, keyFile)
	confFile := filepath.Join(dir, "vsftpd.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, confFile)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s %s: %v", bin, confFile, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		err := <-exited
		if t.Failed() {
			logData, _ := os.ReadFile(logFile)
			t.Logf("vsftpd %s: exit %v\noutput:\n%s\nconfig:\n%s\nlog:\n%s", confFile, err, out.String(), conf, logData)
		}
	})

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("vsftpd exited before listening on %s: %v\n%s", addr, err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("vsftpd is not listening on %s after 10 s: %v\n%s", addr, err, out.String())
		}
	}
	return &vsftpdServer{addr: addr, roots: ca, log: logFile}
}

func findVsftpd(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf(format+"; ./test.sh installs it and runs as root", args...)
		}
		t.Skipf(format+" (run ./test.sh as root)", args...)
	}
	bin, err := exec.LookPath("vsftpd")
	if err != nil {
		// Debian puts it in /usr/sbin, not always on a user's PATH.
		bin = "/usr/sbin/vsftpd"
		if _, err := os.Stat(bin); err != nil {
			missing("vsftpd is not installed")
		}
	}
	if os.Geteuid() != 0 {
		missing("vsftpd needs root to serve anonymous FTP (chroot, then the ftp user)")
	}
	if _, err := user.Lookup("ftp"); err != nil {
		missing("there is no ftp user for vsftpd's anonymous sessions (the vsftpd package makes one)")
	}
	return bin
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lineLog collects what a Client logs.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// listedNames takes the file names from LIST lines in the "ls -l" form
// vsftpd uses: the name is the last field.
func listedNames(lines []string) []string {
	var names []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 0 {
			names = append(names, f[len(f)-1])
		}
	}
	slices.Sort(names)
	return names
}

func dialVsftpd(t *testing.T, srv *vsftpdServer, cfg *tlsflow.Config, log *lineLog) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, srv.addr, cfg, log.logf)
	if err != nil {
		t.Fatalf("Dial %s: %v\nclient log:\n%s", srv.addr, err, log)
	}
	t.Cleanup(func() { c.ctrl.Close() })
	return c
}

func TestListOverTLSDataConnectionsThatResumeTheControlSession(t *testing.T) {
	srv := startVsftpd(t)
	cases := []struct {
		name    string
		config  func(*tlsflow.Config)
		version uint16
	}{
		{"TLS 1.3 ticket", func(*tlsflow.Config) {}, tlsflow.VersionTLS13},
		{"TLS 1.2 ticket", func(c *tlsflow.Config) { c.MaxVersion = tlsflow.VersionTLS12 }, tlsflow.VersionTLS12},
		{"TLS 1.2 session ID", func(c *tlsflow.Config) {
			c.MaxVersion = tlsflow.VersionTLS12
			c.SessionTicketsDisabled = true
		}, tlsflow.VersionTLS12},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &tlsflow.Config{RootCAs: srv.roots.Pool, ServerName: "localhost"}
			tc.config(cfg)
			log := &lineLog{}
			c := dialVsftpd(t, srv, cfg, log)
			if st := c.ControlState(); st.Version != tc.version || len(st.VerifiedChains) == 0 {
				t.Fatalf("control connection: %s, %d verified chains; want %s and a verified chain",
					tlsflow.VersionName(st.Version), len(st.VerifiedChains), tlsflow.VersionName(tc.version))
			}
			if err := c.Login("anonymous", anonPassword); err != nil {
				t.Fatalf("Login: %v\nclient log:\n%s", err, log)
			}
			// Twice: the second data connection resumes from what the first
			// left (in TLS 1.3, the fresh ticket it was sent).
			for i := 0; i < 2; i++ {
				for _, dir := range []string{"", "sub"} {
					lines, err := c.List(dir)
					if err != nil {
						t.Fatalf("List(%q) #%d: %v\nclient log:\n%s", dir, i+1, err, log)
					}
					if got := listedNames(lines); !slices.Equal(got, ftpFiles[dir]) {
						t.Fatalf("List(%q) #%d: names %q, want %q (lines %q)", dir, i+1, got, ftpFiles[dir], lines)
					}
				}
			}
			if err := c.Quit(); err != nil {
				t.Fatalf("Quit: %v\nclient log:\n%s", err, log)
			}

			logged := log.String()
			if strings.Contains(logged, anonPassword) || !strings.Contains(logged, "> PASS ****") {
				t.Fatalf("the client log shows the password or no masked PASS:\n%s", logged)
			}
			for _, want := range []string{"< 234 ", "> PBSZ 0", "> PROT P", "< 226 ", "> QUIT"} {
				if !strings.Contains(logged, want) {
					t.Fatalf("the client log has no %q line:\n%s", want, logged)
				}
			}
		})
	}
}

// TestVsftpdRefusesDataConnectionsThatDoNotResume proves that the test
// server really checks session reuse: without the control connection's
// session the data handshake is a full one, and vsftpd refuses the transfer.
func TestVsftpdRefusesDataConnectionsThatDoNotResume(t *testing.T) {
	srv := startVsftpd(t)
	log := &lineLog{}
	c := dialVsftpd(t, srv, &tlsflow.Config{RootCAs: srv.roots.Pool, ServerName: "localhost"}, log)
	if err := c.Login("anonymous", anonPassword); err != nil {
		t.Fatalf("Login: %v", err)
	}
	c.dataCfg.ClientSessionCache = nil
	_, err := c.List("")
	var re *ReplyError
	if !errors.As(err, &re) || re.Code != 522 {
		t.Fatalf("List with a fresh data session: %v, want vsftpd's 522 reply\nclient log:\n%s", err, log)
	}
}

func TestDialRefusesAServerCertificateFromAnotherCA(t *testing.T) {
	srv := startVsftpd(t)
	other := pki.MustNewCA("not the ftps CA", pki.ECDSAP256)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, srv.addr, &tlsflow.Config{RootCAs: other.Pool, ServerName: "localhost"}, nil)
	var ve *tlsflow.CertificateVerificationError
	if err == nil || !errors.As(err, &ve) {
		if c != nil {
			c.ctrl.Close()
		}
		t.Fatalf("Dial with the wrong roots: %v, want a certificate verification error", err)
	}
}

// fakeServer runs script against one control connection on a loopback
// port: each step either sends a reply (lines ending in CRLF) or expects a
// command line. It returns the address.
func fakeServer(t *testing.T, script func(r *bufio.Reader, w net.Conn) error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		done <- script(bufio.NewReader(c), c)
	}()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err != nil {
			t.Errorf("fake server: %v", err)
		}
	})
	return ln.Addr().String()
}

func expectLine(r *bufio.Reader, want string) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("waiting for %q: %w", want, err)
	}
	if line != want+"\r\n" {
		return fmt.Errorf("got %q, want %q", line, want+"\r\n")
	}
	return nil
}

// TestDialRefusesCleartextAfterAuthTLS protects against STARTTLS command
// injection: a reply sent in clear after 234 must not be read later as if
// it came over TLS.
func TestDialRefusesCleartextAfterAuthTLS(t *testing.T) {
	addr := fakeServer(t, func(r *bufio.Reader, w net.Conn) error {
		if _, err := w.Write([]byte("220 fake\r\n")); err != nil {
			return err
		}
		if err := expectLine(r, "AUTH TLS"); err != nil {
			return err
		}
		_, err := w.Write([]byte("234 go ahead\r\n230 injected in clear\r\n"))
		r.ReadString('\n') // wait for the client to hang up
		return err
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Dial(ctx, addr, &tlsflow.Config{InsecureSkipVerify: true}, nil)
	if err == nil || !strings.Contains(err.Error(), "cleartext after the 234 reply") {
		t.Fatalf("Dial: %v, want a refusal of the cleartext after 234", err)
	}
}

func TestDialReportsARefusedAuthTLS(t *testing.T) {
	addr := fakeServer(t, func(r *bufio.Reader, w net.Conn) error {
		if _, err := w.Write([]byte("220-fake server\r\n  says hello\r\n220 ready\r\n")); err != nil {
			return err
		}
		if err := expectLine(r, "AUTH TLS"); err != nil {
			return err
		}
		_, err := w.Write([]byte("502 Command not implemented.\r\n"))
		return err
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := Dial(ctx, addr, &tlsflow.Config{InsecureSkipVerify: true}, nil)
	var re *ReplyError
	if !errors.As(err, &re) || re.Code != 502 || re.Command != "AUTH TLS" {
		t.Fatalf("Dial: %v, want a ReplyError 502 for AUTH TLS", err)
	}
}

func TestCommandArgumentsWithLineBreaksAreRefused(t *testing.T) {
	log := &lineLog{}
	c := &Client{logf: log.logf}
	for _, arg := range []string{"a\r\nDELE x", "a\nb", "a\rb"} {
		err := c.send("LIST", arg)
		if err == nil || !strings.Contains(err.Error(), "line break") {
			t.Fatalf("send(LIST, %q): %v, want a refusal", arg, err)
		}
	}
	if log.String() != "" {
		t.Fatalf("refused commands were logged: %q", log.String())
	}
}

func TestReadReply(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		code    int
		lines   []string
		wantErr string
	}{
		{"single line", "220 ready\r\n", 220, []string{"ready"}, ""},
		{"code alone", "200\r\n", 200, []string{""}, ""},
		{"bare LF", "226 done\n", 226, []string{"done"}, ""},
		{"multi-line, inner lines free", "211-Features:\r\n EPSV\r\n211-x\r\n211 End\r\n", 211,
			[]string{"Features:", " EPSV", "211-x", "End"}, ""},
		{"multi-line ends only at the same code", "230-a\r\n231 b\r\n230 c\r\n", 230, []string{"a", "231 b", "c"}, ""},
		{"control characters dropped", "220 a\x1b[31mb\r\n", 220, []string{"a[31mb"}, ""},
		{"no code", "hello\r\n", 0, nil, "malformed reply line"},
		{"code out of range", "620 x\r\n", 0, nil, "malformed reply line"},
		{"no separator", "220x\r\n", 0, nil, "malformed reply line"},
		{"line too long", "220 " + strings.Repeat("a", maxReplyLine) + "\r\n", 0, nil, "longer than"},
		{"too many lines", "220-a\r\n" + strings.Repeat("b\r\n", maxReplyLines) + "220 c\r\n", 0, nil, "longer than"},
		{"cut short", "220-a\r\nb\r\n", 0, nil, "unexpected EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer client.Close()
			go func() { server.Write([]byte(tc.in)); server.Close() }()
			c := &Client{conn: client, r: bufio.NewReaderSize(client, maxReplyLine), logf: func(string, ...any) {}}
			r, err := c.readReply()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("readReply(%q) = %d %q, %v; want an error containing %q", tc.in, r.code, r.lines, err, tc.wantErr)
				}
				return
			}
			if err != nil || r.code != tc.code || !slices.Equal(r.lines, tc.lines) {
				t.Fatalf("readReply(%q) = %d %q, %v; want %d %q", tc.in, r.code, r.lines, err, tc.code, tc.lines)
			}
		})
	}
}

func TestPassivePorts(t *testing.T) {
	cases := []struct {
		name  string
		parse func(string) (int, error)
		text  string
		port  int // 0: an error is wanted
	}{
		{"EPSV", parseEPSV, "Entering Extended Passive Mode (|||6446|)", 6446},
		{"EPSV other delimiter", parseEPSV, "ok (!!!21!)", 21},
		{"EPSV mixed delimiters", parseEPSV, "ok (|!|21|)", 0},
		{"EPSV no port", parseEPSV, "ok (||||)", 0},
		{"EPSV port 0", parseEPSV, "ok (|||0|)", 0},
		{"EPSV port too big", parseEPSV, "ok (|||65536|)", 0},
		{"EPSV no parentheses", parseEPSV, "Entering Extended Passive Mode", 0},
		{"PASV", parsePASV, "Entering Passive Mode (127,0,0,1,39,10).", 39*256 + 10},
		{"PASV without parentheses", parsePASV, "Entering Passive Mode 10,1,2,3,4,1", 4*256 + 1},
		{"PASV byte out of range", parsePASV, "Entering Passive Mode (127,0,0,1,256,10)", 0},
		{"PASV five numbers", parsePASV, "Entering Passive Mode (127,0,0,1,39)", 0},
		{"PASV port 0", parsePASV, "Entering Passive Mode (127,0,0,1,0,0)", 0},
		{"PASV no numbers", parsePASV, "Entering Passive Mode", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			port, err := tc.parse(tc.text)
			if tc.port == 0 {
				if err == nil {
					t.Fatalf("%q gave port %d, want an error", tc.text, port)
				}
				return
			}
			if err != nil || port != tc.port {
				t.Fatalf("%q gave %d, %v; want port %d", tc.text, port, err, tc.port)
			}
		})
	}
}

// fakeFTPSListing serves one LIST over FTPS the way the test asks, from a
// scripted server built on tlsflow: EPSV refused, so the client must use
// PASV, whose reply names an address that is not the server's. dataDone
// ends the data connection after the listing. It returns what the server
// saw of the data connection's handshake.
func fakeFTPSListing(t *testing.T, listing string, dataDone func(data *tlsflow.Conn, raw net.Conn)) (addr string, roots *pki.Authority, dataResumed <-chan bool) {
	t.Helper()
	ca := pki.MustNewCA("fake ftps CA", pki.ECDSAP256)
	leaf := ca.MustServer(pki.ECDSAP256, "localhost")
	cfg := &tlsflow.Config{Certificates: []tlsflow.Certificate{{Certificate: leaf.Chain, PrivateKey: leaf.Key, Leaf: leaf.Cert}}}
	pasv, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pasv.Close() })
	port := pasv.Addr().(*net.TCPAddr).Port
	resumed := make(chan bool, 1)

	addr = fakeServer(t, func(r *bufio.Reader, w net.Conn) error {
		say := func(c net.Conn, reply string) error { _, err := c.Write([]byte(reply + "\r\n")); return err }
		if err := say(w, "220 fake FTPS"); err != nil {
			return err
		}
		if err := expectLine(r, "AUTH TLS"); err != nil {
			return err
		}
		if err := say(w, "234 go"); err != nil {
			return err
		}
		ctrl := tlsflow.Server(w, cfg)
		r = bufio.NewReader(ctrl)
		for _, step := range []struct{ cmd, reply string }{
			{"USER joe", "331 password please"},
			{"PASS pw", "230 in"},
			{"PBSZ 0", "200 ok"},
			{"PROT P", "200 ok"},
			{"EPSV", "502 EPSV not implemented"},
			{"PASV", fmt.Sprintf("227 Entering Passive Mode (10,9,8,7,%d,%d).", port>>8, port&0xff)},
			{"LIST /pub", ""},
		} {
			if err := expectLine(r, step.cmd); err != nil {
				return err
			}
			if step.reply != "" {
				if err := say(ctrl, step.reply); err != nil {
					return err
				}
			}
		}
		raw, err := pasv.Accept()
		if err != nil {
			return err
		}
		defer raw.Close()
		raw.SetDeadline(time.Now().Add(10 * time.Second))
		if err := say(ctrl, "150 here it comes"); err != nil {
			return err
		}
		data := tlsflow.Server(raw, cfg)
		if err := data.Handshake(); err != nil {
			return fmt.Errorf("data handshake: %w", err)
		}
		resumed <- data.ConnectionState().DidResume
		if _, err := data.Write([]byte(listing)); err != nil {
			return err
		}
		dataDone(data, raw)
		if err := say(ctrl, "226 done"); err != nil {
			return err
		}
		if err := expectLine(r, "QUIT"); err != nil {
			return nil // the client gave up after an error: fine
		}
		return say(ctrl, "221 bye")
	})
	return addr, ca, resumed
}

func TestListFallsBackToPASVAndIgnoresItsAddress(t *testing.T) {
	addr, ca, resumed := fakeFTPSListing(t, "-rw-r--r-- 1 0 0 3 Jan 1 00:00 a.txt\r\n-rw-r--r-- 1 0 0 3 Jan 1 00:00 b c.txt\r\n",
		func(data *tlsflow.Conn, _ net.Conn) { data.Close() })
	log := &lineLog{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, &tlsflow.Config{RootCAs: ca.Pool, ServerName: "localhost"}, log.logf)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.ctrl.Close()
	if err := c.Login("joe", "pw"); err != nil {
		t.Fatalf("Login: %v\n%s", err, log)
	}
	lines, err := c.List("/pub")
	if err != nil {
		t.Fatalf("List: %v\n%s", err, log)
	}
	want := []string{"-rw-r--r-- 1 0 0 3 Jan 1 00:00 a.txt", "-rw-r--r-- 1 0 0 3 Jan 1 00:00 b c.txt"}
	if !slices.Equal(lines, want) {
		t.Fatalf("List = %q, want %q", lines, want)
	}
	if !<-resumed {
		t.Fatal("the data connection did not resume the control connection's session")
	}
	if err := c.Quit(); err != nil {
		t.Fatalf("Quit: %v", err)
	}
}

// TestListRefusesAListingCutWithoutCloseNotify: the server's 226 does not
// prove the listing arrived whole, since whoever cuts the data connection
// can let the control connection's 226 through; only close_notify does.
func TestListRefusesAListingCutWithoutCloseNotify(t *testing.T) {
	addr, ca, _ := fakeFTPSListing(t, "-rw-r--r-- 1 0 0 3 Jan 1 00:00 a.txt\r\n",
		func(_ *tlsflow.Conn, raw net.Conn) { raw.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, &tlsflow.Config{RootCAs: ca.Pool, ServerName: "localhost"}, nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.ctrl.Close()
	if err := c.Login("joe", "pw"); err != nil {
		t.Fatalf("Login: %v", err)
	}
	lines, err := c.List("/pub")
	if err == nil || !strings.Contains(err.Error(), "close_notify") {
		t.Fatalf("List = %q, %v; want an error about the missing close_notify", lines, err)
	}
	c.Quit()
}
