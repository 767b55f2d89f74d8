package probe

import (
	"fmt"
	"slices"
	"strings"
)

// Rating is how a finding weighs.
type Rating string

const (
	Good Rating = "good" // as it should be
	Info Rating = "info" // worth knowing, neither good nor bad
	Warn Rating = "warn" // weaker than it should be; fix when you can
	Bad  Rating = "bad"  // broken or forbidden by the RFCs; fix now
)

// Text is one sentence in English and German.
type Text struct {
	EN string `json:"en"`
	DE string `json:"de"`
}

// Finding is one judgement: what was found, how it weighs, and why, in
// plain words.
type Finding struct {
	ID     string `json:"id"`
	Rating Rating `json:"rating"`
	Title  Text   `json:"title"`
	Why    Text   `json:"why"`
}

func finding(id string, r Rating, title, why Text) Finding {
	return Finding{ID: id, Rating: r, Title: title, Why: why}
}

// Worst is the heaviest rating among the findings (Good when none).
func Worst(fs []Finding) Rating {
	worst := Good
	for _, f := range fs {
		if rank(f.Rating) > rank(worst) {
			worst = f.Rating
		}
	}
	return worst
}

func rank(r Rating) int { return slices.Index([]Rating{Good, Info, Warn, Bad}, r) }

// suiteClass sorts a TLS 1.0–1.2 suite by what is wrong with it.
type suiteClass int

const (
	suiteGood   suiteClass = iota // forward secrecy and an AEAD (or TLS 1.3)
	suiteCBC                      // forward secrecy, but MAC-then-encrypt CBC
	suiteRSAKex                   // no forward secrecy
	suiteBroken                   // no encryption, no authentication, or a broken cipher or hash
)

func classify(id uint16) suiteClass {
	n := suiteName(id)
	switch {
	case strings.Contains(n, "_NULL_") || strings.Contains(n, "_anon_") || strings.Contains(n, "EXPORT") ||
		strings.Contains(n, "_RC4_") || strings.Contains(n, "_DES_") || strings.Contains(n, "_DES40_") ||
		strings.Contains(n, "_3DES_") || strings.Contains(n, "_RC2_") || strings.HasSuffix(n, "_MD5"):
		return suiteBroken
	case strings.HasPrefix(n, "TLS_RSA_"):
		return suiteRSAKex
	case strings.Contains(n, "_CBC_"):
		return suiteCBC
	}
	return suiteGood
}

// rateSuite rates one suite.
func rateSuite(id uint16) Rating {
	switch classify(id) {
	case suiteBroken:
		return Bad
	case suiteRSAKex, suiteCBC:
		return Warn
	}
	return Good
}

// rate turns a report into findings.
func rate(r *Report) []Finding {
	if !r.Reachable {
		return []Finding{finding("reachable", Bad,
			Text{"No TLS answer", "Keine TLS-Antwort"},
			Text{"No hello got a ServerHello or an alert: " + r.Unreachable,
				"Kein Hello bekam ein ServerHello oder einen Alert: " + r.Unreachable})}
	}
	var fs []Finding
	fs = append(fs, rateVersions(r)...)
	fs = append(fs, rateSuites(r)...)
	fs = append(fs, rateGroups(r)...)
	fs = append(fs, rateProtections(r)...)
	if r.Certificate != nil {
		fs = append(fs, rateCertificate(r.Certificate)...)
	}
	fs = append(fs, rateResumption(r)...)
	fs = append(fs, rateRecords(r)...)
	fs = append(fs, rateECH(r)...)
	return fs
}

func rateVersions(r *Report) []Finding {
	var fs []Finding
	for _, v := range r.Versions {
		if v.Answer == "not probed" {
			continue
		}
		id := "version." + strings.ToLower(strings.NewReplacer(" ", "", ".", "").Replace(v.Name))
		switch v.version {
		case versionSSL30:
			if v.Accepted {
				fs = append(fs, finding(id, Bad, Text{"SSL 3.0 accepted", "SSL 3.0 angenommen"},
					Text{"SSL 3.0 is broken (POODLE) and forbidden (RFC 7568): a man in the middle can force it and read along.",
						"SSL 3.0 ist gebrochen (POODLE) und verboten (RFC 7568): ein Angreifer in der Mitte kann es erzwingen und mitlesen."}))
			} else {
				fs = append(fs, finding(id, Good, Text{"SSL 3.0 refused", "SSL 3.0 abgelehnt"},
					Text{"As RFC 7568 demands.", "Wie RFC 7568 verlangt."}))
			}
		case versionTLS10, versionTLS11:
			if v.Accepted {
				fs = append(fs, finding(id, Bad, Text{v.Name + " accepted", v.Name + " angenommen"},
					Text{"RFC 8996 forbids TLS 1.0 and 1.1: they rest on SHA-1 and MD5 and allow only CBC and RC4 ciphers.",
						"RFC 8996 verbietet TLS 1.0 und 1.1: sie beruhen auf SHA-1 und MD5 und kennen nur CBC- und RC4-Verschlüsselung."}))
			} else {
				fs = append(fs, finding(id, Good, Text{v.Name + " refused", v.Name + " abgelehnt"},
					Text{"As RFC 8996 demands.", "Wie RFC 8996 verlangt."}))
			}
		case versionTLS12:
			if v.Accepted {
				fs = append(fs, finding(id, Good, Text{"TLS 1.2 accepted", "TLS 1.2 angenommen"},
					Text{"Clients without TLS 1.3 can connect.", "Clients ohne TLS 1.3 können sich verbinden."}))
			} else {
				fs = append(fs, finding(id, Info, Text{"TLS 1.2 refused", "TLS 1.2 abgelehnt"},
					Text{"Only TLS 1.3 clients can connect; older ones fail.", "Nur TLS-1.3-Clients können sich verbinden; ältere scheitern."}))
			}
		case versionTLS13:
			if v.Accepted {
				fs = append(fs, finding(id, Good, Text{"TLS 1.3 accepted", "TLS 1.3 angenommen"},
					Text{"The current version: an encrypted certificate, forward secrecy always, one round trip less.",
						"Die aktuelle Version: verschlüsseltes Zertifikat, immer Forward Secrecy, ein Roundtrip weniger."}))
			} else {
				fs = append(fs, finding(id, Warn, Text{"TLS 1.3 refused", "TLS 1.3 abgelehnt"},
					Text{"Clients cannot use the current version (RFC 8446); RFC 9325 recommends offering it.",
						"Clients können die aktuelle Version (RFC 8446) nicht nutzen; RFC 9325 empfiehlt sie."}))
			}
		}
	}
	return fs
}

func rateSuites(r *Report) []Finding {
	byClass := map[suiteClass][]string{}
	for _, so := range r.CipherSuites {
		for _, s := range so.Suites {
			c := classify(s.id)
			if !slices.Contains(byClass[c], s.Name) {
				byClass[c] = append(byClass[c], s.Name)
			}
		}
	}
	var fs []Finding
	if list := byClass[suiteBroken]; len(list) > 0 {
		fs = append(fs, finding("suites.broken", Bad, Text{"Broken cipher suites accepted: " + strings.Join(list, ", "),
			"Gebrochene Cipher-Suites angenommen: " + strings.Join(list, ", ")},
			Text{"No encryption (NULL), no server authentication (anon), export-weakened keys, or RC4, DES, 3DES or MD5, which are broken: anyone in the middle can read along or pose as the server.",
				"Keine Verschlüsselung (NULL), keine Server-Authentisierung (anon), exportgeschwächte Schlüssel oder RC4, DES, 3DES oder MD5, die gebrochen sind: wer in der Mitte sitzt, kann mitlesen oder sich als Server ausgeben."}))
	}
	if list := byClass[suiteRSAKex]; len(list) > 0 {
		fs = append(fs, finding("suites.rsa_kex", Warn, Text{"RSA key exchange accepted: " + strings.Join(list, ", "),
			"RSA-Schlüsseltausch angenommen: " + strings.Join(list, ", ")},
			Text{"No forward secrecy: whoever obtains the server's key later can decrypt every recorded session (RFC 9325 §4.1).",
				"Keine Forward Secrecy: wer später an den Schlüssel des Servers kommt, kann jede aufgezeichnete Sitzung entschlüsseln (RFC 9325 §4.1)."}))
	}
	if list := byClass[suiteCBC]; len(list) > 0 {
		fs = append(fs, finding("suites.cbc", Warn, Text{"CBC cipher suites accepted: " + strings.Join(list, ", "),
			"CBC-Cipher-Suites angenommen: " + strings.Join(list, ", ")},
			Text{"MAC-then-encrypt CBC has a history of padding oracles (Lucky Thirteen); RFC 9325 §4.2 recommends the AEAD suites.",
				"CBC mit MAC-then-encrypt hat eine Geschichte von Padding-Orakeln (Lucky Thirteen); RFC 9325 §4.2 empfiehlt die AEAD-Suites."}))
	}
	for _, so := range r.CipherSuites {
		if so.ServerOrder == "client" && so.version <= versionTLS12 && len(byClass[suiteGood]) > 0 && len(so.Suites) > len(goodOnly(so)) {
			fs = append(fs, finding("suites.order."+strings.ReplaceAll(so.Version, " ", ""), Warn,
				Text{so.Version + ": the client's order decides", so.Version + ": die Reihenfolge des Clients entscheidet"},
				Text{"The server takes the client's first suite, so a client that lists a weak suite first gets it; a server order puts the strong suites first for everyone.",
					"Der Server nimmt die erste Suite des Clients; ein Client, der eine schwache zuerst nennt, bekommt sie. Eine Server-Reihenfolge stellt die starken für alle nach vorn."}))
		}
	}
	return fs
}

// goodOnly is the suites of so rated good.
func goodOnly(so SuiteOrder) []SuiteInfo {
	var out []SuiteInfo
	for _, s := range so.Suites {
		if s.Rating == Good {
			out = append(out, s)
		}
	}
	return out
}

func rateGroups(r *Report) []Finding {
	var fs []Finding
	for _, g := range r.Groups {
		if g.Version != versionName(versionTLS13) {
			continue
		}
		hybrid := slices.ContainsFunc(g.ids, func(id uint16) bool { return id == 0x11ec || id == 0x11eb || id == 0x11ed })
		if hybrid {
			fs = append(fs, finding("groups.post_quantum", Good, Text{"Post-quantum key exchange accepted", "Post-Quanten-Schlüsseltausch angenommen"},
				Text{"A hybrid group (X25519MLKEM768 or another ML-KEM hybrid) protects recorded sessions against a future quantum computer.",
					"Eine hybride Gruppe (X25519MLKEM768 oder ein anderer ML-KEM-Hybrid) schützt aufgezeichnete Sitzungen gegen einen künftigen Quantencomputer."}))
		} else {
			fs = append(fs, finding("groups.post_quantum", Info, Text{"No post-quantum key exchange", "Kein Post-Quanten-Schlüsseltausch"},
				Text{"No ML-KEM hybrid group was accepted: recorded sessions could be decrypted by a future quantum computer.",
					"Keine ML-KEM-Hybridgruppe angenommen: aufgezeichnete Sitzungen könnte ein künftiger Quantencomputer entschlüsseln."}))
		}
	}
	switch {
	case r.HelloRetryGroup == "":
	case strings.HasPrefix(r.HelloRetryGroup, "none"):
		fs = append(fs, finding("groups.hello_retry", Warn, Text{"No HelloRetryRequest", "Kein HelloRetryRequest"},
			Text{"Offered groups without a key share, the server refused instead of asking for one (RFC 8446 §4.2.8); clients that guess the wrong group fail.",
				"Bei Gruppen ohne Key-Share hat der Server abgelehnt, statt nach einem zu fragen (RFC 8446 §4.2.8); Clients, die die falsche Gruppe raten, scheitern."}))
	default:
		fs = append(fs, finding("groups.hello_retry", Good, Text{"HelloRetryRequest for " + r.HelloRetryGroup, "HelloRetryRequest für " + r.HelloRetryGroup},
			Text{"Offered groups without a key share, the server asked for one, as RFC 8446 §4.2.8 says.",
				"Bei Gruppen ohne Key-Share hat der Server nach einem gefragt, wie RFC 8446 §4.2.8 es vorsieht."}))
	}
	return fs
}

func rateProtections(r *Report) []Finding {
	var fs []Finding
	if b := r.ExtendedMasterSecret; b != nil {
		if *b {
			fs = append(fs, finding("extended_master_secret", Good, Text{"Extended master secret", "Extended Master Secret"},
				Text{"TLS 1.2 sessions are bound to their handshake (RFC 7627), which stops the triple handshake attack.",
					"TLS-1.2-Sitzungen sind an ihren Handshake gebunden (RFC 7627); das verhindert den Triple-Handshake-Angriff."}))
		} else {
			fs = append(fs, finding("extended_master_secret", Warn, Text{"No extended master secret", "Kein Extended Master Secret"},
				Text{"A man in the middle can give two TLS 1.2 sessions the same secret (triple handshake, RFC 7627), breaking channel bindings and resumption.",
					"Ein Angreifer in der Mitte kann zwei TLS-1.2-Sitzungen dasselbe Geheimnis geben (Triple Handshake, RFC 7627); Channel Bindings und Wiederaufnahme brechen."}))
		}
	}
	if b := r.SecureRenegotiation; b != nil {
		if *b {
			fs = append(fs, finding("secure_renegotiation", Good, Text{"Secure renegotiation", "Sichere Neuverhandlung"},
				Text{"The server answers renegotiation_info (RFC 5746): a renegotiation cannot splice an attacker's data in front of a client's.",
					"Der Server beantwortet renegotiation_info (RFC 5746): eine Neuverhandlung kann keine Daten eines Angreifers vor die eines Clients setzen."}))
		} else {
			fs = append(fs, finding("secure_renegotiation", Warn, Text{"No secure renegotiation", "Keine sichere Neuverhandlung"},
				Text{"The server ignores renegotiation_info (RFC 5746); clients cannot tell whether it is open to the renegotiation attack.",
					"Der Server ignoriert renegotiation_info (RFC 5746); Clients können nicht erkennen, ob er für den Renegotiation-Angriff offen ist."}))
		}
	}
	if b := r.FallbackSCSV; b != nil {
		if *b {
			fs = append(fs, finding("downgrade.fallback_scsv", Good, Text{"Fallback refused (TLS_FALLBACK_SCSV)", "Fallback abgelehnt (TLS_FALLBACK_SCSV)"},
				Text{"A fallback hello got inappropriate_fallback (RFC 7507): breaking the first attempt does not push clients to an older version.",
					"Ein Fallback-Hello bekam inappropriate_fallback (RFC 7507): wer den ersten Versuch stört, drückt Clients nicht auf eine ältere Version."}))
		} else {
			fs = append(fs, finding("downgrade.fallback_scsv", Warn, Text{"Fallback accepted despite TLS_FALLBACK_SCSV", "Fallback trotz TLS_FALLBACK_SCSV angenommen"},
				Text{"A man in the middle who breaks a handshake can push a retrying client to an older version (RFC 7507).",
					"Ein Angreifer in der Mitte, der einen Handshake stört, kann einen neu versuchenden Client auf eine ältere Version drücken (RFC 7507)."}))
		}
	}
	if b := r.DowngradeSentinel; b != nil {
		if *b {
			fs = append(fs, finding("downgrade.sentinel", Good, Text{"Downgrade sentinel", "Downgrade-Markierung"},
				Text{"Below TLS 1.3 the server marks its random (RFC 8446 §4.1.3), so TLS 1.3 clients detect a forced downgrade.",
					"Unter TLS 1.3 markiert der Server seinen Zufallswert (RFC 8446 §4.1.3); TLS-1.3-Clients erkennen so einen erzwungenen Downgrade."}))
		} else {
			fs = append(fs, finding("downgrade.sentinel", Warn, Text{"No downgrade sentinel", "Keine Downgrade-Markierung"},
				Text{"A TLS 1.3 server must mark its random when it answers an older hello (RFC 8446 §4.1.3); without it clients cannot detect a forced downgrade.",
					"Ein TLS-1.3-Server muss seinen Zufallswert markieren, wenn er ein älteres Hello beantwortet (RFC 8446 §4.1.3); ohne das erkennen Clients keinen erzwungenen Downgrade."}))
		}
	}
	if r.ALPN == "h2" {
		fs = append(fs, finding("alpn", Info, Text{"ALPN: h2", "ALPN: h2"},
			Text{"The server chose HTTP/2 from h2 and http/1.1 (RFC 7301).", "Der Server hat aus h2 und http/1.1 HTTP/2 gewählt (RFC 7301)."}))
	} else {
		chose := r.ALPN
		if chose == "" {
			chose = "none"
		}
		fs = append(fs, finding("alpn", Info, Text{"ALPN: " + chose, "ALPN: " + chose},
			Text{"Offered h2 and http/1.1, the server did not choose HTTP/2.", "Mit h2 und http/1.1 im Angebot hat der Server nicht HTTP/2 gewählt."}))
	}
	return fs
}

// expiryWarnDays is when an upcoming expiry becomes a warning.
const expiryWarnDays = 30

func rateCertificate(c *CertReport) []Finding {
	var fs []Finding
	switch {
	case c.Trusted:
		fs = append(fs, finding("cert.trust", Good, Text{"Certificate chain trusted", "Zertifikatskette vertrauenswürdig"},
			Text{"The chain leads to a trusted root.", "Die Kette führt zu einer vertrauenswürdigen Wurzel."}))
	case c.SelfSigned:
		fs = append(fs, finding("cert.trust", Bad, Text{"Self-signed certificate", "Selbst signiertes Zertifikat"},
			Text{"Nobody vouches for the key: clients cannot tell the server from anyone in the middle.",
				"Niemand bürgt für den Schlüssel: Clients können den Server nicht von jemandem in der Mitte unterscheiden."}))
	case c.UntrustedRoot:
		fs = append(fs, finding("cert.trust", Bad, Text{"Untrusted root in the chain", "Nicht vertrauenswürdige Wurzel in der Kette"},
			Text{"The chain ends in a self-signed CA that is not trusted here: clients cannot tell the server from anyone in the middle.",
				"Die Kette endet in einer selbst signierten CA, der hier nicht vertraut wird: Clients können den Server nicht von jemandem in der Mitte unterscheiden."}))
	case c.Incomplete:
		fs = append(fs, finding("cert.trust", Bad, Text{"Certificate chain incomplete", "Zertifikatskette unvollständig"},
			Text{"The last certificate sent is issued by one the server did not send and that is not trusted here: an intermediate is missing (or the CA is unknown). " + c.TrustError,
				"Das letzte gesendete Zertifikat stammt von einem, das der Server nicht mitschickt und dem hier nicht vertraut wird: ein Zwischenzertifikat fehlt (oder die CA ist unbekannt). " + c.TrustError}))
	default:
		fs = append(fs, finding("cert.trust", Bad, Text{"Certificate chain not trusted", "Zertifikatskette nicht vertrauenswürdig"},
			Text{c.TrustError, c.TrustError}))
	}
	if c.NameChecked != "" {
		if c.NameMatches {
			fs = append(fs, finding("cert.name", Good, Text{"Certificate names " + c.NameChecked, "Zertifikat nennt " + c.NameChecked},
				Text{"The leaf certificate is valid for the name asked for.", "Das Zertifikat gilt für den angefragten Namen."}))
		} else {
			fs = append(fs, finding("cert.name", Bad, Text{"Certificate does not name " + c.NameChecked, "Zertifikat nennt " + c.NameChecked + " nicht"},
				Text{"Clients refuse a certificate for another name (RFC 6125).", "Clients lehnen ein Zertifikat für einen anderen Namen ab (RFC 6125)."}))
		}
	}
	until := c.NotAfter.UTC().Format("2006-01-02")
	switch {
	case c.Expired:
		fs = append(fs, finding("cert.expiry", Bad, Text{"Certificate expired on " + until, "Zertifikat abgelaufen am " + until},
			Text{"Clients refuse an expired certificate.", "Clients lehnen ein abgelaufenes Zertifikat ab."}))
	case c.NotYetValid:
		fs = append(fs, finding("cert.expiry", Bad, Text{"Certificate not yet valid", "Zertifikat noch nicht gültig"},
			Text{"Clients refuse a certificate before its notBefore.", "Clients lehnen ein Zertifikat vor seinem notBefore ab."}))
	case c.DaysLeft < expiryWarnDays:
		fs = append(fs, finding("cert.expiry", Warn, Text{fmt.Sprintf("Certificate expires in %d days (%s)", c.DaysLeft, until),
			fmt.Sprintf("Zertifikat läuft in %d Tagen ab (%s)", c.DaysLeft, until)},
			Text{"Renew it before clients start refusing it.", "Rechtzeitig erneuern, bevor Clients es ablehnen."}))
	default:
		fs = append(fs, finding("cert.expiry", Good, Text{"Certificate valid until " + until, "Zertifikat gültig bis " + until},
			Text{"Within its validity period.", "Innerhalb seiner Gültigkeit."}))
	}
	if !c.Ordered {
		fs = append(fs, finding("cert.order", Warn, Text{"Certificate chain out of order", "Zertifikatskette in falscher Reihenfolge"},
			Text{"Each certificate should be followed by its issuer (RFC 5246 §7.4.2, RFC 8446 §4.4.2); strict clients fail, others guess.",
				"Auf jedes Zertifikat sollte sein Aussteller folgen (RFC 5246 §7.4.2, RFC 8446 §4.4.2); strenge Clients scheitern, andere raten."}))
	}
	for i, ci := range c.Chain {
		weak := ci.Key == "RSA" && ci.KeyBits < 2048 || ci.Key == "ECDSA" && ci.KeyBits < 256
		if weak {
			fs = append(fs, finding(fmt.Sprintf("cert.key.%d", i), Bad, Text{fmt.Sprintf("Weak key: %s %d bits (certificate %d)", ci.Key, ci.KeyBits, i),
				fmt.Sprintf("Schwacher Schlüssel: %s %d Bit (Zertifikat %d)", ci.Key, ci.KeyBits, i)},
				Text{"RSA below 2048 bits and curves below 256 bits can be broken with today's means.",
					"RSA unter 2048 Bit und Kurven unter 256 Bit sind mit heutigen Mitteln zu brechen."}))
		}
		alg := strings.ToUpper(ci.SignatureAlgorithm)
		if !ci.SelfSigned && (strings.Contains(alg, "SHA1") || strings.Contains(alg, "MD5") || strings.Contains(alg, "MD2")) {
			fs = append(fs, finding(fmt.Sprintf("cert.signature.%d", i), Bad, Text{fmt.Sprintf("Certificate %d signed with %s", i, ci.SignatureAlgorithm),
				fmt.Sprintf("Zertifikat %d mit %s signiert", i, ci.SignatureAlgorithm)},
				Text{"SHA-1 and MD5 collisions have been forged for certificates; clients refuse such signatures.",
					"Für Zertifikate wurden SHA-1- und MD5-Kollisionen gefälscht; Clients lehnen solche Signaturen ab."}))
		}
	}
	if c.OCSPStaple != nil {
		if *c.OCSPStaple {
			fs = append(fs, finding("cert.ocsp_staple", Good, Text{"OCSP response stapled", "OCSP-Antwort mitgeliefert"},
				Text{"Clients learn the revocation status without asking the CA (RFC 6066 §8).",
					"Clients erfahren den Sperrstatus, ohne die CA zu fragen (RFC 6066 §8)."}))
		} else {
			fs = append(fs, finding("cert.ocsp_staple", Info, Text{"No OCSP staple", "Keine OCSP-Antwort mitgeliefert"},
				Text{"Clients that check revocation must ask the CA themselves, which is slower and tells the CA who visits.",
					"Clients, die den Sperrstatus prüfen, müssen selbst die CA fragen; das ist langsamer und verrät der CA die Besucher."}))
		}
	}
	return fs
}

func rateResumption(r *Report) []Finding {
	var kinds []string
	for _, k := range []struct {
		name string
		b    *bool
	}{{"TLS 1.2 session ID", r.Resumption.SessionID}, {"TLS 1.2 ticket", r.Resumption.Ticket}, {"TLS 1.3 PSK", r.Resumption.PSK13}} {
		if k.b != nil && *k.b {
			kinds = append(kinds, k.name)
		}
	}
	if len(kinds) == 0 {
		return []Finding{finding("resumption", Info, Text{"No session resumption", "Keine Sitzungswiederaufnahme"},
			Text{"Every connection costs a full handshake.", "Jede Verbindung kostet einen vollen Handshake."})}
	}
	list := strings.Join(kinds, ", ")
	return []Finding{finding("resumption", Info, Text{"Resumption: " + list, "Wiederaufnahme: " + list},
		Text{"Returning clients skip the certificate and the signature.", "Wiederkehrende Clients sparen Zertifikat und Signatur."})}
}

// rateRecords judges the record layer findings.
func rateRecords(r *Report) []Finding {
	var fs []Finding
	if b := r.Records.FragmentedHello; b != nil {
		if *b {
			fs = append(fs, finding("records.fragmented_hello", Good, Text{"Fragmented ClientHello reassembled", "Fragmentiertes ClientHello zusammengesetzt"},
				Text{"A ClientHello split over 64-byte records was answered (RFC 5246 §6.2.1): large hellos, with post-quantum key shares, get through.",
					"Ein auf 64-Byte-Records verteiltes ClientHello wurde beantwortet (RFC 5246 §6.2.1): große Hellos, etwa mit Post-Quanten-Key-Shares, kommen durch."}))
		} else {
			fs = append(fs, finding("records.fragmented_hello", Bad, Text{"Fragmented ClientHello refused", "Fragmentiertes ClientHello abgelehnt"},
				Text{"A ClientHello split over records was not answered; RFC 5246 §6.2.1 requires servers to reassemble it, and clients with large hellos (post-quantum key shares) will fail.",
					"Ein auf mehrere Records verteiltes ClientHello wurde nicht beantwortet; RFC 5246 §6.2.1 verlangt, dass Server es zusammensetzen, und Clients mit großen Hellos (Post-Quanten-Key-Shares) scheitern."}))
		}
	}
	if b := r.Records.RecordSizeLimit; b != nil {
		if *b {
			fs = append(fs, finding("records.record_size_limit", Info, Text{"record_size_limit supported (" + r.Records.RecordSizeLimitIn + ")", "record_size_limit unterstützt (" + r.Records.RecordSizeLimitIn + ")"},
				Text{"Constrained clients can ask for small records (RFC 8449).", "Eingeschränkte Clients können kleine Records verlangen (RFC 8449)."}))
		} else {
			fs = append(fs, finding("records.record_size_limit", Info, Text{"record_size_limit not supported", "record_size_limit nicht unterstützt"},
				Text{"The server ignores record_size_limit (RFC 8449): it sends records of up to 16 KiB to every client.",
					"Der Server ignoriert record_size_limit (RFC 8449): er schickt jedem Client Records bis 16 KiB."}))
		}
	}
	return fs
}

// rateECH judges Encrypted Client Hello.
func rateECH(r *Report) []Finding {
	var fs []Finding
	e := r.ECH
	if e.Offered && e.Accepted != nil {
		if *e.Accepted {
			fs = append(fs, finding("ech", Good, Text{"Encrypted Client Hello accepted", "Encrypted Client Hello angenommen"},
				Text{"The server read the ClientHello sealed with the given configuration: the name a client asks for stays off the network.",
					"Der Server hat das mit der angegebenen Konfiguration versiegelte ClientHello gelesen: der verlangte Name bleibt vom Netz fern."}))
		} else {
			retry := "and sent no new configuration (ECH is off there)"
			retryDE := "und keine neue Konfiguration gesendet (ECH ist dort aus)"
			if len(e.RetryConfigs) > 0 {
				retry = "and sent new configurations: " + strings.Join(e.RetryConfigs, ", ")
				retryDE = "und neue Konfigurationen gesendet: " + strings.Join(e.RetryConfigs, ", ")
			}
			fs = append(fs, finding("ech", Warn, Text{"Encrypted Client Hello rejected", "Encrypted Client Hello abgelehnt"},
				Text{"The server could not open the given configuration's ClientHello " + retry + "; clients with that configuration retry or fall back.",
					"Der Server konnte das ClientHello der angegebenen Konfiguration nicht öffnen " + retryDE + "; Clients mit dieser Konfiguration versuchen es erneut oder weichen aus."}))
		}
	}
	if b := e.GREASETolerated; b != nil && !*b {
		fs = append(fs, finding("ech.grease", Bad, Text{"GREASE ECH breaks the handshake", "GREASE-ECH bricht den Handshake"},
			Text{"A ClientHello with a GREASE encrypted_client_hello failed; draft-ietf-tls-esni-25 §6.2 has browsers send it, so they fail too.",
				"Ein ClientHello mit GREASE-encrypted_client_hello ist gescheitert; nach draft-ietf-tls-esni-25 §6.2 senden Browser es, also scheitern sie auch."}))
	}
	return fs
}
