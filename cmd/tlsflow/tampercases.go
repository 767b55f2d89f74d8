package main

// The --tamper cases of the demo: for each message, the byte the man in
// the middle changes and why the handshake then fails where it does. The
// byte is chosen so each case makes one point; tamper_test.go checks that
// each fails at the step and with the alert told here.

// tamperDoc is the --help text for --tamper.
const tamperDoc = `  ClientHello        TLS 1.2: extended_master_secret becomes an unknown extension; the keys still
                     agree, the transcripts do not: the server's Finished check fails (decrypt_error,
                     step 7). TLS 1.3: the client random; the transcript feeds the keys, so the client
                     cannot decrypt the server's flight (bad_record_mac)
  ServerHello        the server random, which the server signs with its ECDHE key share: the client's
                     check of ServerKeyExchange fails (decrypt_error, step 3). TLS 1.3: as ClientHello
  Certificate        the CA's signature in the server certificate: no chain to a trusted CA
                     (unknown_ca, step 3)
  ServerKeyExchange  the server's ECDHE key share: its signature fails (decrypt_error, step 3)
  ClientKeyExchange  the client's key share: the server derives other keys and the client's first
                     encrypted record fails (bad_record_mac); with a client certificate (seed), the
                     client's CertificateVerify fails first (decrypt_error, step 5)
  CertificateVerify  the client's signature over the handshake (seed): decrypt_error, step 5
  Finished           the client's encrypted Finished: its authentication tag fails (bad_record_mac)
  record             the encrypted HTTP request: bad_record_mac at step 8
  In TLS 1.3 (--flow tls13 or client-auth) only the hellos travel in the clear: Certificate,
  CertificateVerify and Finished can only be changed as ciphertext, and the record's
  authentication tag catches it (bad_record_mac).
  Without --flow, --tamper uses tls12 (ECDHE, no client certificate: nothing but the check
  shown stands in the way), and seed for CertificateVerify.
`

// tamperFlow is the flow --tamper uses when --flow is not given.
func tamperFlow(target string) string {
	if target == "CertificateVerify" {
		return "seed" // the only TLS 1.2 flow with a client certificate
	}
	return "tls12"
}

// tamperPlan says where the man in the middle changes a byte for
// --tamper in this flow, or why the flow has no such message.
func (d *demo) tamperPlan() (*flipPlan, error) {
	if d.flow.twice {
		return nil, usagef("--tamper needs a flow with one connection: seed, tls12, tls13 or client-auth")
	}
	p := &flipPlan{lang: d.lang}
	notIn := func(why string) error {
		return usagef("--flow %s has no %s to change: %s", d.flow.name, d.tamper, why)
	}
	switch d.tamper {
	case "ClientHello":
		p.dir, p.msgType, p.locate = clientToServer, typeClientHello, atExtendedMasterSecret
	case "ServerHello":
		p.dir, p.msgType, p.locate = serverToClient, typeServerHello, atServerRandom
	case "Certificate":
		p.dir, p.msgType, p.locate = serverToClient, typeCertificate, atLeafSignature
	case "ServerKeyExchange":
		if d.flow.tls13 {
			return nil, notIn("TLS 1.3 carries the key shares in ClientHello and ServerHello (key_share); try --flow tls12")
		}
		if d.rsaKeyExchange() {
			return nil, notIn("with the RSA key exchange the server sends no key share; try --flow tls12")
		}
		p.dir, p.msgType, p.locate = serverToClient, typeServerKeyExchange, atServerKeyShare
	case "ClientKeyExchange":
		if d.flow.tls13 {
			return nil, notIn("TLS 1.3 carries the key shares in ClientHello and ServerHello (key_share); try --flow seed or tls12")
		}
		p.dir, p.msgType, p.locate = clientToServer, typeClientKeyExchange, atClientKeyExchange(d.rsaKeyExchange())
	case "CertificateVerify":
		if !d.flow.tls13 && !d.flow.clientAuth {
			return nil, notIn("in TLS 1.2 only a client with a certificate sends CertificateVerify; try --flow seed")
		}
		p.dir, p.msgType, p.locate = clientToServer, typeCertificateVerify, atCertificateVerifySignature
	case "Finished":
		p.dir, p.kind = clientToServer, flipAfterCCS
		p.what = say{"it carries the client's Finished", "er trägt das Finished des Clients"}
	case "record":
		p.dir, p.kind = clientToServer, flipAppData
		p.what = say{"it carries the HTTP request", "er trägt die HTTP-Anfrage"}
	}
	if !d.flow.tls13 {
		return p, nil
	}
	// Only the hellos travel in the clear; the man in the middle can
	// change the rest only as ciphertext.
	serverFlight := say{"the server's encrypted flight: EncryptedExtensions, Certificate, CertificateVerify, Finished",
		"der verschlüsselte Flug des Servers: EncryptedExtensions, Certificate, CertificateVerify, Finished"}
	clientFlight := say{"the client's encrypted flight, ending with its Finished", "der verschlüsselte Flug des Clients, mit seinem Finished am Ende"}
	switch {
	case d.tamper == "Certificate", d.tamper == "CertificateVerify" && !d.flow.clientAuth:
		p.dir, p.kind, p.what = serverToClient, flipEncrypted, serverFlight
	case d.tamper == "CertificateVerify":
		p.dir, p.kind, p.what = clientToServer, flipEncrypted,
			say{"the client's encrypted flight: Certificate, CertificateVerify, Finished", "der verschlüsselte Flug des Clients: Certificate, CertificateVerify, Finished"}
	case d.tamper == "Finished":
		p.dir, p.kind, p.what = clientToServer, flipEncrypted, clientFlight
	}
	return p, nil
}

// why explains the outcome of the --tamper case in this flow.
func (d *demo) why() say {
	if d.flow.tls13 {
		switch d.tamper {
		case "ClientHello", "ServerHello":
			return say{"TLS 1.3 hashes the transcript into the key schedule (RFC 8446 §7.1): with a changed hello the client and the server derive different handshake keys, and the first encrypted record, the server's EncryptedExtensions, fails its authentication tag at the client (bad_record_mac). Nothing after the hellos can be read, let alone changed.",
				"TLS 1.3 nimmt den Hash des bisherigen Handshakes in die Schlüsselableitung auf (RFC 8446 §7.1): mit einem veränderten Hello leiten Client und Server verschiedene Handshake-Schlüssel ab, und der erste verschlüsselte Record, die EncryptedExtensions des Servers, besteht beim Client die Authentifizierung nicht (bad_record_mac). Nach den Hellos ist nichts mehr lesbar, geschweige denn veränderbar."}
		case "record":
			return whyRecord
		}
		return say{"In TLS 1.3 everything after ServerHello is encrypted with the handshake keys: the man in the middle cannot even see " + d.tamper + ", he can only change ciphertext blindly, and the record's authentication tag catches it (bad_record_mac). The signature and Finished inside are never reached.",
			"In TLS 1.3 ist alles nach dem ServerHello mit den Handshake-Schlüsseln verschlüsselt: der Man-in-the-Middle sieht " + d.tamper + " nicht einmal, er kann nur blind Chiffretext ändern, und das Authentifizierungs-Tag des Records bemerkt es (bad_record_mac). Signatur und Finished darin werden gar nicht erst geprüft."}
	}
	switch d.tamper {
	case "ClientHello":
		if d.flow.clientAuth {
			return say{"The server ignored the unknown extension, so neither side uses the extended master secret and both derive the same keys. But the transcripts differ, and the client signs its transcript in CertificateVerify: the server checks that signature over the ClientHello it received and finds a mismatch at step 5 (decrypt_error), before Finished. Without a client certificate (--flow tls12) only Finished would catch it.",
				"Der Server hat die unbekannte Erweiterung ignoriert, also nutzt keine Seite das Extended Master Secret, und beide leiten dieselben Schlüssel ab. Aber die Handshake-Verläufe unterscheiden sich, und der Client signiert seinen Verlauf in CertificateVerify: der Server prüft diese Signatur über das ClientHello, das er empfangen hat, und findet in Schritt 5 einen Widerspruch (decrypt_error), noch vor Finished. Ohne Client-Zertifikat (--flow tls12) bemerkte es erst Finished."}
		}
		return say{"The server ignored the unknown extension, so neither side uses the extended master secret (RFC 7627) and both derive the same keys: every record decrypts. Only the transcripts differ, and Finished is a MAC over the transcript: the server's check of the client's verify_data fails (decrypt_error, step 7). This is the course note's step 7: Finished detects a man in the middle.",
			"Der Server hat die unbekannte Erweiterung ignoriert, also nutzt keine Seite das Extended Master Secret (RFC 7627), und beide leiten dieselben Schlüssel ab: jeder Record lässt sich entschlüsseln. Nur die Handshake-Verläufe unterscheiden sich, und Finished ist eine Prüfsequenz über den Verlauf: die Prüfung der verify_data des Clients schlägt beim Server fehl (decrypt_error, Schritt 7). Das ist Schritt 7 der Kursnotiz: Finished erkennt einen Man-in-the-Middle."}
	case "ServerHello":
		if d.rsaKeyExchange() {
			return say{"The randoms feed the master secret, so the two sides now have different keys; but first the client signs its transcript in CertificateVerify, and the server checks it over the ServerHello it sent, not the one the client got: decrypt_error at step 5.",
				"Die Zufallszahlen gehen in das Master-Secret ein, die Seiten haben also verschiedene Schlüssel; doch zuerst signiert der Client seinen Verlauf in CertificateVerify, und der Server prüft ihn über das ServerHello, das er gesendet hat, nicht das, das beim Client ankam: decrypt_error in Schritt 5."}
		}
		return say{"The server signs its ECDHE key share together with both randoms (RFC 8422 §5.4). The client checks that signature with the randoms it received, so a changed server random fails it at once: decrypt_error at step 3, before any key is derived. The randoms bind the signature to this one connection: an old ServerKeyExchange cannot be replayed.",
			"Der Server signiert seinen ECDHE-Schlüsselanteil zusammen mit beiden Zufallszahlen (RFC 8422 §5.4). Der Client prüft die Signatur mit den Zufallszahlen, die er empfangen hat, also scheitert sie an der veränderten Zufallszahl des Servers sofort: decrypt_error in Schritt 3, bevor ein Schlüssel abgeleitet ist. Die Zufallszahlen binden die Signatur an genau diese Verbindung: ein altes ServerKeyExchange lässt sich nicht wiederverwenden."}
	case "Certificate":
		return say{"The CA's signature over the server certificate no longer verifies, so the client cannot build a chain to a CA it trusts and rejects the certificate at step 3 (unknown_ca). Nor can a man in the middle put in a certificate of his own: no CA the client trusts has issued him one for localhost.",
			"Die Signatur der Zertifizierungsstelle über das Server-Zertifikat stimmt nicht mehr, also findet der Client keine Kette zu einer Zertifizierungsstelle, der er vertraut, und lehnt das Zertifikat in Schritt 3 ab (unknown_ca). Ein eigenes Zertifikat einschmuggeln kann der Man-in-the-Middle auch nicht: keine Zertifizierungsstelle, der der Client vertraut, hat ihm eines für localhost ausgestellt."}
	case "ServerKeyExchange":
		return say{"The server's signature covers its ECDHE key share and both randoms; the changed key share no longer matches it, and the client refuses at step 3 (decrypt_error). Without this signature a man in the middle could put in a key share of his own and read everything.",
			"Die Signatur des Servers deckt seinen ECDHE-Schlüsselanteil und beide Zufallszahlen ab; der veränderte Schlüsselanteil passt nicht mehr dazu, und der Client bricht in Schritt 3 ab (decrypt_error). Ohne diese Signatur könnte ein Man-in-the-Middle seinen eigenen Schlüsselanteil einsetzen und alles mitlesen."}
	case "ClientKeyExchange":
		if d.rsaKeyExchange() {
			return say{"The server decrypts the changed pre-master secret to garbage and, so as not to become a padding oracle (RFC 5246 §7.4.7.1), carries on silently with a random one. But the client signed the transcript, with the ClientKeyExchange it sent, in CertificateVerify: the server finds the signature does not verify (decrypt_error, step 5).",
				"Der Server entschlüsselt das veränderte Pre-Master-Secret zu Unsinn und macht, um kein Padding-Orakel zu werden (RFC 5246 §7.4.7.1), stillschweigend mit einem zufälligen weiter. Doch der Client hat den Verlauf mit dem ClientKeyExchange, das er gesendet hat, in CertificateVerify signiert: der Server findet, dass die Signatur nicht stimmt (decrypt_error, Schritt 5)."}
		}
		if d.flow.clientAuth {
			return say{"The client signed the transcript, with the ClientKeyExchange it sent, in CertificateVerify: the server finds the signature does not verify (decrypt_error, step 5).",
				"Der Client hat den Verlauf mit dem ClientKeyExchange, das er gesendet hat, in CertificateVerify signiert: der Server findet, dass die Signatur nicht stimmt (decrypt_error, Schritt 5)."}
		}
		return say{"Without a client certificate nothing the client sends is signed, so the server takes the changed key share and derives another pre-master secret, hence other keys. The first record under the new keys, the client's Finished, then fails its authentication tag at the server (bad_record_mac).",
			"Ohne Client-Zertifikat ist nichts signiert, was der Client sendet; der Server nimmt also den veränderten Schlüsselanteil und leitet ein anderes Pre-Master-Secret ab, damit andere Schlüssel. Der erste Record unter den neuen Schlüsseln, das Finished des Clients, besteht dann beim Server die Authentifizierung nicht (bad_record_mac)."}
	case "CertificateVerify":
		return say{"The client's signature over the handshake messages no longer verifies with the key in its certificate: the server refuses at step 5 (decrypt_error). This signature is what proves that the client holds the certificate's private key.",
			"Die Signatur des Clients über die Handshake-Nachrichten passt nicht mehr zum Schlüssel in seinem Zertifikat: der Server bricht in Schritt 5 ab (decrypt_error). Diese Signatur beweist, dass der Client den privaten Schlüssel des Zertifikats besitzt."}
	case "Finished":
		return say{"From ChangeCipherSpec on records are protected, and the client's Finished is the first of them. The man in the middle can change its ciphertext but cannot make a matching authentication tag without the keys: the server's AEAD check fails before verify_data is even compared (bad_record_mac).",
			"Ab ChangeCipherSpec sind die Records geschützt, und das Finished des Clients ist der erste davon. Der Man-in-the-Middle kann den Chiffretext ändern, aber ohne die Schlüssel kein passendes Authentifizierungs-Tag erzeugen: die AEAD-Prüfung des Servers schlägt fehl, bevor verify_data überhaupt verglichen wird (bad_record_mac)."}
	}
	return whyRecord
}

var whyRecord = say{"Application data is protected with the keys the handshake made: the changed ciphertext fails its authentication tag at the server (bad_record_mac, step 8), which ends the connection. The server never acts on the changed request.",
	"Anwendungsdaten sind mit den Schlüsseln aus dem Handshake geschützt: der veränderte Chiffretext besteht beim Server die Authentifizierung nicht (bad_record_mac, Schritt 8), und die Verbindung endet. Der Server verarbeitet die veränderte Anfrage nie."}
