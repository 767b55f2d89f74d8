package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

// TestManInTheMiddleRelaysUntouchedTraffic: a relay that changes nothing
// must be invisible, or the demo's failures would prove nothing.
func TestManInTheMiddleRelaysUntouchedTraffic(t *testing.T) {
	t.Parallel()
	c := sharedCerts(t)
	for _, v := range []uint16{tlsflow.VersionTLS12, tlsflow.VersionTLS13} {
		t.Run(tlsflow.VersionName(v), func(t *testing.T) {
			t.Parallel()
			ln, err := tlsflow.Listen("tcp", "127.0.0.1:0", serverConfig(c))
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				io.Copy(conn, conn) // echo
			}()
			never := &flipPlan{dir: clientToServer, kind: flipMessage, msgType: 99,
				locate: func([]byte) (int, say) { return 0, say{} }}
			m, err := startMITM(ln.Addr().String(), never, func(string) {})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			conn, err := tlsflow.Dial("tcp", m.Addr(), &tlsflow.Config{RootCAs: c.ca.Pool, MinVersion: v, MaxVersion: v})
			if err != nil {
				t.Fatalf("handshake through the relay: %v", err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			msg := bytes.Repeat([]byte("through the middle "), 2000) // several records
			go conn.Write(msg)
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(conn, got); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("echo through the relay: %v", err)
			}
			if m.Changed() != "" {
				t.Errorf("the relay changed something: %s", m.Changed())
			}
		})
	}
}

func record(typ byte, body []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

func handshakeMessage(typ byte, body []byte) []byte {
	n := len(body)
	return append([]byte{typ, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

// TestEditorChangesAMessageSpreadOverRecords holds records back until the
// message is whole, changes one byte in the record that carries it, and
// then forwards everything else exactly.
func TestEditorChangesAMessageSpreadOverRecords(t *testing.T) {
	first := handshakeMessage(typeServerHello, bytes.Repeat([]byte{0x11}, 70))
	cert := bytes.Repeat([]byte{0x22}, 300)
	certMsg := handshakeMessage(typeCertificate, append([]byte{0, 1, 47, 0, 1, 44}, cert...))
	stream := append(append([]byte(nil), first...), certMsg...)
	// Records cut at 100 and 250: the Certificate starts in the first
	// record and ends in the third.
	recs := [][]byte{record(recordHandshake, stream[:100]), record(recordHandshake, stream[100:250]), record(recordHandshake, stream[250:])}
	var original []byte
	for _, r := range recs {
		original = append(original, r...)
	}

	e := &editor{plan: &flipPlan{dir: serverToClient, kind: flipMessage, msgType: typeCertificate, locate: atLeafSignature}, armAt: -1}
	var out []byte
	var notes []string
	for i, r := range recs {
		fwd, note := e.edit(append([]byte(nil), r...))
		if i < len(recs)-1 && len(fwd) != 0 {
			t.Fatalf("record %d forwarded before the message was whole", i)
		}
		out = append(out, fwd...)
		if note != "" {
			notes = append(notes, note)
		}
	}
	if len(out) != len(original) {
		t.Fatalf("forwarded %d bytes, want %d", len(out), len(original))
	}
	// The last byte of the certificate: in the third record's last byte.
	want := append([]byte(nil), original...)
	want[len(want)-1] ^= 0x01
	if !bytes.Equal(out, want) {
		for i := range out {
			if out[i] != want[i] {
				t.Fatalf("forwarded byte %d is %#x, want %#x", i, out[i], want[i])
			}
		}
	}
	if len(notes) != 1 {
		t.Fatalf("notes = %q, want one", notes)
	}
	// Later records pass untouched.
	later := record(recordHandshake, handshakeMessage(typeCertificate, make([]byte, 10)))
	if fwd, note := e.edit(append([]byte(nil), later...)); !bytes.Equal(fwd, later) || note != "" {
		t.Errorf("a record after the change was altered or held back")
	}
}

func TestEditorFlipsTheArmedApplicationDataRecord(t *testing.T) {
	e := &editor{plan: &flipPlan{dir: clientToServer, kind: flipAppData}, armAt: -1}
	finished := record(recordApplicationData, make([]byte, 40))
	if fwd, note := e.edit(append([]byte(nil), finished...)); note != "" || !bytes.Equal(fwd, finished) {
		t.Fatal("changed a record before the handshake was over")
	}
	e.armAt = int64(len(finished))
	data := record(recordApplicationData, make([]byte, 40))
	fwd, note := e.edit(append([]byte(nil), data...))
	if note == "" || bytes.Equal(fwd, data) {
		t.Fatal("did not change the first application data record after the handshake")
	}
	if diff := len(fwd) - aeadTagLen - 1; fwd[diff] != 0x01 {
		t.Errorf("changed the wrong byte: %x", fwd)
	}
}

func TestReadRecordRefusesWhatIsNotTLS(t *testing.T) {
	for name, in := range map[string][]byte{
		"too long":  {recordHandshake, 3, 3, 0xff, 0xff},
		"not TLS":   []byte("GET / HTTP/1.1\r\n"),
		"truncated": {recordHandshake, 3, 3, 0, 10, 1, 2},
	} {
		if _, err := readRecord(bytes.NewReader(in)); err == nil {
			t.Errorf("%s: readRecord accepted %q", name, in)
		} else if name != "truncated" && !errors.Is(err, errNotTLS) {
			t.Errorf("%s: err = %v, want errNotTLS", name, err)
		}
	}
}

// TestLocatorsStayInsideTheMessage feeds every locator each prefix of a
// message: none may panic or point outside what it was given.
func TestLocatorsStayInsideTheMessage(t *testing.T) {
	c := sharedCerts(t)
	hello := func() []byte { // a real ClientHello, from a client talking to nobody
		a, b := net.Pipe()
		defer a.Close()
		go tlsflow.Client(a, &tlsflow.Config{ServerName: "x", MaxVersion: tlsflow.VersionTLS12}).Handshake()
		buf := make([]byte, 4096)
		b.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _ := io.ReadAtLeast(b, buf, recordHeaderLen)
		b.Close()
		return buf[recordHeaderLen:n]
	}()
	certMsg := handshakeMessage(typeCertificate, append([]byte{0, 1, 0, 0, 0, 253}, c.server.Chain[0][:253]...))
	locators := map[string]func([]byte) (int, say){
		"ClientHello": atExtendedMasterSecret, "ServerHello": atServerRandom, "Certificate": atLeafSignature,
		"ServerKeyExchange": atServerKeyShare, "ClientKeyExchange RSA": atClientKeyExchange(true),
		"ClientKeyExchange ECDHE": atClientKeyExchange(false), "CertificateVerify": atCertificateVerifySignature,
	}
	if i, _ := atExtendedMasterSecret(hello); i < randomOffset+32 || hello[i] != 0 || hello[i+1] != extExtendedMasterSecret {
		t.Errorf("atExtendedMasterSecret found offset %d in a ClientHello that has the extension", i)
	}
	for _, msg := range [][]byte{hello, certMsg, handshakeMessage(typeServerKeyExchange, []byte{3, 0, 29, 32})} {
		for n := 0; n <= len(msg); n++ {
			for name, locate := range locators {
				if i, _ := locate(msg[:n]); i >= n {
					t.Fatalf("%s: offset %d outside a %d-byte message", name, i, n)
				}
			}
		}
	}
}
