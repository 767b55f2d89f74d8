// Command bogo-shim runs tlsflow under BoringSSL's TLS test runner ("BoGo",
// ssl/test/runner in the BoringSSL repository; ssl/test/PORTING.md).
//
// The runner starts the shim once per test with flags describing the
// connection (see BoringSSL's ssl/test/test_config.cc). The shim connects
// to the runner as a TCP client on -port, sends its -shim-id as a 64-bit
// little-endian integer, then plays the TLS client or (-server) server,
// echoing every application data byte XORed with 0xFF. It exits 0 on
// success, 1 on failure (with the reason on stderr), and 89 when asked for
// something tlsflow does not implement, which the runner counts as
// "unimplemented" rather than failed.
//
// How to run the suite is in docs/CONFORMANCE.md; the tests left out, with
// their reasons, are in bogo/config.json. The OpenSSL provider is linked
// in: TLSFLOW_PROVIDER=openssl runs the suite on it.
package main

import (
	"errors"
	"fmt"
	"os"

	_ "github.com/tlsflow/tlsflow/provider/openssl" // TLSFLOW_PROVIDER=openssl
)

// Exit codes the runner gives meaning to (ssl/test/runner/runner.go).
const (
	exitFailure       = 1
	exitUnimplemented = 89
)

func main() {
	os.Exit(shimMain(os.Args[1:]))
}

func shimMain(args []string) int {
	initial, resume, retry, err := parseFlags(args)
	var unimpl *errUnimplemented
	switch {
	case errors.As(err, &unimpl):
		fmt.Fprintln(os.Stderr, err)
		return exitUnimplemented
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return exitFailure
	}
	if initial.supported {
		// No split-handshake helper: the runner then skips those tests.
		fmt.Println("No")
		return 0
	}
	if err := run(initial, resume, retry); err != nil {
		if errors.As(err, &unimpl) {
			fmt.Fprintln(os.Stderr, err)
			return exitUnimplemented
		}
		fmt.Fprintln(os.Stderr, err)
		return exitFailure
	}
	return 0
}
