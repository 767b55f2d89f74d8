package trace

// Every word the text renderer writes is in this file, once per language,
// so a missing translation is one table row away (and a test finds it).
// German follows the course note: Zufallszahl, Zertifikat, Prüfsequenz,
// Sitzung, Schlüssel, Cipher-Suite, Zertifizierungsstelle, Client/Server.
// Message, extension, alert and key log names stay as the RFCs spell them:
// they are what the reader finds in the RFC and in Wireshark.

type language int

const (
	english language = iota
	german
)

// tr is one user-visible string in each language.
type tr struct{ en, de string }

func (t tr) in(l language) string {
	if l == german {
		return t.de
	}
	return t.en
}

// words are the sentences of the text renderer; %s and %d as noted.
var words = struct {
	client, server                   tr
	step                             tr // "Step %d — %s"
	bytes                            tr // "%d bytes"
	stepSuffix                       tr // " — step %d"
	keysSuffix                       tr // " — step %d (keys)"
	ccs13                            tr // suffix of a TLS 1.3 ChangeCipherSpec
	ticketInFlight                   tr // suffix of a TLS 1.3 ticket sent with the server's flight
	connect                          tr // "%s: …" side
	connectTo                        tr // side, port: the client's line of step 0
	connectOn                        tr // side, port: the server's
	derives                          tr // side, what, key log label
	derivesBare                      tr // side, what
	verified                         tr // side, message
	because                          tr // ": %s" explanation of a check
	appData                          tr // arrow
	alert                            tr // arrow, alert name
	done                             tr // side
	atStep                           tr // " at step %d"
	after                            tr // where an error was: after a message
	handshakeFailed                  tr // side, where
	connectionEnded                  tr // side, where
	endAlertSent                     tr // alert
	endAlertReceived                 tr // alert, peer
	endCloseNotify                   tr // peer
	endClosed                        tr // peer
	endReset, endRefused, endTimeout tr
	endNotTLS                        tr // peer
	endLocal                         tr
	emsTLS13                         tr // the value of extended_master_secret in TLS 1.3
	none                             tr // an empty value
	note                             tr // side, note
	secret                           tr // label of Event.Secret
	noSecret                         tr // Secrets asked for, but the event has none
	certificate                      tr // "certificate[i]." prefix: "%s %d"
}{
	client:           tr{"client", "Client"},
	server:           tr{"server", "Server"},
	step:             tr{"Step %d — %s", "Schritt %d — %s"},
	bytes:            tr{"%d bytes", "%d Bytes"},
	stepSuffix:       tr{" — step %d", " — Schritt %d"},
	keysSuffix:       tr{" — step %d (keys)", " — Schritt %d (Schlüssel)"},
	ccs13:            tr{" — no meaning in TLS 1.3, sent only for middleboxes (RFC 8446 §D.4)", " — ohne Bedeutung in TLS 1.3, nur für Middleboxes gesendet (RFC 8446 §D.4)"},
	ticketInFlight:   tr{", sent early with the server's flight, for a later resumption (RFC 8446 §4.6.1)", ", früh mit dem Flug des Servers gesendet, für eine spätere Wiederaufnahme (RFC 8446 §4.6.1)"},
	connect:          tr{"%s: TCP connection open", "%s: TCP-Verbindung steht"},
	connectTo:        tr{"%s: TCP connection open to port %s", "%s: TCP-Verbindung zu Port %s steht"},
	connectOn:        tr{"%s: TCP connection accepted on port %s", "%s: TCP-Verbindung auf Port %s angenommen"},
	derives:          tr{"%s derives %s (%s)", "%s leitet %s ab (%s)"},
	derivesBare:      tr{"%s derives %s", "%s leitet %s ab"},
	verified:         tr{"%s verified %s ✓", "%s hat %s geprüft ✓"},
	because:          tr{": %s", ": %s"},
	appData:          tr{"%s application data", "%s Anwendungsdaten"},
	alert:            tr{"%s alert %s", "%s Alert %s"},
	done:             tr{"%s: handshake complete", "%s: Handshake abgeschlossen"},
	atStep:           tr{" at step %d", " in Schritt %d"},
	after:            tr{"after %s", "nach %s"},
	handshakeFailed:  tr{"%s: handshake FAILED%s", "%s: Handshake FEHLGESCHLAGEN%s"},
	connectionEnded:  tr{"%s: connection ended%s", "%s: Verbindung beendet%s"},
	endAlertSent:     tr{"alert %s sent", "Alert %s gesendet"},
	endAlertReceived: tr{"alert %s received from the %s", "Alert %s vom %s empfangen"},
	endCloseNotify:   tr{"the %s gave up with close_notify", "der %s hat mit close_notify aufgegeben"},
	endClosed:        tr{"the %s closed TCP without an alert", "der %s hat TCP ohne Alert geschlossen"},
	endReset:         tr{"the TCP connection was reset", "die TCP-Verbindung wurde zurückgesetzt (Reset)"},
	endRefused:       tr{"the TCP connection was refused", "die TCP-Verbindung wurde abgelehnt"},
	endTimeout:       tr{"no answer in time", "keine Antwort in der vorgesehenen Zeit"},
	endNotTLS:        tr{"the %s does not speak TLS", "der %s spricht kein TLS"},
	endLocal:         tr{"nothing was sent", "nichts wurde gesendet"},
	emsTLS13:         tr{"n/a (TLS 1.3 always binds the keys to the whole handshake)", "entfällt (TLS 1.3 bindet die Schlüssel immer an den ganzen Handshake)"},
	none:             tr{"(none)", "(keine)"},
	note:             tr{"%s: %s", "%s: %s"},
	secret:           tr{"secret", "Geheimnis"},
	noSecret:         tr{"(not in the trace: needs a key log)", "(nicht im Trace: braucht ein Key-Log)"},
	certificate:      tr{"certificate %d %s", "Zertifikat %d %s"},
}

// stepTitles are the course note's steps of a TLS 1.2 handshake.
var stepTitles = [...]tr{
	0: {"TCP connection to the server's port (HTTPS: 443 unless the address says otherwise)",
		"TCP-Verbindung zum Port des Servers (HTTPS: 443, wenn die Adresse keinen anderen nennt)"},
	1: {"ClientHello: the client's algorithms and its random",
		"ClientHello: die Algorithmen des Clients und seine Zufallszahl"},
	2: {"ServerHello: the server picks the strongest cipher suite both support and sends its random",
		"ServerHello: der Server wählt die stärkste Cipher-Suite, die beide unterstützen, und sendet seine Zufallszahl"},
	3: {"Certificate: the server's X.509 chain; with client authentication also CertificateRequest with the accepted CAs",
		"Certificate: die X.509-Zertifikatskette des Servers; mit Client-Authentifizierung auch CertificateRequest mit den akzeptierten Zertifizierungsstellen"},
	4: {"ServerHelloDone: the server has said all it has to say",
		"ServerHelloDone: der Server hat alles gesagt"},
	5: {"ClientKeyExchange: the client sends its part of the key exchange; both derive the keys from the two randoms and the pre-master secret; with client authentication also the client's Certificate and CertificateVerify",
		"ClientKeyExchange: der Client sendet seinen Teil des Schlüsselaustauschs; beide leiten die Schlüssel aus den zwei Zufallszahlen und dem Pre-Master-Secret ab; mit Client-Authentifizierung auch Certificate und CertificateVerify des Clients"},
	6: {"ChangeCipherSpec: from here on records are protected",
		"ChangeCipherSpec: ab hier sind die Records geschützt"},
	7: {"Finished: a MAC over the whole handshake, which detects a man in the middle",
		"Finished: eine Prüfsequenz über den ganzen Handshake, die einen Man-in-the-Middle erkennt"},
	8: {"Application protocols over the protected connection",
		"Anwendungsprotokolle über die geschützte Verbindung"},
}

// Steps 3 and 5 as the key exchange of the suite makes them: the course
// note's classic RSA key exchange, where the client encrypts the
// pre-master secret to the server's key, or ECDHE, where both sides send
// a key share and the server signs its own.
var (
	step3RSA = tr{"Certificate: the server's X.509 chain, whose RSA key the client will encrypt the pre-master secret to; with client authentication also CertificateRequest with the accepted CAs",
		"Certificate: die X.509-Zertifikatskette des Servers, mit deren RSA-Schlüssel der Client das Pre-Master-Secret verschlüsseln wird; mit Client-Authentifizierung auch CertificateRequest mit den akzeptierten Zertifizierungsstellen"}
	step3ECDHE = tr{"Certificate and ServerKeyExchange: the server's X.509 chain, and its ECDHE key share signed with the certificate's key; with client authentication also CertificateRequest with the accepted CAs",
		"Certificate und ServerKeyExchange: die X.509-Zertifikatskette des Servers und sein ECDHE-Schlüsselanteil, signiert mit dem Schlüssel des Zertifikats; mit Client-Authentifizierung auch CertificateRequest mit den akzeptierten Zertifizierungsstellen"}
	step5RSA = tr{"ClientKeyExchange: the client sends the pre-master secret, encrypted to the server's RSA key; both derive the keys from the two randoms and the pre-master secret; with client authentication also the client's Certificate and CertificateVerify",
		"ClientKeyExchange: der Client sendet das Pre-Master-Secret, verschlüsselt mit dem RSA-Schlüssel des Servers; beide leiten die Schlüssel aus den zwei Zufallszahlen und dem Pre-Master-Secret ab; mit Client-Authentifizierung auch Certificate und CertificateVerify des Clients"}
	step5ECDHE = tr{"ClientKeyExchange: the client sends its ECDHE key share; from the two key shares both compute the pre-master secret, then the keys from it and the two randoms; with client authentication also the client's Certificate and CertificateVerify",
		"ClientKeyExchange: der Client sendet seinen ECDHE-Schlüsselanteil; aus den zwei Schlüsselanteilen berechnen beide das Pre-Master-Secret, daraus und aus den zwei Zufallszahlen die Schlüssel; mit Client-Authentifizierung auch Certificate und CertificateVerify des Clients"}
)

// phase is a part of the TLS 1.3 flow (RFC 8446 §2, Figure 1).
type phase string

const (
	phaseNone        phase = ""
	phaseKeyExchange phase = "key_exchange"
	phaseParameters  phase = "server_parameters"
	phaseAuth        phase = "authentication"
	phaseData        phase = "application_data"
	phasePost        phase = "post_handshake"
)

// earlyDataTitle heads 0-RTT data (RFC 8446 §2.3), which the course note's
// flow does not have.
var earlyDataTitle = tr{"0-RTT · Early data: application data sent right behind the ClientHello, under a key from the resumed session (RFC 8446 §2.3); replayable, and not forward secret",
	"0-RTT · Frühe Daten: Anwendungsdaten direkt hinter dem ClientHello, mit einem Schlüssel aus der wiederaufgenommenen Sitzung (RFC 8446 §2.3); wiederholbar und ohne Forward Secrecy"}

var phaseTitles = map[phase]tr{
	phaseKeyExchange: {"TLS 1.3 · Key exchange: hellos, key shares, handshake keys (RFC 8446 §4.1)",
		"TLS 1.3 · Schlüsselaustausch: Hellos, Schlüsselanteile, Handshake-Schlüssel (RFC 8446 §4.1)"},
	phaseParameters: {"TLS 1.3 · Server parameters, encrypted from here on (RFC 8446 §4.3)",
		"TLS 1.3 · Server-Parameter, ab hier verschlüsselt (RFC 8446 §4.3)"},
	phaseAuth: {"TLS 1.3 · Authentication: Certificate, CertificateVerify, Finished (RFC 8446 §4.4)",
		"TLS 1.3 · Authentifizierung: Certificate, CertificateVerify, Finished (RFC 8446 §4.4)"},
	phaseData: {"TLS 1.3 · Application data",
		"TLS 1.3 · Anwendungsdaten"},
	phasePost: {"TLS 1.3 · After the handshake: tickets and key updates (RFC 8446 §4.6)",
		"TLS 1.3 · Nach dem Handshake: Tickets und Schlüsselwechsel (RFC 8446 §4.6)"},
}

// fieldLabels turns a Field's stable name into a label. Names that are
// not here are shown as they are.
var fieldLabels = map[string]tr{
	// ClientHello, ServerHello (RFC 5246 §7.4.1, RFC 8446 §4.1)
	"legacy_version":    {"version field", "Versionsfeld"},
	"random":            {"random", "Zufallszahl"},
	"legacy_session_id": {"session ID", "Sitzungs-ID"},
	"cipher_suites":     {"cipher suites offered", "angebotene Cipher-Suites"},
	"cipher_suite":      {"cipher suite", "Cipher-Suite"},
	"extensions":        {"extensions", "Erweiterungen"},
	// extensions (RFC 8446 §4.2 and the RFCs of each)
	"server_name":                            {"server name (SNI)", "Servername (SNI)"},
	"supported_groups":                       {"groups", "Gruppen"},
	"signature_algorithms":                   {"signature schemes", "Signaturverfahren"},
	"signature_algorithms_cert":              {"signature schemes in certificates", "Signaturverfahren in Zertifikaten"},
	"application_layer_protocol_negotiation": {"application protocols (ALPN)", "Anwendungsprotokolle (ALPN)"},
	"supported_versions":                     {"versions", "Versionen"},
	"key_share":                              {"key share", "Schlüsselanteil"},
	"pre_shared_key":                         {"pre-shared key", "Pre-Shared Key"},
	"psk_key_exchange_modes":                 {"PSK modes", "PSK-Modi"},
	"early_data":                             {"early data (0-RTT)", "frühe Daten (0-RTT)"},
	"cookie":                                 {"cookie", "Cookie"},
	"record_size_limit":                      {"record size limit (RFC 8449)", "Datensatz-Größengrenze (RFC 8449)"},
	"compress_certificate":                   {"certificate compression accepted (RFC 8879)", "akzeptierte Zertifikatskompression (RFC 8879)"},
	// CompressedCertificate (RFC 8879 §4)
	"algorithm":                      {"compression algorithm", "Kompressionsverfahren"},
	"uncompressed_length":            {"uncompressed length", "unkomprimierte Länge"},
	"compressed_certificate_message": {"compressed certificate message", "komprimierte Zertifikatsnachricht"},
	// Certificate (RFC 5246 §7.4.2, RFC 8446 §4.4.2)
	"certificate_list": {"certificates", "Zertifikate"},
	"subject":          {"subject", "Inhaber"},
	"issuer":           {"issuer", "Aussteller"},
	"not_before":       {"valid from", "gültig ab"},
	"not_after":        {"valid until", "gültig bis"},
	"key":              {"public key", "öffentlicher Schlüssel"},
	"dns_names":        {"DNS names", "DNS-Namen"},
	// ServerKeyExchange, ClientKeyExchange, CertificateVerify
	"named_curve":                 {"group", "Gruppe"},
	"public":                      {"public key share", "öffentlicher Schlüsselanteil"},
	"signature_scheme":            {"signature scheme", "Signaturverfahren"},
	"signature":                   {"signature", "Signatur"},
	"encrypted_pre_master_secret": {"pre-master secret, encrypted to the server's RSA key", "Pre-Master-Secret, mit dem RSA-Schlüssel des Servers verschlüsselt"},
	// CertificateRequest (RFC 5246 §7.4.4, RFC 8446 §4.3.2)
	"certificate_types":              {"certificate types", "Zertifikatstypen"},
	"supported_signature_algorithms": {"signature schemes", "Signaturverfahren"},
	"certificate_authorities":        {"accepted CAs", "akzeptierte Zertifizierungsstellen"},
	// Finished (RFC 5246 §7.4.9, RFC 8446 §4.4.4)
	"verify_data": {"verify_data (MAC over the handshake)", "Prüfsequenz (verify_data)"},
	// connection, alerts, application data, summary, errors, notes
	"local":                  {"local", "lokal"},
	"remote":                 {"remote", "Gegenstelle"},
	"level":                  {"level", "Stufe"},
	"length":                 {"length in bytes", "Länge in Bytes"},
	"version":                {"version", "Version"},
	"group":                  {"group", "Gruppe"},
	"alpn":                   {"application protocol (ALPN)", "Anwendungsprotokoll (ALPN)"},
	"extended_master_secret": {"extended master secret (RFC 7627)", "Extended Master Secret (RFC 7627)"},
	"resumed":                {"session resumed", "Sitzung wiederaufgenommen"},
	"error":                  {"error", "Fehler"},
	"verified":               {"verified", "geprüft"},
	"selected_group":         {"group asked for", "verlangte Gruppe"},
	"reason":                 {"reason", "Grund"},
	"by":                     {"by", "per"},
	"identity":               {"PSK identity", "PSK-Identität"},
	"mode":                   {"mode", "Modus"},
	"direction":              {"direction", "Richtung"},
	// what a capture's reader (package capture) says
	"records": {"records", "Datensätze"},
	"data":    {"data begins", "Daten beginnen"},
	"secrets": {"secrets", "Geheimnisse"},
}

// places translates where an error says it was, beyond "after" a message.
var places = map[string]tr{
	"application data":                    {"application data", "Anwendungsdaten"},
	"after Finished and application data": {"after Finished and application data", "nach Finished und Anwendungsdaten"},
}

// valueWords translates the few field values that are words, not data.
var valueWords = map[string]tr{
	"(empty)":   {"(empty)", "(leer)"},
	"(any)":     {"(any)", "(beliebig)"},
	"true":      {"yes", "ja"},
	"false":     {"no", "nein"},
	"warning":   {"warning", "Warnung"},
	"fatal":     {"fatal", "fatal"},
	"peer → us": {"peer → us", "Gegenseite → wir"},
	"us → peer": {"us → peer", "wir → Gegenseite"},
}

// certificateCount is the value of certificate_list, "%d certificate(s)"
// as describe writes it.
var certificateCount = tr{"%d certificate(s)", "%d Zertifikat(e)"}

// keyLabels says what each key log label (KindKeys Message) is.
var keyLabels = map[string]tr{
	"CLIENT_RANDOM": {"the master secret from both randoms and the pre-master secret",
		"das Master-Secret aus beiden Zufallszahlen und dem Pre-Master-Secret"},
	"CLIENT_EARLY_TRAFFIC_SECRET": {"the client's early traffic secret (0-RTT)",
		"den Schlüssel des Clients für frühe Daten (0-RTT)"},
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET": {"the client's handshake traffic secret",
		"den Handshake-Schlüssel des Clients"},
	"SERVER_HANDSHAKE_TRAFFIC_SECRET": {"the server's handshake traffic secret",
		"den Handshake-Schlüssel des Servers"},
	"CLIENT_TRAFFIC_SECRET_0": {"the client's application traffic secret",
		"den Anwendungsschlüssel des Clients"},
	"SERVER_TRAFFIC_SECRET_0": {"the server's application traffic secret",
		"den Anwendungsschlüssel des Servers"},
	"EXPORTER_SECRET": {"the exporter secret",
		"das Exporter-Secret"},
	"key update": {"new traffic keys",
		"neue Schlüssel für den Datenverkehr"},
}

// checks says what a KindVerified event has established, by message.
var checks = map[string]tr{
	"Certificate": {"the chain leads to a trusted CA and is valid",
		"die Kette führt zu einer vertrauenswürdigen Zertifizierungsstelle und ist gültig"},
	"CertificateVerify": {"the signature over the handshake so far matches the certificate's key",
		"die Signatur über den bisherigen Handshake passt zum Schlüssel im Zertifikat"},
	"ServerKeyExchange": {"the signature over both randoms and the key share matches the certificate's key",
		"die Signatur über beide Zufallszahlen und den Schlüsselanteil passt zum Schlüssel im Zertifikat"},
	"OCSP staple": {"the certificate authority's OCSP response for the server's certificate: signed by it, fresh, status good",
		"die OCSP-Antwort der Zertifizierungsstelle zum Serverzertifikat: von ihr signiert, aktuell, Status gut"},
	"Finished": {"the MAC matches, nobody altered the handshake (no man in the middle)",
		"die Prüfsequenz stimmt, niemand hat den Handshake verändert (kein Man-in-the-Middle)"},
}

// notes translates KindNote messages.
var notes = map[string]tr{
	"resumption offered":  {"session resumption offered", "Wiederaufnahme der Sitzung angeboten"},
	"resumption accepted": {"session resumption accepted", "Wiederaufnahme der Sitzung angenommen"},
	"resumption rejected": {"session resumption rejected", "Wiederaufnahme der Sitzung abgelehnt"},
	"early data rejected": {"early data (0-RTT) rejected", "frühe Daten (0-RTT) abgelehnt"},
	"early data offered": {"early data (0-RTT) offered: replayable, send only what is safe to repeat",
		"frühe Daten (0-RTT) angeboten: wiederholbar, nur senden, was gefahrlos wiederholt werden kann"},
	"certificate compressed": {"certificate compressed (RFC 8879): the peer decompresses it",
		"Zertifikat komprimiert (RFC 8879): die Gegenseite entpackt es"},
	"certificate decompressed": {"certificate decompressed (RFC 8879), within the declared length",
		"Zertifikat entpackt (RFC 8879), innerhalb der angegebenen Länge"},
	"record size limit": {"record size limit (RFC 8449): protected records stay within the peer's limit",
		"Datensatz-Größengrenze (RFC 8449): geschützte Datensätze bleiben innerhalb der Grenze der Gegenseite"},
	"early data not offered": {"early data (0-RTT) not offered", "frühe Daten (0-RTT) nicht angeboten"},
	"early data accepted": {"early data (0-RTT) accepted: read before the handshake is complete, possibly a replay",
		"frühe Daten (0-RTT) angenommen: vor Abschluss des Handshakes gelesen, womöglich eine Wiederholung"},
	"early data": {"early data (0-RTT), replayable: an attacker can send a copy again",
		"frühe Daten (0-RTT), wiederholbar: ein Angreifer kann eine Kopie erneut senden"},
	"key log":          {"decrypted with the key log's secrets", "mit den Geheimnissen der Schlüsseldatei entschlüsselt"},
	"not read further": {"not read further", "nicht weiter gelesen"},
	"HelloRetryRequest": {"HelloRetryRequest: the server asks for a key share of another group",
		"HelloRetryRequest: der Server verlangt einen Schlüsselanteil einer anderen Gruppe"},
}
