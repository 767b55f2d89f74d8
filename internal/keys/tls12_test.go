package keys_test

import (
	"bytes"
	"crypto"
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow/internal/keys"
)

// Known answers from OpenSSL 3.0's TLS1-PRF, an implementation independent of
// ours. OpenSSL takes the label as the start of the seed, so each vector was
// produced by
//
//	prf() { openssl kdf -keylen $1 -kdfopt digest:$2 -kdfopt hexsecret:$3 \
//	        -kdfopt hexseed:$(printf %s "$4" | od -An -tx1 | tr -d ' \n')$5 TLS1-PRF; }
//
// with the inputs below; the comment on each vector is its prf call.
const (
	prfSecret    = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
	prfSeed      = "303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f"
	preMaster    = "0303101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d"
	clientRandom = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
	serverRandom = "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	sessionHash  = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf" // SHA-256 uses the first 32 bytes
	master       = "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
	handshakeTH  = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f" // SHA-256 uses the first 32 bytes
)

func TestTLS12DerivationsMatchOpenSSL(t *testing.T) {
	sha256SessionHash := unhex(sessionHash)[:32]
	sha256TH := unhex(handshakeTH)[:32]
	keyBlock := func(h crypto.Hash, keyLen, ivLen int) []byte {
		ck, sk, civ, siv := keys.KeyBlock12(keys.Std(h), unhex(master), unhex(clientRandom), unhex(serverRandom), keyLen, ivLen)
		return bytes.Join([][]byte{ck, sk, civ, siv}, nil)
	}
	exporter := func(h crypto.Hash, context []byte) []byte {
		out, err := keys.Exporter12(keys.Std(h), unhex(master), unhex(clientRandom), unhex(serverRandom), "EXPORTER-test", context, 42)
		if err != nil {
			t.Fatalf("Exporter12: %v", err)
		}
		return out
	}
	tests := []struct {
		name string
		got  []byte
		want string
	}{{
		// prf 100 SHA256 $prfSecret "test label" $prfSeed
		name: "PRF with SHA-256, 100 bytes (several P_hash rounds, last one cut)",
		got:  keys.PRF(keys.Std(crypto.SHA256), unhex(prfSecret), "test label", unhex(prfSeed), 100),
		want: "744f7ad7993ddd2e5ea6f9d219b08fc9fff13779832306b48f369bc2610d0de3cc04c26af185f9b5052ab5e74d25a8832f9cd7bde87267fa8fc12e324c0a0e40d4292c58d3b36a2729d0bf757fc10861c5b4e3bb4a2c19c50343b42fc843f2d1300fca7e",
	}, {
		// prf 148 SHA384 $prfSecret "test label" $prfSeed
		name: "PRF with SHA-384, 148 bytes",
		got:  keys.PRF(keys.Std(crypto.SHA384), unhex(prfSecret), "test label", unhex(prfSeed), 148),
		want: "3075351f020ed7775f8acaa6d966de9eea33b55942261804a864ba311547f146a229d7985cd97d2166a5472a7b459142a503741a258c180dd3f27cf4da194ac566cc615f3721b57983c938cbf99a1e4289e81cea07fcdc749e4e748910d47deb1e034f7ec202f4e7e6eaaa62ef95f7c7a213a873ce30d2160c68cd4b561f3f8a7f31c521c9113820bab5b25ee0cb01586b04969f",
	}, {
		// prf 48 SHA256 $preMaster "master secret" $clientRandom$serverRandom
		name: "master secret with SHA-256 (client random first)",
		got:  keys.MasterSecret(keys.Std(crypto.SHA256), unhex(preMaster), unhex(clientRandom), unhex(serverRandom)),
		want: "0d409ae37420fb8824b341c3a9a829b800cb520450795321e6bfa1dd42789e1ef31d9b3c6804d1a71db1f6bc26671eb4",
	}, {
		// prf 48 SHA384 $preMaster "master secret" $clientRandom$serverRandom
		name: "master secret with SHA-384",
		got:  keys.MasterSecret(keys.Std(crypto.SHA384), unhex(preMaster), unhex(clientRandom), unhex(serverRandom)),
		want: "220c16c7e9ac05a285942a0a8c4b76ef345045bf41ac6e22f16e4fba4e71e76eb555eaad16582918aec846a07845ff8a",
	}, {
		// prf 48 SHA256 $preMaster "extended master secret" ${sessionHash:0:64}
		name: "extended master secret with SHA-256",
		got:  keys.ExtendedMasterSecret(keys.Std(crypto.SHA256), unhex(preMaster), sha256SessionHash),
		want: "5f2d75e30c6a896495ffb3f3679b43ca00924fbafdeb4b58ca205a2ce9c8120b7acbe7c10156bf94405582eeb0e2b6f4",
	}, {
		// prf 48 SHA384 $preMaster "extended master secret" $sessionHash
		name: "extended master secret with SHA-384",
		got:  keys.ExtendedMasterSecret(keys.Std(crypto.SHA384), unhex(preMaster), unhex(sessionHash)),
		want: "63db3d384f87ce103fee45b55dd3a994ed5b8b3298e7aff78324958b8e98d0b39c140b74411e2326dc6d21658a28eaad",
	}, {
		// prf 40 SHA256 $master "key expansion" $serverRandom$clientRandom
		name: "key block for AES-128-GCM (server random first; 16-byte keys, 4-byte salts)",
		got:  keyBlock(crypto.SHA256, 16, 4),
		want: "f7209eccdeeae2bd94f8f47f23989255850e84a57e3d2672f31b76fa4234280ba8201049d2561cec",
	}, {
		// prf 72 SHA384 $master "key expansion" $serverRandom$clientRandom
		name: "key block for AES-256-GCM-SHA384",
		got:  keyBlock(crypto.SHA384, 32, 4),
		want: "f22f94492f9b08c8e5c63aa290df6fc36cff5eb335be1ff16e40591411a794a70fc13809a72d94d632b44e5f4553de8741e7f128bda1a2fd386f8474e7e12c4fd9a5f1dc31b5d5d6",
	}, {
		// prf 88 SHA256 $master "key expansion" $serverRandom$clientRandom
		name: "key block for ChaCha20-Poly1305 (12-byte IVs)",
		got:  keyBlock(crypto.SHA256, 32, 12),
		want: "f7209eccdeeae2bd94f8f47f23989255850e84a57e3d2672f31b76fa4234280ba8201049d2561cec815bb84d37e9bf67907f4b0993ebaceb5b97beecf5827e90f90b8edeb7ed460c9771d807b549429fca6793522d612ffd",
	}, {
		// prf 12 SHA256 $master "client finished" ${handshakeTH:0:64}
		name: "client Finished verify_data with SHA-256",
		got:  keys.Finished12(keys.Std(crypto.SHA256), unhex(master), keys.LabelClientFinished, sha256TH),
		want: "972b188a79c944b7fb138794",
	}, {
		// prf 12 SHA384 $master "server finished" $handshakeTH
		name: "server Finished verify_data with SHA-384",
		got:  keys.Finished12(keys.Std(crypto.SHA384), unhex(master), keys.LabelServerFinished, unhex(handshakeTH)),
		want: "24313e73c51c12491d21ff2f",
	}, {
		// prf 42 SHA256 $master EXPORTER-test $clientRandom$serverRandom
		name: "exporter without context leaves the context fields out",
		got:  exporter(crypto.SHA256, nil),
		want: "dbc18fc5d66ad8d37787919533b94b57b009def8028cf6eef136900a2632b773b5479a4c49841a2f872b",
	}, {
		// prf 42 SHA256 $master EXPORTER-test $clientRandom${serverRandom}0000
		name: "exporter with an empty context adds a zero length",
		got:  exporter(crypto.SHA256, []byte{}),
		want: "2f5ccaa0f0042284d449cf85323fe69f203279b21318dfa4e0fbdb7e218db3907307898ecbd34d4d3212",
	}, {
		// prf 42 SHA384 $master EXPORTER-test $clientRandom${serverRandom}0005$(printf hello | od -An -tx1 | tr -d ' \n')
		name: "exporter with a context, SHA-384",
		got:  exporter(crypto.SHA384, []byte("hello")),
		want: "73c52f6c0578ef2e0dc0cf945fd7b386d4a725b0e48d810f4063bc205d4807cbd82b0f5d9907b528eae5",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, tt.name, tt.got, tt.want)
		})
	}
}

func TestKeyBlock12PartsDoNotAlias(t *testing.T) {
	ck, sk, civ, siv := keys.KeyBlock12(keys.Std(crypto.SHA256), unhex(master), unhex(clientRandom), unhex(serverRandom), 16, 4)
	if len(ck) != 16 || len(sk) != 16 || len(civ) != 4 || len(siv) != 4 {
		t.Fatalf("part lengths %d %d %d %d, want 16 16 4 4", len(ck), len(sk), len(civ), len(siv))
	}
	before := append([]byte(nil), sk...)
	_ = append(ck, 0xff) // a caller appending to one part must not overwrite the next
	if !bytes.Equal(sk, before) {
		t.Errorf("appending to client_write_key changed server_write_key")
	}
}

func TestExporter12RefusesReservedLabels(t *testing.T) {
	for _, label := range []string{"client finished", "server finished", "master secret", "extended master secret", "key expansion"} {
		t.Run(label, func(t *testing.T) {
			out, err := keys.Exporter12(keys.Std(crypto.SHA256), unhex(master), unhex(clientRandom), unhex(serverRandom), label, nil, 12)
			if err == nil || out != nil {
				t.Fatalf("Exporter12(%q) = %x, %v; want an error", label, out, err)
			}
			if !strings.Contains(err.Error(), "reserved") {
				t.Errorf("error %q does not say the label is reserved", err)
			}
		})
	}
}

func TestExporter12RefusesBadArguments(t *testing.T) {
	tests := []struct {
		name    string
		context []byte
		n       int
	}{
		{"context longer than its uint16 length field", make([]byte, 1<<16), 16},
		{"negative length", nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if out, err := keys.Exporter12(keys.Std(crypto.SHA256), unhex(master), unhex(clientRandom), unhex(serverRandom), "EXPORTER-test", tt.context, tt.n); err == nil {
				t.Fatalf("Exporter12 = %x, nil; want an error", out)
			}
		})
	}
	if _, err := keys.Exporter12(keys.Std(crypto.SHA256), unhex(master), unhex(clientRandom), unhex(serverRandom), "EXPORTER-test", make([]byte, 0xffff), 16); err != nil {
		t.Errorf("Exporter12 with a 65535-byte context: %v, want success", err)
	}
}

func TestPRFLengths(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 31, 32, 33, 64, 65} {
		got := keys.PRF(keys.Std(crypto.SHA256), []byte("secret"), "label", []byte("seed"), n)
		want := max(n, 0)
		if len(got) != want {
			t.Errorf("PRF(n=%d) returned %d bytes, want %d", n, len(got), want)
		}
		if n > 1 {
			// P_hash is a stream: a shorter output is a prefix of a longer one.
			long := keys.PRF(keys.Std(crypto.SHA256), []byte("secret"), "label", []byte("seed"), 100)
			if !bytes.Equal(got, long[:n]) {
				t.Errorf("PRF(n=%d) is not a prefix of PRF(n=100)", n)
			}
		}
	}
}
