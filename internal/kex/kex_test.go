package kex

import (
	"bytes"
	"crypto/ecdh"
	"crypto/mlkem"
	"strings"
	"testing"
)

var allGroups = []struct {
	group                                 uint16
	initiatorLen, responderLen, secretLen int
}{
	{X25519, 32, 32, 32},
	{P256, 65, 65, 32},
	{P384, 97, 97, 48},
	{P521, 133, 133, 66},
	{X25519MLKEM768, 1216, 1120, 64},
	{SecP256r1MLKEM768, 1249, 1153, 64},
	{SecP384r1MLKEM1024, 1665, 1665, 80},
}

func TestInitiatorAndResponderAgreeOnEveryGroup(t *testing.T) {
	for _, tc := range allGroups {
		t.Run(Name(tc.group), func(t *testing.T) {
			ks, err := NewKeyShare(nil, tc.group, nil)
			if err != nil {
				t.Fatalf("NewKeyShare: %v", err)
			}
			if ks.Group() != tc.group {
				t.Errorf("Group() = %#04x, want %#04x", ks.Group(), tc.group)
			}
			if got := len(ks.Public()); got != tc.initiatorLen {
				t.Errorf("initiator key_exchange is %d bytes, want %d", got, tc.initiatorLen)
			}
			public, secret, err := Respond(nil, tc.group, ks.Public(), nil)
			if err != nil {
				t.Fatalf("Respond: %v", err)
			}
			if len(public) != tc.responderLen {
				t.Errorf("responder key_exchange is %d bytes, want %d", len(public), tc.responderLen)
			}
			if len(secret) != tc.secretLen {
				t.Errorf("responder secret is %d bytes, want %d", len(secret), tc.secretLen)
			}
			got, err := ks.SharedSecret(public)
			if err != nil {
				t.Fatalf("SharedSecret: %v", err)
			}
			if !bytes.Equal(got, secret) {
				t.Errorf("initiator secret %x != responder secret %x", got, secret)
			}
		})
	}
}

func TestKeySharesAreFreshEachTime(t *testing.T) {
	for _, tc := range allGroups {
		a, errA := NewKeyShare(nil, tc.group, nil)
		b, errB := NewKeyShare(nil, tc.group, nil)
		if errA != nil || errB != nil {
			t.Fatalf("%s: NewKeyShare: %v, %v", Name(tc.group), errA, errB)
		}
		if bytes.Equal(a.Public(), b.Public()) {
			t.Errorf("%s: two key shares have the same public value", Name(tc.group))
		}
	}
}

func TestPublicReturnsACopy(t *testing.T) {
	for _, tc := range allGroups {
		ks, err := NewKeyShare(nil, tc.group, nil)
		if err != nil {
			t.Fatal(err)
		}
		p := ks.Public()
		p[len(p)-1] ^= 0xff
		if bytes.Equal(p, ks.Public()) {
			t.Errorf("%s: modifying Public()'s result changed the key share", Name(tc.group))
		}
	}
}

// An ECDH computed by crypto/ecdh on its own agrees with both of our roles.
func TestECDHAgreesWithIndependentCryptoECDH(t *testing.T) {
	for _, tc := range []struct {
		group uint16
		curve ecdh.Curve
	}{{X25519, ecdh.X25519()}, {P256, ecdh.P256()}, {P384, ecdh.P384()}} {
		t.Run(Name(tc.group), func(t *testing.T) {
			other, err := tc.curve.GenerateKey(nil)
			if err != nil {
				t.Fatal(err)
			}

			// We initiate; the independent key responds.
			ks, err := NewKeyShare(nil, tc.group, nil)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := ks.SharedSecret(other.PublicKey().Bytes())
			if err != nil {
				t.Fatalf("SharedSecret: %v", err)
			}
			theirs := ecdhWith(t, other, tc.curve, ks.Public())
			if !bytes.Equal(ours, theirs) {
				t.Errorf("initiator: ours %x, crypto/ecdh %x", ours, theirs)
			}

			// The independent key initiates; we respond.
			public, secret, err := Respond(nil, tc.group, other.PublicKey().Bytes(), nil)
			if err != nil {
				t.Fatalf("Respond: %v", err)
			}
			if theirs := ecdhWith(t, other, tc.curve, public); !bytes.Equal(secret, theirs) {
				t.Errorf("responder: ours %x, crypto/ecdh %x", secret, theirs)
			}
		})
	}
}

func ecdhWith(t *testing.T, priv *ecdh.PrivateKey, curve ecdh.Curve, peer []byte) []byte {
	t.Helper()
	pub, err := curve.NewPublicKey(peer)
	if err != nil {
		t.Fatalf("crypto/ecdh rejects our public value: %v", err)
	}
	s, err := priv.ECDH(pub)
	if err != nil {
		t.Fatalf("crypto/ecdh: %v", err)
	}
	return s
}

// The hybrid shares and secret are laid out ML-KEM first, then X25519
// (draft-ietf-tls-ecdhe-mlkem §3.1): checked against a composition done by
// hand with crypto/mlkem and crypto/ecdh.
func TestX25519MLKEM768MatchesManualComposition(t *testing.T) {
	t.Run("we respond", func(t *testing.T) {
		dk, err := mlkem.GenerateKey768()
		if err != nil {
			t.Fatal(err)
		}
		x, err := ecdh.X25519().GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		clientShare := append(dk.EncapsulationKey().Bytes(), x.PublicKey().Bytes()...)

		public, secret, err := Respond(nil, X25519MLKEM768, clientShare, nil)
		if err != nil {
			t.Fatalf("Respond: %v", err)
		}
		mlkemSecret, err := dk.Decapsulate(public[:mlkem.CiphertextSize768])
		if err != nil {
			t.Fatalf("decapsulating our ciphertext: %v", err)
		}
		x25519Secret := ecdhWith(t, x, ecdh.X25519(), public[mlkem.CiphertextSize768:])
		if want := append(mlkemSecret, x25519Secret...); !bytes.Equal(secret, want) {
			t.Errorf("secret = %x\nwant mlkem_ss || x25519_ss = %x", secret, want)
		}
	})

	t.Run("we initiate", func(t *testing.T) {
		ks, err := NewKeyShare(nil, X25519MLKEM768, nil)
		if err != nil {
			t.Fatal(err)
		}
		clientShare := ks.Public()
		ek, err := mlkem.NewEncapsulationKey768(clientShare[:mlkem.EncapsulationKeySize768])
		if err != nil {
			t.Fatalf("our share does not start with an ML-KEM-768 encapsulation key: %v", err)
		}
		mlkemSecret, ciphertext := ek.Encapsulate()
		x, err := ecdh.X25519().GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		x25519Secret := ecdhWith(t, x, ecdh.X25519(), clientShare[mlkem.EncapsulationKeySize768:])
		serverShare := append(ciphertext, x.PublicKey().Bytes()...)

		secret, err := ks.SharedSecret(serverShare)
		if err != nil {
			t.Fatalf("SharedSecret: %v", err)
		}
		if want := append(mlkemSecret, x25519Secret...); !bytes.Equal(secret, want) {
			t.Errorf("secret = %x\nwant mlkem_ss || x25519_ss = %x", secret, want)
		}
	})
}

func TestBadPeerInputsAreRejected(t *testing.T) {
	validP256 := mustPublic(t, P256)
	offCurveP256 := append([]byte(nil), validP256...)
	offCurveP256[len(offCurveP256)-1] ^= 0x01
	wrongPrefixP256 := append([]byte(nil), validP256...)
	wrongPrefixP256[0] = 0x02
	compressedP256 := append([]byte{0x02 | validP256[64]&1}, validP256[1:33]...)
	offCurveP384 := mustPublic(t, P384)
	offCurveP384[len(offCurveP384)-1] ^= 0x01

	zeroX25519 := make([]byte, 32)
	oneX25519 := make([]byte, 32)
	oneX25519[0] = 1 // u = 1, a low-order point

	validEK := mustPublic(t, X25519MLKEM768)[:mlkem.EncapsulationKeySize768]
	invalidEK := bytes.Repeat([]byte{0xff}, mlkem.EncapsulationKeySize768) // coefficients >= q
	validX25519 := mustPublic(t, X25519)

	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	// Initiator side: what a responder might send back.
	for _, tc := range []struct {
		name    string
		group   uint16
		peer    []byte
		wantErr string
	}{
		{"x25519 share too short", X25519, validX25519[:31], "is 31 bytes, want 32"},
		{"x25519 all-zero point", X25519, zeroX25519, "all-zero"},
		{"x25519 low-order point u=1", X25519, oneX25519, "all-zero"},
		{"p256 empty", P256, nil, "is 0 bytes, want 65"},
		{"p256 compressed point", P256, compressedP256, "is 33 bytes, want 65"},
		{"p256 point not uncompressed", P256, wrongPrefixP256, "not a valid uncompressed point"},
		{"p256 point off the curve", P256, offCurveP256, "not a valid uncompressed point"},
		{"p384 given a p256 point", P384, validP256, "is 65 bytes, want 97"},
		{"p384 point off the curve", P384, offCurveP384, "not a valid uncompressed point"},
		{"hybrid server share one byte short", X25519MLKEM768, make([]byte, 1119), "server key_exchange is 1119 bytes, want 1120"},
		{"hybrid server share of client size", X25519MLKEM768, make([]byte, 1216), "server key_exchange is 1216 bytes, want 1120"},
		{"hybrid server x25519 part all-zero", X25519MLKEM768, cat(make([]byte, mlkem.CiphertextSize768), zeroX25519), "all-zero"},
	} {
		t.Run("initiator/"+tc.name, func(t *testing.T) {
			ks, err := NewKeyShare(nil, tc.group, nil)
			if err != nil {
				t.Fatal(err)
			}
			secret, err := ks.SharedSecret(tc.peer)
			checkRejected(t, tc.group, secret, err, tc.wantErr)
		})
	}

	// Responder side: what an initiator might send first.
	for _, tc := range []struct {
		name    string
		group   uint16
		peer    []byte
		wantErr string
	}{
		{"x25519 share too long", X25519, append(validX25519, 0), "is 33 bytes, want 32"},
		{"x25519 all-zero point", X25519, zeroX25519, "all-zero"},
		{"p256 compressed point", P256, compressedP256, "is 33 bytes, want 65"},
		{"p256 point off the curve", P256, offCurveP256, "not a valid uncompressed point"},
		{"p384 point off the curve", P384, offCurveP384, "not a valid uncompressed point"},
		{"hybrid client share one byte short", X25519MLKEM768, cat(validEK, validX25519[:31]), "client key_exchange is 1215 bytes, want 1216"},
		{"hybrid client share of server size", X25519MLKEM768, make([]byte, 1120), "client key_exchange is 1120 bytes, want 1216"},
		{"hybrid encapsulation key out of range", X25519MLKEM768, cat(invalidEK, validX25519), "encapsulation key is invalid"},
		{"hybrid client x25519 part all-zero", X25519MLKEM768, cat(validEK, zeroX25519), "all-zero"},
	} {
		t.Run("responder/"+tc.name, func(t *testing.T) {
			public, secret, err := Respond(nil, tc.group, tc.peer, nil)
			if public != nil {
				t.Errorf("Respond returned a public value %x with a rejected peer value", public)
			}
			checkRejected(t, tc.group, secret, err, tc.wantErr)
		})
	}
}

func checkRejected(t *testing.T, group uint16, secret []byte, err error, wantErr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, secret %x; want an error containing %q", secret, wantErr)
	}
	if secret != nil {
		t.Errorf("returned secret %x along with error %v", secret, err)
	}
	if !strings.Contains(err.Error(), wantErr) || !strings.Contains(err.Error(), Name(group)) {
		t.Errorf("error = %q, want it to name %s and contain %q", err, Name(group), wantErr)
	}
}

func mustPublic(t *testing.T, group uint16) []byte {
	t.Helper()
	ks, err := NewKeyShare(nil, group, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ks.Public()
}

func TestUnsupportedGroupsAreRefused(t *testing.T) {
	for _, group := range []uint16{0x001e /* x448 */, 0x0100 /* ffdhe2048 */, 0x6399 /* X25519Kyber768Draft00 */, 0} {
		if Supported(group) {
			t.Errorf("Supported(%s) = true", Name(group))
		}
		if _, err := NewKeyShare(nil, group, nil); err == nil || !strings.Contains(err.Error(), Name(group)) {
			t.Errorf("NewKeyShare(nil, %s) error = %v, want one naming the group", Name(group), err)
		}
		if _, _, err := Respond(nil, group, make([]byte, 32), nil); err == nil || !strings.Contains(err.Error(), Name(group)) {
			t.Errorf("Respond(nil, %s) error = %v, want one naming the group", Name(group), err)
		}
	}
	for _, tc := range allGroups {
		if !Supported(tc.group) {
			t.Errorf("Supported(%s) = false", Name(tc.group))
		}
	}
}

func TestNameUsesIANANames(t *testing.T) {
	for group, want := range map[uint16]string{
		X25519:         "x25519",
		P256:           "secp256r1",
		P384:           "secp384r1",
		X25519MLKEM768: "X25519MLKEM768",
		0xabcd:         "named_group(0xabcd)",
	} {
		if got := Name(group); got != want {
			t.Errorf("Name(%#04x) = %q, want %q", group, got, want)
		}
	}
}

// TestECDHFirstHybridsMatchManualComposition: SecP256r1MLKEM768 and
// SecP384r1MLKEM1024 put the ECDH part first, in the shares and in the
// secret (draft-ietf-tls-ecdhe-mlkem §3.1), unlike X25519MLKEM768.
func TestECDHFirstHybridsMatchManualComposition(t *testing.T) {
	for _, tc := range []struct {
		group uint16
		curve ecdh.Curve
		ecdh  int
		ekLen int
		newEK func([]byte) (secret, ciphertext []byte, err error)
	}{
		{SecP256r1MLKEM768, ecdh.P256(), 65, mlkem.EncapsulationKeySize768, func(b []byte) ([]byte, []byte, error) {
			ek, err := mlkem.NewEncapsulationKey768(b)
			if err != nil {
				return nil, nil, err
			}
			s, c := ek.Encapsulate()
			return s, c, nil
		}},
		{SecP384r1MLKEM1024, ecdh.P384(), 97, mlkem.EncapsulationKeySize1024, func(b []byte) ([]byte, []byte, error) {
			ek, err := mlkem.NewEncapsulationKey1024(b)
			if err != nil {
				return nil, nil, err
			}
			s, c := ek.Encapsulate()
			return s, c, nil
		}},
	} {
		t.Run(Name(tc.group), func(t *testing.T) {
			ks, err := NewKeyShare(nil, tc.group, nil)
			if err != nil {
				t.Fatal(err)
			}
			clientShare := ks.Public()
			if len(clientShare) != tc.ecdh+tc.ekLen {
				t.Fatalf("client share is %d bytes; want %d", len(clientShare), tc.ecdh+tc.ekLen)
			}
			kemSecret, ciphertext, err := tc.newEK(clientShare[tc.ecdh:])
			if err != nil {
				t.Fatalf("our share does not end with an ML-KEM encapsulation key: %v", err)
			}
			priv, err := tc.curve.GenerateKey(nil)
			if err != nil {
				t.Fatal(err)
			}
			ecdhSecret := ecdhWith(t, priv, tc.curve, clientShare[:tc.ecdh])
			secret, err := ks.SharedSecret(append(priv.PublicKey().Bytes(), ciphertext...))
			if err != nil {
				t.Fatalf("SharedSecret: %v", err)
			}
			if want := append(ecdhSecret, kemSecret...); !bytes.Equal(secret, want) {
				t.Errorf("secret = %x\nwant ecdh_ss || mlkem_ss = %x", secret, want)
			}
		})
	}
}
