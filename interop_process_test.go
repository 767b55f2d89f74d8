package tlsflow_test

// Helpers for interop tests that talk to an external program (openssl
// s_server / s_client): start it under a deadline, watch what it prints,
// wait for a line or for its exit, and show the command and its output
// when the test fails.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// peerProcess is an external TLS peer running for one test.
type peerProcess struct {
	command string // the command line, for messages
	out     *outputWatcher
	exited  chan struct{} // closed once the process has exited and all its output is in out
	waitErr error         // the exit status; read only after exited is closed
}

// startPeer runs program with args, stdout and stderr together in one
// watched buffer. The process is killed when ctx ends or the test ends, and
// if the test failed its command line and output are logged.
func startPeer(t testing.TB, ctx context.Context, stdin io.Reader, program string, args ...string) *peerProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, program, args...)
	p := &peerProcess{
		command: commandLine(program, args),
		out:     newOutputWatcher(),
		exited:  make(chan struct{}),
	}
	cmd.Stdin = stdin
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	// After a kill, do not wait long for the goroutine feeding stdin.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", p.command, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.exited
		if t.Failed() {
			t.Logf("peer command: %s\npeer exit: %v\npeer output:\n%s", p.command, p.waitErr, shortenLines(p.out.String(), 300))
		}
	})
	return p
}

// waitFor waits until the peer's output matches re and returns the match
// and its submatches. It fails if the process exits first or ctx ends.
func (p *peerProcess) waitFor(ctx context.Context, re *regexp.Regexp) ([]string, error) {
	for {
		out, changed := p.out.snapshot()
		if m := re.FindStringSubmatch(out); m != nil {
			return m, nil
		}
		select {
		case <-changed:
		case <-p.exited:
			if m := re.FindStringSubmatch(p.out.String()); m != nil {
				return m, nil
			}
			return nil, fmt.Errorf("%s exited (%v) before printing %q", p.command, p.waitErr, re)
		case <-ctx.Done():
			return nil, fmt.Errorf("%s printed no %q in time: %w", p.command, re, ctx.Err())
		}
	}
}

// wait waits for the process to exit and returns its exit status. The
// process is killed when the context given to startPeer ends, so this ends too.
func (p *peerProcess) wait() error {
	<-p.exited
	return p.waitErr
}

// output is everything the process printed so far.
func (p *peerProcess) output() string { return p.out.String() }

// outputWatcher collects a process's output and lets waiters know when
// more has arrived.
type outputWatcher struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed, and replaced, on every Write
}

func newOutputWatcher() *outputWatcher {
	return &outputWatcher{changed: make(chan struct{})}
}

func (w *outputWatcher) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	close(w.changed)
	w.changed = make(chan struct{})
	return len(b), nil
}

// snapshot returns the output so far and a channel closed when more arrives.
func (w *outputWatcher) snapshot() (string, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String(), w.changed
}

func (w *outputWatcher) String() string {
	s, _ := w.snapshot()
	return s
}

// commandLine renders a command for a human to paste into a shell.
func commandLine(program string, args []string) string {
	parts := []string{filepath.Base(program)}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$*?;&|<>()") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// shortenLines cuts lines longer than max, so that a failure log shows the
// shape of a peer's output rather than pages of test payload.
func shortenLines(s string, max int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if len(l) > max {
			lines[i] = fmt.Sprintf("%s… (%d bytes)", l[:max], len(l))
		}
	}
	return strings.Join(lines, "\n")
}

// writeTempFile writes data to name in dir and returns the path.
func writeTempFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
