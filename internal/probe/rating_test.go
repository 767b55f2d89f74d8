package probe

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow/pki"
)

func TestRateSuite(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Rating
	}{
		{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", Good},
		{"TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", Good},
		{"TLS_AES_128_GCM_SHA256", Good},
		{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", Warn}, // CBC
		{"TLS_RSA_WITH_AES_128_GCM_SHA256", Warn},      // no forward secrecy
		{"TLS_RSA_WITH_3DES_EDE_CBC_SHA", Bad},         // Sweet32
		{"TLS_ECDHE_RSA_WITH_RC4_128_SHA", Bad},        // RC4 (RFC 7465)
		{"TLS_RSA_WITH_NULL_SHA256", Bad},              // no encryption
		{"TLS_DH_anon_WITH_AES_128_GCM_SHA256", Bad},   // no authentication
		{"TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", Bad},     // export
		{"TLS_RSA_WITH_RC4_128_MD5", Bad},              // MD5
		{"TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256", Warn},
	} {
		id := suiteID(t, tc.name)
		if got := rateSuite(id); got != tc.want {
			t.Errorf("%s rated %s, want %s", tc.name, got, tc.want)
		}
	}
}

func suiteID(t *testing.T, name string) uint16 {
	for _, list := range [][]suite{suites12, suites13} {
		for _, s := range list {
			if s.Name == name {
				return s.ID
			}
		}
	}
	t.Fatalf("%s is not in the probe's lists", name)
	return 0
}

// TestSuiteListsHaveNoDuplicates: each code point once, each name once.
func TestSuiteListsHaveNoDuplicates(t *testing.T) {
	ids, names := map[uint16]bool{}, map[string]bool{}
	for _, s := range append(append([]suite{}, suites12...), suites13...) {
		if ids[s.ID] || names[s.Name] {
			t.Errorf("%s (0x%04x) twice", s.Name, s.ID)
		}
		ids[s.ID], names[s.Name] = true, true
	}
}

func TestRateVersions(t *testing.T) {
	r := &Report{Reachable: true, Versions: []VersionResult{
		{Name: "SSL 3.0", version: versionSSL30, Accepted: true},
		{Name: "TLS 1.0", version: versionTLS10},
		{Name: "TLS 1.1", version: versionTLS11, Accepted: true},
		{Name: "TLS 1.2", version: versionTLS12, Accepted: true},
		{Name: "TLS 1.3", version: versionTLS13},
	}}
	want := map[string]Rating{"version.ssl30": Bad, "version.tls10": Good, "version.tls11": Bad, "version.tls12": Good, "version.tls13": Warn}
	got := map[string]Rating{}
	for _, f := range rateVersions(r) {
		got[f.ID] = f.Rating
		if f.Why.EN == "" || f.Why.DE == "" || f.Title.DE == "" {
			t.Errorf("%s lacks a reason in both languages: %+v", f.ID, f)
		}
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s rated %q, want %s", id, got[id], w)
		}
	}
}

func TestRateProtections(t *testing.T) {
	r := &Report{ExtendedMasterSecret: ptr(false), SecureRenegotiation: ptr(true), FallbackSCSV: ptr(false), DowngradeSentinel: ptr(true)}
	want := map[string]Rating{"extended_master_secret": Warn, "secure_renegotiation": Good,
		"downgrade.fallback_scsv": Warn, "downgrade.sentinel": Good, "alpn": Info}
	for _, f := range rateProtections(r) {
		if want[f.ID] != f.Rating {
			t.Errorf("%s rated %s, want %s", f.ID, f.Rating, want[f.ID])
		}
		delete(want, f.ID)
	}
	if len(want) > 0 {
		t.Errorf("no finding for %v", want)
	}
}

// TestAnalyzeChain judges chains with each problem the certificate stage
// names.
func TestAnalyzeChain(t *testing.T) {
	root := pki.MustNewCA("probe root", pki.ECDSAP256)
	inter := root.MustNewIntermediate("probe intermediate", pki.ECDSAP256)
	leaf := inter.MustServer(pki.ECDSAP256, "good.example")
	now := time.Now()
	parse := func(ders ...[]byte) []*x509.Certificate {
		var out []*x509.Certificate
		for _, d := range ders {
			c, err := x509.ParseCertificate(d)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	expired := inter.MustIssue(pki.LeafOptions{DNSNames: []string{"good.example"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Minute)})
	soon := inter.MustIssue(pki.LeafOptions{DNSNames: []string{"good.example"}, NotAfter: now.Add(10 * 24 * time.Hour)})
	for _, tc := range []struct {
		name  string
		chain []*x509.Certificate
		host  string
		want  map[string]Rating
	}{
		{"complete", parse(leaf.Chain[0], leaf.Chain[1]), "good.example",
			map[string]Rating{"cert.trust": Good, "cert.name": Good, "cert.expiry": Warn}},
		{"missing intermediate", parse(leaf.Chain[0]), "good.example", map[string]Rating{"cert.trust": Bad}},
		{"wrong name", parse(leaf.Chain[0], leaf.Chain[1]), "other.example", map[string]Rating{"cert.name": Bad}},
		{"out of order", parse(leaf.Chain[0], root.DER, leaf.Chain[1]), "good.example", map[string]Rating{"cert.order": Warn, "cert.trust": Good}},
		{"expired", parse(expired.Chain[0], expired.Chain[1]), "good.example", map[string]Rating{"cert.expiry": Bad, "cert.trust": Good}},
		{"expires soon", parse(soon.Chain[0], soon.Chain[1]), "good.example", map[string]Rating{"cert.expiry": Warn}},
		{"untrusted root sent", parse(leaf.Chain[0], leaf.Chain[1], root.DER), "good.example", map[string]Rating{"cert.trust": Good}},
		{"self-signed", parse(selfSigned(t, 2048)), "self.example", map[string]Rating{"cert.trust": Bad, "cert.name": Good}},
		{"weak key", parse(selfSigned(t, 1024)), "self.example", map[string]Rating{"cert.key.0": Bad}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := analyzeChain(tc.chain, tc.host, root.Pool, now)
			got := map[string]Rating{}
			for _, f := range rateCertificate(cr) {
				got[f.ID] = f.Rating
			}
			for id, w := range tc.want {
				if got[id] != w {
					t.Errorf("%s rated %q, want %s (all: %v)", id, got[id], w, got)
				}
			}
		})
	}
}

// selfSigned makes a self-signed RSA certificate for self.example.
func selfSigned(t *testing.T, bits int) []byte {
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "self.example"},
		DNSNames: []string{"self.example"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(400 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
