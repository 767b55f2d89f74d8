package record_test

import (
	"bytes"
	"crypto"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/record"
)

// TestAEAD12DecryptsCryptoTLS checks TLS 1.2 record protection against
// crypto/tls, an independent implementation. crypto/tls runs a full
// handshake and exchanges application data over net.Pipe; we capture both
// directions, take the master secret from its key log, derive the keys with
// internal/keys, and read both streams with our Reader: the plaintext
// handshake, the change_cipher_spec, the protected Finished (sequence number
// 0 of the new epoch) and the protected application data (sequence 1).
func TestAEAD12DecryptsCryptoTLS(t *testing.T) {
	suites := []struct {
		name          string
		id            uint16
		hash          crypto.Hash
		keyLen, ivLen int
		newAEAD       func(testing.TB, []byte) cipher.AEAD
		explicit      bool
	}{
		{"ECDHE-ECDSA-AES128-GCM-SHA256", tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, crypto.SHA256, 16, 4, newGCM, true},
		{"ECDHE-ECDSA-AES256-GCM-SHA384", tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, crypto.SHA384, 32, 4, newGCM, true},
		{"ECDHE-ECDSA-CHACHA20-POLY1305", tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, crypto.SHA256, 32, 12, newChaCha, false},
	}
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			conv := runGoTLS12(t, s.id, "ping from the client", "pong from the server")
			clientKey, serverKey, clientIV, serverIV := keys.KeyBlock12(keys.Std(s.hash), conv.master, conv.clientRandom, conv.serverRandom, s.keyLen, s.ivLen)

			client := readTLS12Stream(t, conv.clientWrote, record.NewAEAD12(s.newAEAD(t, clientKey), clientIV, s.explicit))
			server := readTLS12Stream(t, conv.serverWrote, record.NewAEAD12(s.newAEAD(t, serverKey), serverIV, s.explicit))

			if string(client.appData) != "ping from the client" || string(server.appData) != "pong from the server" {
				t.Errorf("decrypted application data %q / %q", client.appData, server.appData)
			}

			// The Finished messages decrypted right; check their verify_data too.
			// Full handshake order: ClientHello, the server's first flight,
			// ClientKeyExchange, client Finished, server Finished.
			var tr keys.Transcript
			tr.SetHash(keys.Std(s.hash))
			tr.Write(client.handshake[0])
			for _, m := range server.handshake {
				tr.Write(m)
			}
			for _, m := range client.handshake[1:] {
				tr.Write(m)
			}
			wantClient := append([]byte{20, 0, 0, 12}, keys.Finished12(keys.Std(s.hash), conv.master, keys.LabelClientFinished, tr.Sum())...)
			if !bytes.Equal(client.finished, wantClient) {
				t.Errorf("client Finished %x, want %x", client.finished, wantClient)
			}
			tr.Write(client.finished)
			wantServer := append([]byte{20, 0, 0, 12}, keys.Finished12(keys.Std(s.hash), conv.master, keys.LabelServerFinished, tr.Sum())...)
			if !bytes.Equal(server.finished, wantServer) {
				t.Errorf("server Finished %x, want %x", server.finished, wantServer)
			}

			// Our Seal must produce crypto/tls's bytes for the same record.
			sealer := record.NewAEAD12(s.newAEAD(t, clientKey), clientIV, s.explicit)
			sealed, err := sealer.Seal(nil, record.Handshake, 0x0303, client.finished)
			if err != nil || !bytes.Equal(sealed, client.finishedRecord) {
				t.Errorf("Seal(client Finished) = %x, %v\ncrypto/tls sent %x", sealed, err, client.finishedRecord)
			}
			// With -v, the values to refreeze TestAEAD12KnownAnswers from.
			t.Logf("key %x iv %x\nseq 0: client Finished %x\nrecord %x\nseq 1: %x", clientKey, clientIV, client.finished, client.finishedRecord, client.appDataRecord)
		})
	}
}

// TestAEAD12KnownAnswers replays two client records frozen from a run of
// TestAEAD12DecryptsCryptoTLS, so the TLS 1.2 record format stays pinned
// without a live crypto/tls handshake: the Finished at sequence number 0 and
// "ping from the client" at 1. Each is opened in order and sealed again to
// the same bytes.
func TestAEAD12KnownAnswers(t *testing.T) {
	type knownRecord struct {
		typ               record.ContentType
		plaintext, record string
	}
	tests := []struct {
		name     string
		newAEAD  func(testing.TB, []byte) cipher.AEAD
		key, iv  string
		explicit bool
		records  []knownRecord // from sequence number 0
	}{{
		name: "ECDHE-ECDSA-AES128-GCM-SHA256", newAEAD: newGCM, explicit: true,
		key: "e2adbc93ba75dd1f1a9b01d0153f63ef", iv: "6048b7fa",
		records: []knownRecord{
			{record.Handshake, "1400000ce6c33c3445e05ba1985ae1ee",
				"16030300280000000000000000e3cdb0a2b065e72caae44e28a73a637fef6ab369bac0402754d52c8a284a5483"},
			{record.ApplicationData, hex.EncodeToString([]byte("ping from the client")),
				"170303002c0000000000000001fdbc7dd6b81080f96f2cb8c63efdce4593e2a611f1d7cd7db05ac3437054ec4d82247fdf"},
		},
	}, {
		name: "ECDHE-ECDSA-CHACHA20-POLY1305", newAEAD: newChaCha, explicit: false,
		key: "984939dd98a6f21f54c34cec2acc0951fd809a4097b6eee817dbd259d224dded", iv: "cf39a923bdd3d9dff7558504",
		records: []knownRecord{
			{record.Handshake, "1400000c3d25ecdac44acb865636a521",
				"1603030020756e075e3cee5cd56628cf7a819c7fd304ab87f3038d93285d3377ea70a4f93c"},
			{record.ApplicationData, hex.EncodeToString([]byte("ping from the client")),
				"1703030024a76af926e40af8eb5f1062b71805e412fffc8a00f96d4b75de1d6ce99f487dcd011ade9e"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opener := record.NewAEAD12(tt.newAEAD(t, unhex(tt.key)), unhex(tt.iv), tt.explicit)
			sealer := record.NewAEAD12(tt.newAEAD(t, unhex(tt.key)), unhex(tt.iv), tt.explicit)
			for seq, r := range tt.records {
				hdr, fragment := splitRecord(unhex(r.record))
				typ, plaintext, err := opener.Open(hdr, fragment)
				if err != nil || typ != r.typ || !bytes.Equal(plaintext, unhex(r.plaintext)) {
					t.Errorf("seq %d: Open = %s %x %v, want %s %s", seq, typ, plaintext, err, r.typ, r.plaintext)
				}
				sealed, err := sealer.Seal(nil, r.typ, 0x0303, unhex(r.plaintext))
				if err != nil || !bytes.Equal(sealed, unhex(r.record)) {
					t.Errorf("seq %d: Seal = %x %v\nwant %s", seq, sealed, err, r.record)
				}
			}
		})
	}
}

// goTLS12 is what one crypto/tls TLS 1.2 conversation leaves behind.
type goTLS12 struct {
	master, clientRandom, serverRandom []byte
	clientWrote, serverWrote           []byte
}

// runGoTLS12 runs a crypto/tls client and server with one cipher suite,
// sends ping from the client and pong from the server, and returns the
// bytes each side wrote with the secrets from the key log.
func runGoTLS12(t *testing.T, suite uint16, ping, pong string) goTLS12 {
	t.Helper()
	cert := selfSignedECDSA(t)
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	var keyLog bytes.Buffer
	serverConfig := &tls.Config{
		Certificates:           []tls.Certificate{cert},
		MaxVersion:             tls.VersionTLS12,
		CipherSuites:           []uint16{suite},
		SessionTicketsDisabled: true,
	}
	clientConfig := &tls.Config{
		RootCAs:      roots,
		ServerName:   "test.example",
		MaxVersion:   tls.VersionTLS12,
		CipherSuites: []uint16{suite},
		KeyLogWriter: &keyLog,
	}

	c, s := net.Pipe()
	deadline := time.Now().Add(10 * time.Second)
	c.SetDeadline(deadline)
	s.SetDeadline(deadline)
	cw, sw := &writeRecorder{Conn: c}, &writeRecorder{Conn: s}
	client, server := tls.Client(cw, clientConfig), tls.Server(sw, serverConfig)

	var wg sync.WaitGroup
	var serverErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, len(ping))
		if _, serverErr = io.ReadFull(server, buf); serverErr != nil {
			return
		}
		_, serverErr = server.Write([]byte(pong))
	}()
	if _, err := client.Write([]byte(ping)); err != nil {
		t.Fatalf("crypto/tls client: %v", err)
	}
	buf := make([]byte, len(pong))
	if _, err := io.ReadFull(client, buf); err != nil {
		t.Fatalf("crypto/tls client read: %v", err)
	}
	wg.Wait()
	if serverErr != nil {
		t.Fatalf("crypto/tls server: %v", serverErr)
	}
	c.Close() // not client.Close: no close_notify, which nobody would read
	s.Close()

	conv := goTLS12{clientWrote: cw.bytes(), serverWrote: sw.bytes()}
	f := strings.Fields(keyLog.String()) // CLIENT_RANDOM <client_random> <master_secret>
	if len(f) != 3 || f[0] != "CLIENT_RANDOM" {
		t.Fatalf("key log %q", keyLog.String())
	}
	conv.clientRandom, _ = hex.DecodeString(f[1])
	conv.master, _ = hex.DecodeString(f[2])
	// ServerHello: record header(5) msg_type(1) length(3) server_version(2) random(32).
	if len(conv.serverWrote) < 43 || conv.serverWrote[0] != 22 || conv.serverWrote[5] != 2 {
		t.Fatalf("the server did not start with a ServerHello record")
	}
	conv.serverRandom = conv.serverWrote[11:43]
	return conv
}

// writeRecorder keeps a copy of everything written to the wrapped conn.
type writeRecorder struct {
	net.Conn
	mu    sync.Mutex
	wrote bytes.Buffer
}

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.wrote.Write(p)
	w.mu.Unlock()
	return w.Conn.Write(p)
}

func (w *writeRecorder) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]byte(nil), w.wrote.Bytes()...)
}

// tls12Stream is one direction of a TLS 1.2 conversation, read by us.
type tls12Stream struct {
	handshake      [][]byte // messages before change_cipher_spec
	finished       []byte   // the first protected handshake message
	finishedRecord []byte   // the record that carried it, as sent
	appData        []byte
	appDataRecord  []byte // the first application_data record, as sent
}

// readTLS12Stream reads one direction with our Reader and HandshakeBuffer,
// switching to c at the change_cipher_spec.
func readTLS12Stream(t *testing.T, stream []byte, c record.Cipher) tls12Stream {
	t.Helper()
	var out tls12Stream
	src := bytes.NewReader(stream)
	r := record.NewReader(src)
	var hb record.HandshakeBuffer
	protected := false
	// The Reader reads ahead, so each record's place in the stream comes
	// from its header (crypto/tls sends no empty records, which ReadRecord
	// would skip).
	offset, end := 0, 0
	for {
		typ, payload, err := r.ReadRecord()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading crypto/tls's records: %v", err)
		}
		offset, end = end, end+record.HeaderLen+r.LastRecordLen()
		switch typ {
		case record.ChangeCipherSpec:
			if !hb.Empty() {
				t.Fatalf("change_cipher_spec inside a handshake message")
			}
			r.SetCipher(c)
			protected = true
		case record.Handshake:
			hb.Add(payload)
			for {
				m, ok, err := hb.Next()
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				if !protected {
					out.handshake = append(out.handshake, m)
				} else if out.finished == nil {
					out.finished = m
					out.finishedRecord = stream[offset:end]
				}
			}
		case record.ApplicationData:
			out.appData = append(out.appData, payload...)
			if out.appDataRecord == nil {
				out.appDataRecord = stream[offset:end]
			}
		}
	}
	if out.finished == nil {
		t.Fatalf("no protected Finished in the stream")
	}
	return out
}

func selfSignedECDSA(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		DNSNames:     []string{"test.example"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}
