//go:build unix

package tlsflow_test

// BenchmarkSTime puts tlsflow's server beside OpenSSL's own s_server, both
// driven by `openssl s_time -new` (full handshakes, one after the other,
// over loopback TCP) with the same certificate, version and suite, and
// compares what matters to a server: its CPU time per handshake. For
// tlsflow the server runs in this process (getrusage, the s_time client is
// another process); for s_server its CPU time is read from /proc. One op
// is one s_time run of -stime.seconds; server-cpu-ns/hs is the figure to
// compare (docs/PERFORMANCE.md, "Providers"), server-sys-ns/hs the part of
// it spent in the kernel (the system calls of accept, read, write and
// close, which both servers make).
//
//   BenchmarkSTime/<case>/{tlsflow,tlsflow-openssl,openssl-s_server}

import (
	"bufio"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
	"github.com/tlsflow/tlsflow/provider"
)

var stimeSeconds = flag.Int("stime.seconds", 5, "seconds of each openssl s_time run in BenchmarkSTime")

type stimeCase struct {
	name    string
	leaf    func(*testCerts) *pki.Leaf
	version uint16
	suite   uint16 // tlsflow's and s_time's choice
	openssl string // the suite's OpenSSL name (-cipher for 1.2, -ciphersuites for 1.3)
}

var stimeCases = []stimeCase{
	{"TLS13-RSA2048-PSS", func(c *testCerts) *pki.Leaf { return c.rsa }, tls.VersionTLS13, tls.TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256"},
	{"TLS12-ECDHE-RSA2048", func(c *testCerts) *pki.Leaf { return c.rsa }, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256"},
	{"TLS12-RSA-kex-RSA2048", func(c *testCerts) *pki.Leaf { return c.rsa }, tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256"},
	{"TLS13-ECDSA-P256", func(c *testCerts) *pki.Leaf { return c.ecdsa }, tls.VersionTLS13, tls.TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256"},
}

func BenchmarkSTime(b *testing.B) {
	openssl := requirePeer(b, "openssl")
	c := sharedCerts()
	dir := b.TempDir()
	files := map[*pki.Leaf][2]string{}
	for name, l := range map[string]*pki.Leaf{"rsa": c.rsa, "ecdsa": c.ecdsa} {
		files[l] = [2]string{writeTempFile(b, dir, name+".pem", l.ChainPEM()), writeTempFile(b, dir, name+".key", l.KeyPEM())}
	}
	for _, tc := range stimeCases {
		b.Run(tc.name, func(b *testing.B) {
			stacks := []string{"tlsflow"}
			if opensslForBench() != nil {
				stacks = append(stacks, "tlsflow-openssl")
			}
			for _, stack := range append(stacks, "openssl-s_server") {
				b.Run(stack, func(b *testing.B) {
					f := files[tc.leaf(c)]
					if stack == "openssl-s_server" {
						benchSServer(b, openssl, tc, f)
						return
					}
					var p provider.Provider = provider.Stdlib{}
					if stack == "tlsflow-openssl" {
						p = opensslForBench()
					}
					benchFlowSTime(b, openssl, tc, p, tc.leaf(c))
				})
			}
		})
	}
}

// sTimeArgs are s_time's arguments for tc against addr.
func sTimeArgs(tc stimeCase, addr string) []string {
	args := []string{"s_time", "-connect", addr, "-new", "-time", strconv.Itoa(*stimeSeconds)}
	if tc.version == tls.VersionTLS13 {
		return append(args, "-tls1_3", "-ciphersuites", tc.openssl)
	}
	return append(args, "-tls1_2", "-cipher", tc.openssl)
}

var sTimeConnections = regexp.MustCompile(`(\d+) connections in [\d.]+s`)

// runSTime runs s_time and returns how many full handshakes it made.
func runSTime(b *testing.B, openssl string, tc stimeCase, addr string) int {
	out, err := exec.Command(openssl, sTimeArgs(tc, addr)...).CombinedOutput()
	m := sTimeConnections.FindSubmatch(out)
	if err != nil || m == nil {
		b.Fatalf("openssl %s: %v\n%s", strings.Join(sTimeArgs(tc, addr), " "), err, out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	if n == 0 {
		b.Fatalf("s_time made no connection:\n%s", out)
	}
	return n
}

func benchFlowSTime(b *testing.B, openssl string, tc stimeCase, p provider.Provider, leaf *pki.Leaf) {
	cfg := &tlsflow.Config{Provider: p, Certificates: []tlsflow.Certificate{flowCert(leaf)},
		MinVersion: tc.version, MaxVersion: tc.version, CipherSuites: []uint16{tc.suite}, SessionTicketsDisabled: true}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	var done, failed atomic.Int64
	go func() {
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer raw.Close()
				raw.SetDeadline(time.Now().Add(10 * time.Second))
				c := tlsflow.Server(raw, cfg)
				if err := c.Handshake(); err != nil {
					failed.Add(1)
					return
				}
				if st := c.ConnectionState(); st.CipherSuite != tc.suite {
					failed.Add(1)
					return
				}
				done.Add(1)
				io.Copy(io.Discard, c)
			}()
		}
	}()
	var cpu, sys time.Duration
	handshakes := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before, beforeSys, n0 := processCPU(), processSys(), done.Load()
		runSTime(b, openssl, tc, ln.Addr().String())
		time.Sleep(50 * time.Millisecond) // the last connection's goroutine finishes
		cpu += processCPU() - before
		sys += processSys() - beforeSys
		handshakes += int(done.Load() - n0)
	}
	b.StopTimer()
	if failed.Load() > 0 || handshakes == 0 {
		b.Fatalf("%d handshakes, %d failed", handshakes, failed.Load())
	}
	reportServerCPU(b, cpu, sys, handshakes)
}

func reportServerCPU(b *testing.B, cpu, sys time.Duration, handshakes int) {
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(handshakes), "server-cpu-ns/hs")
	b.ReportMetric(float64(sys.Nanoseconds())/float64(handshakes), "server-sys-ns/hs")
	b.ReportMetric(float64(handshakes)/float64(b.N), "hs/op")
}

// processSys is the process's system CPU time, or 0 if unknown.
func processSys() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Stime.Nano())
}

func benchSServer(b *testing.B, openssl string, tc stimeCase, f [2]string) {
	// -www: s_server loops over connections (without it, it serves one
	// interactively); s_time sends no request, so no page is served.
	args := []string{"s_server", "-accept", "127.0.0.1:0", "-cert", f[0], "-key", f[1], "-no_ticket", "-www"}
	if tc.version == tls.VersionTLS13 {
		args = append(args, "-tls1_3", "-ciphersuites", tc.openssl)
	} else {
		args = append(args, "-tls1_2", "-cipher", tc.openssl)
	}
	cmd := exec.Command(openssl, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	addr := ""
	for lines.Scan() {
		if port, ok := strings.CutPrefix(lines.Text(), "ACCEPT 127.0.0.1:"); ok {
			addr = "127.0.0.1:" + port
			break
		}
	}
	if addr == "" {
		b.Fatalf("openssl %s printed no ACCEPT line", strings.Join(args, " "))
	}
	go io.Copy(io.Discard, stdout)
	var cpu, sys time.Duration
	handshakes := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before, beforeSys := procCPU(b, cmd.Process.Pid)
		handshakes += runSTime(b, openssl, tc, addr)
		time.Sleep(50 * time.Millisecond)
		after, afterSys := procCPU(b, cmd.Process.Pid)
		cpu, sys = cpu+after-before, sys+afterSys-beforeSys
	}
	b.StopTimer()
	reportServerCPU(b, cpu, sys, handshakes)
}

// procCPU is a process's user plus system CPU time, and the system time
// alone, from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s
// on Linux).
func procCPU(b *testing.B, pid int) (total, sys time.Duration) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond, time.Duration(stime) * 10 * time.Millisecond
}
