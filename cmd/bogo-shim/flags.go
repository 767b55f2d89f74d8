package main

import (
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tlsflow/tlsflow"
)

// settings is one connection's view of the runner's flags. BoringSSL's
// test_config.cc keeps three, and so does the shim: the initial
// connection's, the resumption's, and the 0-RTT retry's (a client whose
// early data the server rejected carries on under -on-retry-* settings).
type settings struct {
	// Process-wide: read from the initial copy only.
	port       int
	shimID     uint64
	ipv6       bool
	server     bool
	resumeCnt  int
	supported  bool // -is-handshaker-supported: print "No" and exit
	asyncNoOp  bool // -async: a non-blocking BIO in BoringSSL; tlsflow blocks, same bytes on the wire
	hintsNoOp  bool // -allow-hint-mismatch: only meaningful with handshake hints
	trustCert  string
	certFile   string
	keyFile    string
	verifyPeer bool
	verifyFail bool
	requireAny bool

	minVersion, maxVersion, expectVersion int
	noTLS12, noTLS13                      bool

	curves        []int
	expectCurveID int
	expectSigAlg  int
	expectVerify  []int // -expect-peer-verify-pref
	signingPrefs  []int // -signing-prefs: what we may sign with, in order
	verifyPrefs   []int // -verify-prefs: what we advertise and accept from the peer
	cipher        string
	expectCipher  int

	advertiseALPN        string // wire format: 1-byte length-prefixed names
	expectALPN           string
	selectALPN           string
	declineALPN          bool
	rejectALPN           bool
	expectAdvertisedALPN string

	hostName           string
	expectServerName   string
	expectNoServerName bool

	exportKeyingMaterial int
	exportLabel          string
	exportContext        string
	useExportContext     bool

	shimWritesFirst  bool
	shimShutsDown    bool
	checkCloseNotify bool
	writeDiffSizes   bool
	readSize         int
	keyUpdate        bool
	keyUpdateBefore  bool

	implicitHandshake bool
	handshakeTwice    bool

	expectSessionMiss   bool
	expectNoSession     bool
	expectTicketRenewal bool // a TLS 1.2 resumption brings a new ticket
	expectSessionID     bool // a TLS 1.2 server caches the session by ID
	expectNoSessionID   bool
	resumptionDelay     int // seconds the clock moves before this connection
	noTicket            bool
	expectHRR           bool
	expectNoHRR         bool
	expectPeerCert      string
	failCertCallback    bool
	failEarlyCallback   bool // the server's certificate callback fails (tlsflow has one)

	expectVerifyResult   bool
	expectEMS            bool // -expect-extended-master-secret
	expectSecureReneg    bool // the peer supports RFC 5746 (always so in TLS 1.3)
	expectNoSecureReneg  bool
	tlsUnique            bool
	exportTrafficSecrets bool
	useClientCAList      string // hex DER names, comma-separated, or <NULL> / <EMPTY>
	expectClientCAList   string

	// 0-RTT (earlydata.go in tlsflow): a server with -enable-early-data sets
	// MaxEarlyData and reads early data with ReadEarlyData; a client writes
	// its first data with WriteEarlyData.
	enableEarlyData       bool
	expectAcceptEarly     bool   // -expect-accept-early-data
	expectRejectEarly     bool   // -expect-reject-early-data
	expectTicketEarly     bool   // -expect-ticket-supports-early-data
	expectNoOfferEarly    bool   // -expect-no-offer-early-data
	expectEarlyDataReason string // BoringSSL's SSL_early_data_reason_string
	initialWrite          string // -shim-initial-write ("hello" unless given)
	repeatInitialWrite    int    // -repeat-shim-initial-write (1 unless given)

	// OCSP stapling and SCTs. A tlsflow client always asks for both
	// (status_request, signed_certificate_timestamp), so -enable-ocsp-stapling
	// and -enable-signed-cert-timestamps change nothing; a server sends the
	// default certificate's staple and SCTs (-ocsp-response,
	// -signed-cert-timestamps) when the client asks. The checks compare
	// ConnectionState's OCSPResponse and SignedCertificateTimestamps.
	ocspResponse    []byte
	scts            [][]byte
	expectOCSP      []byte // -expect-ocsp-response
	expectSCTs      []byte // -expect-signed-cert-timestamps: the wire list
	useOCSPCallback bool   // BoringSSL's status callback (SSL_CTX_set_tlsext_status_cb)
	setOCSPInCB     bool   // server: the staple is installed by the callback
	declineOCSPCB   bool   // server: the callback declines: no staple
	failOCSPCB      bool   // the callback fails the handshake

	// credentials are the certificates added with -new-x509-credential and
	// the PSKs added with -new-psk-credential, in preference order; the
	// default one (-cert-file/-key-file before any -new-*-credential) comes
	// after them (BoringSSL's SSL_CREDENTIAL list). -expect-selected-credential
	// names the one the handshake must use: an index into credentials, or -1
	// for the default.
	credentials         []credential
	expectSelected      int
	expectSelectedGiven bool
	expectNoPeerCert    bool

	// Encrypted Client Hello. A client offers -ech-config-list (or GREASE);
	// a server holds the -ech-server-config/-ech-server-key pairs, each
	// followed by -ech-is-retry-config. A rejected client's handshake
	// fails with tlsflow.ECHRejectionError, whose retry configurations
	// -expect-ech-retry-configs / -expect-no-ech-retry-configs check; the
	// public name it verifies is -expect-ech-name-override's.
	echConfigList        []byte
	echGrease            bool
	echKeys              []tlsflow.EncryptedClientHelloKey
	expectECHAccept      bool
	expectRetryConfigs   []byte
	expectNoRetryConfigs bool
	expectNameOverride   string
	expectNoNameOverride bool

	// Raw public keys (RFC 7250): -new-rpk-credential adds a credential
	// that is a key alone (its -key-file); -accepted-peer-cert-types are
	// the types accepted from the peer (a client's ServerCertificateTypes,
	// a server's ClientCertificateTypes), -available-client-cert-types a
	// client's ClientCertificateTypes. BoringSSL's shim accepts any raw
	// key unless -verify-fail, and checks -expect-peer-rpk-sha256 (the
	// SHA-256 of the SubjectPublicKeyInfo) and -expect-peer-certificate-type.
	acceptedPeerCertTypes    []int
	availableClientCertTypes []int
	expectPeerRPKSHA256      []byte
	expectPeerCertType       int
	expectPeerCertTypeGiven  bool
}

// credential is one -new-x509-credential or -new-psk-credential and the
// flags that follow it (test_config.cc applies credential flags to the
// last one added).
type credential struct {
	certFile, keyFile string
	signingPrefs      []int
	mustMatchIssuer   bool
	ocspResponse      []byte   // -ocsp-response after -new-x509-credential
	scts              [][]byte // -signed-cert-timestamps after -new-x509-credential
	// rpk is set for a -new-rpk-credential: the key of keyFile, sent as
	// a raw public key (tlsflow.RawPublicKeyCertificate).
	rpk bool
	// psk is set for a -new-psk-credential: BoringSSL's PSK credentials
	// are RFC 9258 importer PSKs (SSL_CREDENTIAL_new_pre_shared_key takes
	// the external key, its external_identity, the EPSK hash and the
	// importer context), so the shim's are tlsflow ExternalPSKs with Import.
	psk *tlsflow.ExternalPSK
}

// last returns the credential the next credential flag applies to, or nil
// for the default certificate.
func (s *settings) last() *credential {
	if len(s.credentials) == 0 {
		return nil
	}
	return &s.credentials[len(s.credentials)-1]
}

// credentialFlag is a flag of the default certificate, or of the last
// -new-x509-credential when there is one. onCredential returns an error
// (errUnimplemented) for what tlsflow cannot honour per credential.
func credentialFlag(hasParam bool, onDefault func(*settings, string) error, onCredential func(*credential, string) error) flagSpec {
	return flagSpec{hasParam: hasParam, set: func(s *settings, p string) error {
		if c := s.last(); c != nil {
			return onCredential(c, p)
		}
		return onDefault(s, p)
	}}
}

// pskFlag is a flag of the last -new-psk-credential: BoringSSL's
// -psk-importer-* flags exist only per credential.
func pskFlag(name string, hasParam bool, set func(p *tlsflow.ExternalPSK, param string) error) flagSpec {
	return flagSpec{hasParam: hasParam, set: func(s *settings, param string) error {
		c := s.last()
		if c == nil || c.psk == nil {
			return fmt.Errorf("%s must follow -new-psk-credential", name)
		}
		return set(c.psk, param)
	}}
}

// base64PSKField is a -psk-importer-* flag whose value is base64, as the
// runner encodes bytes (runner.go, base64FlagValue).
func base64PSKField(name string, field func(*tlsflow.ExternalPSK) *[]byte) flagSpec {
	return pskFlag(name, true, func(p *tlsflow.ExternalPSK, param string) error {
		b, err := base64.StdEncoding.DecodeString(param)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		*field(p) = b
		return nil
	})
}

// errUnimplemented marks a flag tlsflow (or this shim) cannot honour; the
// shim then exits 89 so the runner counts the test as unimplemented
// instead of failed (BoringSSL ssl/test/PORTING.md, "Unimplemented Features").
type errUnimplemented struct {
	flag, why string
	// also lists the test's other unimplemented flags, so one run of the
	// suite shows everything a test is waiting for.
	also []string
}

func (e *errUnimplemented) Error() string {
	msg := fmt.Sprintf("unimplemented flag %s: %s", e.flag, e.why)
	if len(e.also) > 0 {
		msg += fmt.Sprintf(" (also unimplemented: %s)", strings.Join(e.also, ", "))
	}
	return msg
}

// A flagSpec says whether a flag takes a parameter and how it sets a
// settings field.
type flagSpec struct {
	hasParam bool
	set      func(s *settings, param string) error
}

func boolFlag(field func(*settings) *bool) flagSpec {
	return flagSpec{set: func(s *settings, _ string) error { *field(s) = true; return nil }}
}

func intFlag(field func(*settings) *int) flagSpec {
	return flagSpec{hasParam: true, set: func(s *settings, p string) error {
		n, err := strconv.Atoi(p)
		if err != nil {
			return err
		}
		*field(s) = n
		return nil
	}}
}

func intListFlag(field func(*settings) *[]int) flagSpec {
	return flagSpec{hasParam: true, set: func(s *settings, p string) error {
		n, err := strconv.Atoi(p)
		if err != nil {
			return err
		}
		*field(s) = append(*field(s), n)
		return nil
	}}
}

func stringFlag(field func(*settings) *string) flagSpec {
	return flagSpec{hasParam: true, set: func(s *settings, p string) error { *field(s) = p; return nil }}
}

// knownFlags are the flags this shim implements, named as in BoringSSL's
// ssl/test/test_config.cc.
var knownFlags = map[string]flagSpec{
	"-port": intFlag(func(s *settings) *int { return &s.port }),
	"-shim-id": {hasParam: true, set: func(s *settings, p string) error {
		id, err := strconv.ParseUint(p, 10, 64)
		s.shimID = id
		return err
	}},
	"-ipv6":                    boolFlag(func(s *settings) *bool { return &s.ipv6 }),
	"-server":                  boolFlag(func(s *settings) *bool { return &s.server }),
	"-resume-count":            intFlag(func(s *settings) *int { return &s.resumeCnt }),
	"-is-handshaker-supported": boolFlag(func(s *settings) *bool { return &s.supported }),
	"-async":                   boolFlag(func(s *settings) *bool { return &s.asyncNoOp }),
	"-allow-hint-mismatch":     boolFlag(func(s *settings) *bool { return &s.hintsNoOp }),
	// BoringSSL has several ways to install a certificate or check one
	// (test_config.cc: the early callback, the old client_cert_cb, the
	// custom verify callback); tlsflow has one of each, GetCertificate /
	// GetClientCertificate and VerifyPeerCertificate, which the shim always
	// uses. Choosing among BoringSSL's changes nothing here.
	"-use-early-callback":           boolFlag(func(s *settings) *bool { return new(bool) }),
	"-use-old-client-cert-callback": boolFlag(func(s *settings) *bool { return new(bool) }),
	"-use-custom-verify-callback":   boolFlag(func(s *settings) *bool { return new(bool) }),
	"-fail-early-callback":          boolFlag(func(s *settings) *bool { return &s.failEarlyCallback }),

	"-trust-cert": stringFlag(func(s *settings) *string { return &s.trustCert }),
	"-cert-file": credentialFlag(true,
		func(s *settings, p string) error { s.certFile = p; return nil },
		func(c *credential, p string) error { c.certFile = p; return nil }),
	"-key-file": credentialFlag(true,
		func(s *settings, p string) error { s.keyFile = p; return nil },
		func(c *credential, p string) error { c.keyFile = p; return nil }),
	// Several certificates, chosen by what the peer supports: a server's
	// Config.Certificates, a client's for a CertificateRequest.
	"-new-x509-credential": {set: func(s *settings, _ string) error {
		s.credentials = append(s.credentials, credential{})
		return nil
	}},
	// TLS 1.3 external PSKs: each -new-psk-credential is an imported PSK
	// (Config.ExternalPSKs on either side) in the same credential list as
	// the certificates, so -expect-selected-credential counts both kinds.
	"-new-psk-credential": {set: func(s *settings, _ string) error {
		s.credentials = append(s.credentials, credential{psk: &tlsflow.ExternalPSK{Import: true}})
		return nil
	}},
	"-new-rpk-credential": {set: func(s *settings, _ string) error {
		s.credentials = append(s.credentials, credential{rpk: true})
		return nil
	}},
	"-accepted-peer-cert-types":    intListFlag(func(s *settings) *[]int { return &s.acceptedPeerCertTypes }),
	"-available-client-cert-types": intListFlag(func(s *settings) *[]int { return &s.availableClientCertTypes }),
	"-expect-peer-rpk-sha256": {hasParam: true, set: func(s *settings, p string) (err error) {
		s.expectPeerRPKSHA256, err = base64.StdEncoding.DecodeString(p)
		return err
	}},
	"-expect-peer-certificate-type": {hasParam: true, set: func(s *settings, p string) (err error) {
		s.expectPeerCertType, err = strconv.Atoi(p)
		s.expectPeerCertTypeGiven = true
		return err
	}},
	"-psk-importer-key":      base64PSKField("-psk-importer-key", func(p *tlsflow.ExternalPSK) *[]byte { return &p.Key }),
	"-psk-importer-identity": base64PSKField("-psk-importer-identity", func(p *tlsflow.ExternalPSK) *[]byte { return &p.Identity }),
	"-psk-importer-context":  base64PSKField("-psk-importer-context", func(p *tlsflow.ExternalPSK) *[]byte { return &p.Context }),
	"-psk-importer-sha256": pskFlag("-psk-importer-sha256", false, func(p *tlsflow.ExternalPSK, _ string) error {
		p.Hash = crypto.SHA256
		return nil
	}),
	"-psk-importer-sha384": pskFlag("-psk-importer-sha384", false, func(p *tlsflow.ExternalPSK, _ string) error {
		p.Hash = crypto.SHA384
		return nil
	}),
	"-expect-no-peer-cert": boolFlag(func(s *settings) *bool { return &s.expectNoPeerCert }),
	"-expect-selected-credential": {hasParam: true, set: func(s *settings, p string) error {
		n, err := strconv.Atoi(p)
		s.expectSelected, s.expectSelectedGiven = n, true
		return err
	}},
	// BoringSSL selects a -must-match-issuer credential only if its chain
	// comes from an authority the peer named. A tlsflow client applies that
	// to every certificate whenever the server names authorities (certs.go,
	// ClientCertificateFits); a tlsflow server does not read the client's
	// certificate_authorities, so the shim refuses it there (configure).
	"-must-match-issuer": credentialFlag(false,
		func(*settings, string) error {
			return &errUnimplemented{flag: "-must-match-issuer", why: "issuer matching for the default certificate"}
		},
		func(c *credential, _ string) error { c.mustMatchIssuer = true; return nil }),
	// The staple and the SCT list of the default certificate or of the
	// last credential (Certificate.OCSPStaple and
	// .SignedCertificateTimestamps), base64 as the runner encodes bytes.
	"-ocsp-response": credentialFlag(true,
		func(s *settings, p string) (err error) {
			s.ocspResponse, err = base64.StdEncoding.DecodeString(p)
			return err
		},
		func(c *credential, p string) (err error) {
			c.ocspResponse, err = base64.StdEncoding.DecodeString(p)
			return err
		}),
	"-signed-cert-timestamps": credentialFlag(true,
		func(s *settings, p string) (err error) { s.scts, err = sctListFlag(p); return err },
		func(c *credential, p string) (err error) { c.scts, err = sctListFlag(p); return err }),
	"-enable-ocsp-stapling":          boolFlag(func(s *settings) *bool { return new(bool) }),
	"-enable-signed-cert-timestamps": boolFlag(func(s *settings) *bool { return new(bool) }),
	"-expect-ocsp-response": {hasParam: true, set: func(s *settings, p string) (err error) {
		s.expectOCSP, err = base64.StdEncoding.DecodeString(p)
		return err
	}},
	"-expect-signed-cert-timestamps": {hasParam: true, set: func(s *settings, p string) (err error) {
		s.expectSCTs, err = base64.StdEncoding.DecodeString(p)
		return err
	}},
	"-use-ocsp-callback":              boolFlag(func(s *settings) *bool { return &s.useOCSPCallback }),
	"-set-ocsp-in-callback":           boolFlag(func(s *settings) *bool { return &s.setOCSPInCB }),
	"-decline-ocsp-callback":          boolFlag(func(s *settings) *bool { return &s.declineOCSPCB }),
	"-fail-ocsp-callback":             boolFlag(func(s *settings) *bool { return &s.failOCSPCB }),
	"-verify-peer":                    boolFlag(func(s *settings) *bool { return &s.verifyPeer }),
	"-verify-fail":                    boolFlag(func(s *settings) *bool { return &s.verifyFail }),
	"-require-any-client-certificate": boolFlag(func(s *settings) *bool { return &s.requireAny }),
	"-fail-cert-callback":             boolFlag(func(s *settings) *bool { return &s.failCertCallback }),
	"-expect-peer-cert-file":          stringFlag(func(s *settings) *string { return &s.expectPeerCert }),
	"-expect-verify-result":           boolFlag(func(s *settings) *bool { return &s.expectVerifyResult }),
	"-use-client-ca-list":             stringFlag(func(s *settings) *string { return &s.useClientCAList }),
	"-expect-client-ca-list":          stringFlag(func(s *settings) *string { return &s.expectClientCAList }),

	"-min-version":    intFlag(func(s *settings) *int { return &s.minVersion }),
	"-max-version":    intFlag(func(s *settings) *int { return &s.maxVersion }),
	"-expect-version": intFlag(func(s *settings) *int { return &s.expectVersion }),
	"-no-tls13":       boolFlag(func(s *settings) *bool { return &s.noTLS13 }),
	"-no-tls12":       boolFlag(func(s *settings) *bool { return &s.noTLS12 }),
	// TLS 1.0 and 1.1 are never enabled: turning them off changes nothing.
	"-no-tls11": boolFlag(func(s *settings) *bool { return new(bool) }),
	"-no-tls1":  boolFlag(func(s *settings) *bool { return new(bool) }),

	"-curves":                          intListFlag(func(s *settings) *[]int { return &s.curves }),
	"-expect-curve-id":                 intFlag(func(s *settings) *int { return &s.expectCurveID }),
	"-expect-peer-signature-algorithm": intFlag(func(s *settings) *int { return &s.expectSigAlg }),
	"-expect-peer-verify-pref":         intListFlag(func(s *settings) *[]int { return &s.expectVerify }),
	"-signing-prefs": credentialFlag(true,
		func(s *settings, p string) error {
			return intListFlag(func(s *settings) *[]int { return &s.signingPrefs }).set(s, p)
		},
		func(c *credential, p string) error {
			n, err := strconv.Atoi(p)
			c.signingPrefs = append(c.signingPrefs, n)
			return err
		}),
	"-verify-prefs":  intListFlag(func(s *settings) *[]int { return &s.verifyPrefs }),
	"-cipher":        stringFlag(func(s *settings) *string { return &s.cipher }),
	"-expect-cipher": intFlag(func(s *settings) *int { return &s.expectCipher }),

	"-advertise-alpn":         stringFlag(func(s *settings) *string { return &s.advertiseALPN }),
	"-expect-alpn":            stringFlag(func(s *settings) *string { return &s.expectALPN }),
	"-select-alpn":            stringFlag(func(s *settings) *string { return &s.selectALPN }),
	"-decline-alpn":           boolFlag(func(s *settings) *bool { return &s.declineALPN }),
	"-reject-alpn":            boolFlag(func(s *settings) *bool { return &s.rejectALPN }),
	"-expect-advertised-alpn": stringFlag(func(s *settings) *string { return &s.expectAdvertisedALPN }),

	"-host-name":             stringFlag(func(s *settings) *string { return &s.hostName }),
	"-expect-server-name":    stringFlag(func(s *settings) *string { return &s.expectServerName }),
	"-expect-no-server-name": boolFlag(func(s *settings) *bool { return &s.expectNoServerName }),

	"-export-keying-material": intFlag(func(s *settings) *int { return &s.exportKeyingMaterial }),
	"-export-label":           stringFlag(func(s *settings) *string { return &s.exportLabel }),
	"-export-context":         stringFlag(func(s *settings) *string { return &s.exportContext }),
	"-use-export-context":     boolFlag(func(s *settings) *bool { return &s.useExportContext }),
	"-export-traffic-secrets": boolFlag(func(s *settings) *bool { return &s.exportTrafficSecrets }),
	"-tls-unique":             boolFlag(func(s *settings) *bool { return &s.tlsUnique }),

	"-expect-extended-master-secret":     boolFlag(func(s *settings) *bool { return &s.expectEMS }),
	"-expect-secure-renegotiation":       boolFlag(func(s *settings) *bool { return &s.expectSecureReneg }),
	"-expect-no-secure-renegotiation":    boolFlag(func(s *settings) *bool { return &s.expectNoSecureReneg }),
	"-enable-early-data":                 boolFlag(func(s *settings) *bool { return &s.enableEarlyData }),
	"-expect-accept-early-data":          boolFlag(func(s *settings) *bool { return &s.expectAcceptEarly }),
	"-expect-reject-early-data":          boolFlag(func(s *settings) *bool { return &s.expectRejectEarly }),
	"-expect-ticket-supports-early-data": boolFlag(func(s *settings) *bool { return &s.expectTicketEarly }),
	"-expect-no-offer-early-data":        boolFlag(func(s *settings) *bool { return &s.expectNoOfferEarly }),
	"-expect-early-data-reason":          stringFlag(func(s *settings) *string { return &s.expectEarlyDataReason }),

	"-shim-writes-first":            boolFlag(func(s *settings) *bool { return &s.shimWritesFirst }),
	"-shim-initial-write":           stringFlag(func(s *settings) *string { return &s.initialWrite }),
	"-repeat-shim-initial-write":    intFlag(func(s *settings) *int { return &s.repeatInitialWrite }),
	"-shim-shuts-down":              boolFlag(func(s *settings) *bool { return &s.shimShutsDown }),
	"-check-close-notify":           boolFlag(func(s *settings) *bool { return &s.checkCloseNotify }),
	"-write-different-record-sizes": boolFlag(func(s *settings) *bool { return &s.writeDiffSizes }),
	"-read-size":                    intFlag(func(s *settings) *int { return &s.readSize }),
	"-key-update":                   boolFlag(func(s *settings) *bool { return &s.keyUpdate }),
	"-key-update-before-read":       boolFlag(func(s *settings) *bool { return &s.keyUpdateBefore }),

	"-implicit-handshake":    boolFlag(func(s *settings) *bool { return &s.implicitHandshake }),
	"-handshake-twice":       boolFlag(func(s *settings) *bool { return &s.handshakeTwice }),
	"-no-op-extra-handshake": boolFlag(func(s *settings) *bool { return &s.handshakeTwice }),

	"-expect-session-miss":   boolFlag(func(s *settings) *bool { return &s.expectSessionMiss }),
	"-expect-no-session":     boolFlag(func(s *settings) *bool { return &s.expectNoSession }),
	"-expect-ticket-renewal": boolFlag(func(s *settings) *bool { return &s.expectTicketRenewal }),
	"-expect-session-id":     boolFlag(func(s *settings) *bool { return &s.expectSessionID }),
	"-expect-no-session-id":  boolFlag(func(s *settings) *bool { return &s.expectNoSessionID }),
	"-resumption-delay":      intFlag(func(s *settings) *int { return &s.resumptionDelay }),
	"-no-ticket":             boolFlag(func(s *settings) *bool { return &s.noTicket }),
	"-expect-hrr":            boolFlag(func(s *settings) *bool { return &s.expectHRR }),
	"-ech-config-list": {hasParam: true, set: func(s *settings, p string) (err error) {
		s.echConfigList, err = base64.StdEncoding.DecodeString(p)
		return err
	}},
	"-enable-ech-grease": boolFlag(func(s *settings) *bool { return &s.echGrease }),
	"-ech-server-config": {hasParam: true, set: func(s *settings, p string) error {
		b, err := base64.StdEncoding.DecodeString(p)
		s.echKeys = append(s.echKeys, tlsflow.EncryptedClientHelloKey{Config: b})
		return err
	}},
	"-ech-server-key": {hasParam: true, set: func(s *settings, p string) (err error) {
		if len(s.echKeys) == 0 {
			return errors.New("-ech-server-key must follow -ech-server-config")
		}
		s.echKeys[len(s.echKeys)-1].PrivateKey, err = base64.StdEncoding.DecodeString(p)
		return err
	}},
	"-ech-is-retry-config": {hasParam: true, set: func(s *settings, p string) error {
		if len(s.echKeys) == 0 {
			return errors.New("-ech-is-retry-config must follow -ech-server-config")
		}
		s.echKeys[len(s.echKeys)-1].SendAsRetry = p != "0"
		return nil
	}},
	"-expect-ech-accept": boolFlag(func(s *settings) *bool { return &s.expectECHAccept }),
	"-expect-ech-retry-configs": {hasParam: true, set: func(s *settings, p string) (err error) {
		s.expectRetryConfigs, err = base64.StdEncoding.DecodeString(p)
		return err
	}},
	"-expect-no-ech-retry-configs": boolFlag(func(s *settings) *bool { return &s.expectNoRetryConfigs }),
	"-expect-ech-name-override":    stringFlag(func(s *settings) *string { return &s.expectNameOverride }),
	"-expect-no-ech-name-override": boolFlag(func(s *settings) *bool { return &s.expectNoNameOverride }),
	"-expect-no-hrr":               boolFlag(func(s *settings) *bool { return &s.expectNoHRR }),

	// Zero renegotiations is all tlsflow ever does; any other count is unimplemented.
	"-expect-total-renegotiations": {hasParam: true, set: func(_ *settings, p string) error {
		if p != "0" {
			return &errUnimplemented{flag: "-expect-total-renegotiations", why: "tlsflow refuses renegotiation"}
		}
		return nil
	}},
}

// unimplementedFlags are flags the runner uses for features tlsflow does
// not have, or that its public API does not expose; each is answered with
// exit code 89. Any flag in neither table is unimplemented too.
var unimplementedFlags = map[string]string{
	"-dtls": "DTLS", "-mtu": "DTLS", "-initial-timeout-duration-ms": "DTLS",
	"-quic": "QUIC", "-quic-transport-params": "QUIC", "-expect-quic-transport-params": "QUIC",
	"-quic-use-legacy-codepoint": "QUIC", "-quic-early-data-context": "QUIC",
	"-early-write-after-message":      "0-RTT data written after the server's first messages were read (a tlsflow client writes early data only between its ClientHello and the server's answer)",
	"-expect-ticket-age-skew":         "the ticket age skew a server measured (tlsflow does not report it)",
	"-fail-early-callback-ech-rewind": "ECH with a failing early callback (BoringSSL's select_certificate_cb retry)",
	"-renegotiate-once":               "renegotiation", "-renegotiate-freely": "renegotiation",
	"-renegotiate-ignore": "renegotiation", "-renegotiate-explicit": "renegotiation",
	"-forbid-renegotiation-after-handshake": "renegotiation",
	"-advertise-npn":                        "NPN", "-advertise-empty-npn": "NPN", "-expect-next-proto": "NPN",
	"-expect-no-next-proto": "NPN", "-select-next-proto": "NPN", "-select-empty-next-proto": "NPN",
	"-application-settings": "ALPS", "-expect-peer-application-settings": "ALPS",
	"-alps-use-new-codepoint": "ALPS", "-defer-alps": "ALPS",
	"-expect-channel-id": "Channel ID", "-enable-channel-id": "Channel ID", "-send-channel-id": "Channel ID",
	"-psk": "TLS 1.2 PSK cipher suites (RFC 4279)", "-psk-identity": "TLS 1.2 PSK cipher suites (RFC 4279)",
	"-srtp-profiles": "SRTP",
	// BoringSSL's shim installs its own test algorithms 0xff01-0xff03
	// (test_config.cc), the only ones the runner implements; the "one"
	// form installs nothing for any other number, so even "1" is not zlib.
	"-install-cert-compression-algs":    "certificate compression with BoringSSL's test algorithms 0xff01-0xff03 (tlsflow has only zlib, brotli and zstd)",
	"-install-one-cert-compression-alg": "certificate compression with BoringSSL's test algorithms 0xff01-0xff03 (tlsflow has only zlib, brotli and zstd)",
	"-new-delegated-credential":         "delegated credentials", "-delegated-credential": "delegated credentials",
	"-new-spake2plusv1-credential": "PAKE", "-pake-context": "PAKE", "-pake-client-id": "PAKE",
	"-pake-server-id": "PAKE", "-pake-password": "PAKE", "-wrong-pake-role": "PAKE",
	"-trust-anchor-id": "trust anchor IDs", "-requested-trust-anchors": "trust anchor IDs",
	"-expect-peer-match-trust-anchor": "trust anchor IDs", "-expect-no-peer-match-trust-anchor": "trust anchor IDs",
	"-expect-peer-available-trust-anchors": "trust anchor IDs",
	"-false-start":                         "False Start", "-allow-false-start-without-alpn": "False Start",
	"-fallback-scsv": "TLS_FALLBACK_SCSV (no TLS 1.0/1.1 to fall back to)",
	"-enable-grease": "GREASE", "-permute-extensions": "extension permutation",
	"-ticket-key":          "BoringSSL's 48-byte ticket key format",
	"-use-ticket-callback": "ticket callbacks", "-use-ticket-aead-callback": "ticket callbacks",
	"-renew-ticket": "ticket callbacks", "-skip-ticket": "ticket callbacks",
	"-expect-certificate-types": "certificate_types are not exposed",
	"-install-ddos-callback":    "DoS callback", "-fail-ddos-callback": "DoS callback",
	"-send-alert":     "sending an arbitrary alert",
	"-peek-then-read": "SSL_peek", "-partial-write": "partial writes",
	"-read-with-unfinished-write": "partial writes",
	"-max-send-fragment":          "a configurable record size",
	"-max-cert-list":              "a configurable certificate list limit",
	"-server-preference":          "a configurable server preference (tlsflow always ranks suites)",
	"-select-empty-alpn":          "selecting an empty ALPN protocol",
	"-allow-unknown-alpn-protos":  "accepting unoffered ALPN protocols",
	"-expect-cipher-aes":          "AES hardware detection", "-expect-cipher-no-aes": "AES hardware detection",
	"-jdk11-workaround":     "JDK 11 workaround",
	"-ignore-rsa-key-usage": "ignoring RSA key usage", "-expect-key-usage-invalid": "ignoring RSA key usage",
	"-no-server-name-ack":              "suppressing the server_name acknowledgement",
	"-resumption-across-names-enabled": "cross-name resumption",
	"-expect-resumable-across-names":   "cross-name resumption", "-expect-not-resumable-across-names": "cross-name resumption",
	"-fips-202205": "compliance policies", "-wpa-202304": "compliance policies", "-cnsa-202407": "compliance policies",
	"-handoff": "split handshakes", "-handshake-hints": "split handshakes", "-handshaker-resume": "split handshakes",
	"-handshaker-path":      "split handshakes",
	"-private-key-delay-ms": "asynchronous private keys",
	"-expect-msg-callback":  "message callback",
	"-wait-for-debugger":    "debugger support", "-fuzzer-mode": "fuzzer mode", "-write-settings": "transcripts",
	"-retain-only-sha256-client-cert": "client certificate hashing",
	"-expect-sha256-client-cert":      "client certificate hashing",
	"-reverify-on-resume":             "re-verification on resumption",
	// Flags new at BoringSSL a0689af29e8e (after the Go-pinned f51d8b099832).
	"-cnsa1-202603": "compliance policies", "-cnsa2-202603": "compliance policies",
	"-cert-properties":              "certificate properties (trust anchor IDs)",
	"-available-trust-anchors":      "trust anchor IDs",
	"-key-shares":                   "choosing which groups get a key share (tlsflow sends one, for its first group)",
	"-no-key-shares":                "choosing which groups get a key share (tlsflow sends one, for its first group)",
	"-server-supported-groups-hint": "a hint of the server's groups for the key shares",
	"-curves-flags":                 "equal-preference groups on a server",
	"-request-server-padding":       "the server padding extension", "-server-supports-padding": "the server padding extension",
	"-reject-unusable-ech-config": "ECH",
	"-no-legacy-server-connect":   "refusing TLS 1.2 servers without renegotiation_info (tlsflow accepts them, RFC 5746 §4.1)",
	"-cbc-record-splitting":       "CBC suites",
	"-use-exporter-between-reads": "renegotiation",
}

// cutPrefix removes "-prefix" from a flag name when followed by "-",
// keeping that "-" (test_config.cc, RemovePrefix).
func cutPrefix(name, prefix string) (string, bool) {
	if strings.HasPrefix(name, prefix+"-") {
		return name[len(prefix):], true
	}
	return name, false
}

// parseFlags reads the runner's arguments into the initial, resumption
// and 0-RTT retry settings. Flags prefixed -on-initial / -on-resume /
// -on-retry apply to one of them, unprefixed ones to all three;
// -on-handshaker flags are for the split-handshake helper (ignored),
// -on-shim ones for us.
//
// An unimplemented flag does not stop the parse: the error names the first
// and lists the others (an unknown flag's parameter, if any, is skipped by
// guess: the next argument when it does not start with "-").
func parseFlags(args []string) (initial, resume, retry *settings, err error) {
	initial, resume, retry = newSettings(), newSettings(), newSettings()
	var unimpl *errUnimplemented
	missing := func(e *errUnimplemented) {
		switch {
		case unimpl == nil:
			unimpl = e
		case e.flag != unimpl.flag && !slices.Contains(unimpl.also, e.flag):
			unimpl.also = append(unimpl.also, e.flag)
		}
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name := arg
		skip := false
		if n, ok := cutPrefix(name, "-on-shim"); ok {
			name = n
		} else if n, ok := cutPrefix(name, "-on-handshaker"); ok {
			name, skip = n, true
		}
		targets := []*settings{initial, resume, retry}
		if n, ok := cutPrefix(name, "-on-initial"); ok {
			name, targets = n, []*settings{initial}
		} else if n, ok := cutPrefix(name, "-on-resume"); ok {
			name, targets = n, []*settings{resume}
		} else if n, ok := cutPrefix(name, "-on-retry"); ok {
			name, targets = n, []*settings{retry}
		}

		spec, known := knownFlags[name]
		if !known {
			why, ok := unimplementedFlags[name]
			if !ok {
				why = "unknown flag"
			}
			missing(&errUnimplemented{flag: name, why: why})
			if i+1 < len(args) && looksLikeParam(args[i+1]) {
				i++
			}
			continue
		}
		var param string
		if spec.hasParam {
			if i+1 >= len(args) {
				return nil, nil, nil, fmt.Errorf("flag %s: missing parameter", arg)
			}
			i++
			param = args[i]
		}
		if skip {
			continue
		}
		for _, s := range targets {
			if err := spec.set(s, param); err != nil {
				var e *errUnimplemented
				if errors.As(err, &e) {
					missing(e)
					break
				}
				return nil, nil, nil, fmt.Errorf("flag %s %q: %w", arg, param, err)
			}
		}
	}
	if unimpl != nil {
		return nil, nil, nil, unimpl
	}
	return initial, resume, retry, nil
}

// newSettings has BoringSSL's defaults for the flags whose default is not
// the zero value (test_config.h).
func newSettings() *settings {
	return &settings{initialWrite: "hello", repeatInitialWrite: 1}
}

// looksLikeParam guesses whether an argument after an unknown flag is its
// parameter: anything but a flag, or a (negative) number.
func looksLikeParam(arg string) bool {
	_, err := strconv.Atoi(arg)
	return !strings.HasPrefix(arg, "-") || err == nil
}

// parseALPNList reads the runner's ALPN list: protocol names each
// prefixed by a one-byte length, as in the ProtocolNameList of RFC 7301
// §3.1 without its outer length.
func parseALPNList(wire string) ([]string, error) {
	var protos []string
	for len(wire) > 0 {
		n := int(wire[0])
		if n == 0 || 1+n > len(wire) {
			return nil, fmt.Errorf("ALPN list: protocol name of length %d in %d remaining bytes", n, len(wire)-1)
		}
		protos = append(protos, wire[1:1+n])
		wire = wire[1+n:]
	}
	return protos, nil
}

// sctListFlag decodes a -signed-cert-timestamps value: base64 of a
// SignedCertificateTimestampList (RFC 6962 §3.3), whose SCTs tlsflow takes
// one by one. An empty list or an empty SCT is refused, as the RFC's
// lengths say (sct_list<1..2^16-1>, SerializedSCT<1..2^16-1>).
func sctListFlag(p string) ([][]byte, error) {
	b, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || int(b[0])<<8|int(b[1]) != len(b)-2 {
		return nil, errors.New("malformed SCT list: bad length")
	}
	b = b[2:]
	if len(b) == 0 {
		return nil, errors.New("invalid SCT list: empty")
	}
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, errors.New("malformed SCT list: truncated")
		}
		n := int(b[0])<<8 | int(b[1])
		if n == 0 || len(b)-2 < n {
			return nil, errors.New("invalid SCT list: empty or truncated SCT")
		}
		out = append(out, b[2:2+n])
		b = b[2+n:]
	}
	return out, nil
}

// sctListWire is the SignedCertificateTimestampList of scts, as
// -expect-signed-cert-timestamps gives it.
func sctListWire(scts [][]byte) []byte {
	var body []byte
	for _, sct := range scts {
		body = append(body, byte(len(sct)>>8), byte(len(sct)))
		body = append(body, sct...)
	}
	if len(body) == 0 {
		return nil
	}
	return append([]byte{byte(len(body) >> 8), byte(len(body))}, body...)
}
