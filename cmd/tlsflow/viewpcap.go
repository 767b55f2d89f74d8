package main

// tlsflow view --pcap: the TLS connections of a packet capture, as text,
// JSON lines or the page.

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/capture"
	"github.com/tlsflow/tlsflow/trace"
)

type pcapFlags struct {
	pcap, keyLog string
	conn         int
	trace        traceFlags
}

func (p *pcapFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.pcap, "pcap", "", "read a packet capture (pcap or pcapng) and show the TLS connections in it")
	fs.StringVar(&p.keyLog, "keylog", "", "with --pcap: decrypt with the secrets of this NSS key log (the SSLKEYLOGFILE format)")
	fs.IntVar(&p.conn, "conn", 0, "with --pcap: which connection the page shows, 1 for the first (default 1)")
	p.trace.register(fs, "", false)
	// register's --trace default is the connect command's; here none
	// given means the page.
	fs.Lookup("trace").Usage = "with --pcap: write every connection to standard output as text or json (one event per line) instead of serving the page"
}

// set reports whether a flag that only --pcap uses was given.
func (p *pcapFlags) set() bool {
	return p.keyLog != "" || p.conn != 0 || p.trace.format != "" || p.trace.hex || p.trace.lang != ""
}

// run reads the capture. With --trace it writes the connections to out
// and returns no events; else it returns the events of the connection the
// page is to show and what to call it.
func (p *pcapFlags) run(out io.Writer) ([]trace.Event, string, error) {
	switch p.trace.format {
	case "", "text", "json":
	default:
		return nil, "", usagef("--trace %q: want text or json (without it, the page)", p.trace.format)
	}
	if err := checkLang(p.trace.lang); err != nil {
		return nil, "", err
	}
	if p.conn < 0 || p.conn > 0 && p.trace.format != "" {
		return nil, "", usagef("--conn chooses the connection the page shows: 1 or more, without --trace")
	}
	var opt capture.Options
	if p.keyLog != "" {
		f, err := os.Open(p.keyLog)
		if err != nil {
			return nil, "", err
		}
		opt.KeyLog, err = capture.ReadKeyLog(f)
		f.Close()
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", p.keyLog, err)
		}
	}
	f, err := os.Open(p.pcap)
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	c, err := capture.Read(f, opt)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", p.pcap, err)
	}
	// Problems go with the text; JSON lines stay events only.
	notes := out
	if p.trace.format == "json" {
		notes = os.Stderr
	}
	for _, problem := range c.Problems {
		fmt.Fprintf(notes, "tlsflow view: %s: %s\n", p.pcap, problem)
	}
	if len(c.Connections) == 0 {
		return nil, "", fmt.Errorf("%s: no TLS connection in the capture (a TLS connection is found by its ClientHello)", p.pcap)
	}
	switch p.trace.format {
	case "json":
		for _, conn := range c.Connections {
			hook := p.trace.hook(out, false, false)
			for _, e := range conn.Events {
				hook(e)
			}
		}
		return nil, "", nil
	case "text":
		for i, conn := range c.Connections {
			fmt.Fprintf(out, "%s\n", connectionLine(i, conn))
			hook := p.trace.hook(out, trace.ColorAuto(out), false)
			for _, e := range conn.Events {
				hook(e)
			}
			fmt.Fprintln(out)
		}
		return nil, "", nil
	}
	fmt.Fprintf(out, "tlsflow view: %d TLS connection(s) in %s:\n", len(c.Connections), p.pcap)
	for i, conn := range c.Connections {
		fmt.Fprintf(out, "  %s\n", connectionLine(i, conn))
	}
	n := max(p.conn, 1)
	if n > len(c.Connections) {
		return nil, "", usagef("--conn %d: the capture has %d TLS connection(s)", n, len(c.Connections))
	}
	return c.Connections[n-1].Events, fmt.Sprintf("connection %d of %s", n, p.pcap), nil
}

// connectionLine names a connection: its number, its ends, what the
// hellos chose, and whether anything stayed encrypted.
func connectionLine(i int, c *capture.Connection) string {
	parts := []string{fmt.Sprintf("#%d %s → %s", i+1, c.Client, c.Server)}
	if c.Version != 0 {
		parts = append(parts, tlsflow.VersionName(c.Version), tlsflow.CipherSuiteName(c.CipherSuite))
	}
	encrypted := false
	for _, e := range c.Events {
		if e.Kind == trace.KindMessage && e.Message == "encrypted records" {
			encrypted = true
		}
	}
	if encrypted {
		parts = append(parts, "(partly not decrypted)")
	}
	return strings.Join(parts, "  ")
}
