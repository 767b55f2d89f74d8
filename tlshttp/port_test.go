package tlshttp_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// portEdits are the edits docs/SWITCHING.md gives for porting a net/http
// program: the import line, and the two places where net/http takes a
// crypto/tls type (the server's ServeTLS, the client's TLSClientConfig)
// handed to tlshttp. Nothing else of the program changes.
var portEdits = []struct{ from, to string }{
	{`"crypto/tls"`, `tls "github.com/tlsflow/tlsflow"` + "\n\t" + `"github.com/tlsflow/tlsflow/tlshttp"`},
	{`srv.ServeTLS(ln, certFile, keyFile)`, `tlshttp.ServeTLS(srv, ln, certFile, keyFile)`},
	{"\t\ttr.TLSClientConfig = cfg\n", ""},
	{`Transport: tr,`, `Transport: &tlshttp.Transport{Config: cfg, Base: tr},`},
}

// TestMechanicalPort builds and runs a net/http program written for
// crypto/tls (testdata/netport: an HTTPS server, and a client reaching it
// through a CONNECT proxy over HTTP/1.1 and then HTTP/2), first as it is,
// then ported by portEdits alone, and expects the same output from both:
// the same protocols and versions on both sides, r.TLS and resp.TLS
// filled, the connections reused, the tunnels through the proxy, a clean
// Shutdown.
func TestMechanicalPort(t *testing.T) {
	src, err := os.ReadFile("testdata/netport/main.go")
	if err != nil {
		t.Fatal(err)
	}
	ported := string(src)
	for _, e := range portEdits {
		if n := strings.Count(ported, e.from); n != 1 {
			t.Fatalf("the edit of %q applies %d times; want once", e.from, n)
		}
		ported = strings.Replace(ported, e.from, e.to, 1)
	}
	files := t.TempDir()
	c := sharedCerts()
	writeFile(t, filepath.Join(files, "cert.pem"), c.ecdsa.ChainPEM())
	writeFile(t, filepath.Join(files, "key.pem"), c.ecdsa.KeyPEM())
	writeFile(t, filepath.Join(files, "ca.pem"), c.ca.CertPEM())
	args := []string{filepath.Join(files, "cert.pem"), filepath.Join(files, "key.pem"), filepath.Join(files, "ca.pem")}

	original := runProgram(t, "crypto/tls", string(src), false, args)
	withTlsflow := runProgram(t, "tlsflow", ported, true, args)
	if original != withTlsflow {
		t.Fatalf("the ported program's output differs:\ncrypto/tls:\n%s\ntlsflow:\n%s", original, withTlsflow)
	}
	for _, want := range []string{
		`server: HTTP/1.1 over TLS 1.3, ALPN "", SNI "localhost"; client: HTTP/1.1 over TLS 1.3, verified true`,
		`server: HTTP/2.0 over TLS 1.3, ALPN "h2", SNI "localhost"; client: HTTP/2.0 over TLS 1.3, verified true`,
		"tunnels through the proxy: 2\n", // one per transport: each reuses its connection
		"shutdown: <nil>\n",
		"serve: http: Server closed\n",
	} {
		if !strings.Contains(withTlsflow, want) {
			t.Errorf("the output lacks %q:\n%s", want, withTlsflow)
		}
	}
}

// runProgram builds main.go in a module of its own (requiring this
// repository, as the ported program's user would, when withRepo) and
// returns what it prints.
func runProgram(t *testing.T, name, main string, withRepo bool, args []string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "main.go"), []byte(main))
	mod := "module netport\n\ngo 1.26\n"
	if withRepo {
		repo, err := filepath.Abs("..")
		if err != nil {
			t.Fatal(err)
		}
		mod += "\nrequire github.com/tlsflow/tlsflow v0.0.0\n\nreplace github.com/tlsflow/tlsflow => " + repo + "\n" + requires(t, filepath.Join(repo, "go.mod"))
		sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "go.sum"), sum)
		fillModuleCache(t, repo)
	}
	writeFile(t, filepath.Join(dir, "go.mod"), []byte(mod))
	bin := filepath.Join(dir, "netport")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	// Everything comes from the module cache this repository's build
	// filled: no network.
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the %s program: %v\n%s", name, err, out)
	}
	run := exec.Command(bin, args...)
	// The ported program links only the standard library's provider, as a
	// user's would: TLSFLOW_PROVIDER=openssl (test.sh's second run) would
	// rightly stop its first handshake, so it runs without the variable.
	run.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "TLSFLOW_PROVIDER=") })
	var stderr bytes.Buffer
	run.Stderr = &stderr
	out, err := run.Output()
	if err != nil {
		t.Fatalf("running the %s program: %v\n%s%s", name, err, out, stderr.Bytes())
	}
	return string(out)
}

// fillModuleCache loads the repository's whole module graph (go list -m
// all), as the program's build does: the repository's own builds load only
// the part their packages need, so on a fresh machine the cache may lack
// go.mod files the program's build asks for (gopacket's go.mod names
// golang.org/x/lint, say). This may use the module proxy; the build after
// it does not.
func fillModuleCache(t *testing.T, repo string) {
	t.Helper()
	list := exec.Command("go", "list", "-m", "all")
	list.Dir = repo
	if out, err := list.CombinedOutput(); err != nil {
		t.Fatalf("loading the repository's module graph: %v\n%s", err, out)
	}
}

// requires is the require blocks of the go.mod at path, so the program's
// module resolves the repository's dependencies at the same versions.
func requires(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(regexp.MustCompile(`(?ms)^require \(.*?^\)\n`).FindAllString(string(data), -1), "\n")
}
