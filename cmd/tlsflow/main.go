// crypto/tls only does the RSA key exchange when asked: bench compares it too.

//go:debug tlsrsakex=1

// Command tlsflow shows TLS handshakes step by step.
//
//	tlsflow demo [flags]               a client and a server in one process, the course note's flow end to end
//	tlsflow connect [flags] host:port  a TLS client: connect to a server and show the handshake
//	tlsflow serve [flags]              a TLS server whose web page shows each visitor's handshake
//	tlsflow view [flags] [FILE.jsonl]  a handshake as a sequence diagram in the browser
//	tlsflow bench [flags]              tlsflow beside crypto/tls: handshakes, CPU and allocations
//	tlsflow probe [flags] host[:port]  what a server accepts and prefers, rated
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// usage is the list of commands, in the language of the environment
// (LC_ALL, LC_MESSAGES, LANG): no command has chosen a --lang yet.
var usage = say{usageEnglish, usageGerman}

const usageEnglish = `tlsflow shows every step of a TLS handshake.

Usage:
  tlsflow demo [flags]               run a client and a server on loopback and print the flow, steps 0–8
  tlsflow connect [flags] host:port  connect to a TLS server and print the handshake
  tlsflow serve [flags]              run a TLS server whose page shows each visitor's handshake
  tlsflow view [flags] [FILE.jsonl]  draw a handshake (recorded, or a live one) as a diagram in the browser
  tlsflow bench [flags]              measure tlsflow beside crypto/tls in the same run
  tlsflow probe [flags] host[:port]  find out what a TLS server accepts and prefers, rated

Run "tlsflow <command> --help" for the flags of a command, with examples.
The steps 0–8 are the course note's; docs/FLOW.md says which messages of
TLS 1.2 and 1.3 each stands for.
`

const usageGerman = `tlsflow zeigt jeden Schritt eines TLS-Handshakes.

Aufruf:
  tlsflow demo [Flags]               Client und Server über Loopback, der Ablauf in den Schritten 0–8
  tlsflow connect [Flags] host:port  mit einem TLS-Server verbinden und den Handshake zeigen
  tlsflow serve [Flags]              ein TLS-Server, dessen Seite jedem Besucher seinen Handshake zeigt
  tlsflow view [Flags] [DATEI.jsonl] einen Handshake (aufgezeichnet oder live) als Diagramm im Browser zeigen
  tlsflow bench [Flags]              tlsflow neben crypto/tls im selben Lauf messen
  tlsflow probe [Flags] host[:port]  ermitteln, was ein TLS-Server annimmt und bevorzugt, bewertet

"tlsflow <Befehl> --help" nennt die Flags eines Befehls, mit Beispielen.
Die Schritte 0–8 sind die der Kursnotiz; docs/FLOW.md sagt, für welche
Nachrichten von TLS 1.2 und 1.3 jeder steht.
`

// errReported is returned by a command that has already explained its
// failure: main exits with status 1 and says nothing more, so that each
// failure is told once.
var errReported = errors.New("failure reported")

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, pickLanguage("").say(usage))
		os.Exit(2)
	}
	// Ctrl-C ends serve (and a connect) cleanly, running deferred cleanups.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "demo":
		err = runDemo(args, os.Stdout)
	case "connect":
		err = runConnect(ctx, args, os.Stdout, os.Stderr)
	case "serve":
		err = runServe(ctx, args, os.Stdout)
	case "view":
		err = runView(ctx, args, os.Stdout)
	case "bench":
		err = runBench(args, os.Stdout)
	case "probe":
		err = runProbe(ctx, args, os.Stdout, os.Stderr)
	case "help", "-h", "--help":
		fmt.Print(pickLanguage("").say(usage))
		return
	default:
		fmt.Fprintf(os.Stderr, "%s\ntlsflow: unknown command %q\n", pickLanguage("").say(usage), cmd)
		os.Exit(2)
	}
	if es := exitStatus(0); errors.As(err, &es) {
		os.Exit(int(es)) // the command has reported, and chosen the status
	}
	if errors.Is(err, errReported) {
		os.Exit(1) // the command has explained the failure
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tlsflow:", err)
		var ue *usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
