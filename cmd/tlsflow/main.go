// Command tlsflow shows TLS handshakes step by step.
//
//	tlsflow demo [flags]    a client and a server in one process, the course note's flow end to end
package main

import (
	"fmt"
	"os"
)

const usage = `tlsflow shows every step of a TLS handshake.

Usage:
  tlsflow demo [flags]    run a client and a server on loopback and print the flow, steps 0–8

Run "tlsflow <command> --help" for the flags of a command.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "demo":
		err = runDemo(args, os.Stdout)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "tlsflow: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tlsflow:", err)
		os.Exit(1)
	}
}
