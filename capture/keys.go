package capture

import (
	"strings"

	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/suites"
)

// noKeys says why a connection's records stay encrypted.
func (o *observer) noKeys() string {
	switch {
	case o.t.keyLog == nil:
		return "no key log"
	case o.suite == nil:
		return "the suite " + suites.Name(o.conn.CipherSuite) + " is not one tlsflow implements"
	}
	return "the key log has no secret for this connection's client random"
}

// keys12 prepares TLS 1.2 record protection from the key log's master
// secret: the key block of RFC 5246 §6.3, cut into keys and IVs for the
// AEAD suites (RFC 5288 §3, RFC 7905 §2). Each side's cipher takes over at
// its ChangeCipherSpec, with sequence number 0.
func (o *observer) keys12() {
	master := o.t.keyLog.secret(labelMasterSecret, o.clientRandom)
	if master == nil || o.suite == nil {
		return
	}
	ck, sk, civ, siv := keys.KeyBlock12(keys.Std(o.suite.Hash), master, o.clientRandom, o.serverRandom, o.suite.KeyLen(), o.suite.IVLen())
	client, err1 := o.suite.NewAEAD(nil, ck)
	server, err2 := o.suite.NewAEAD(nil, sk)
	if err1 != nil || err2 != nil {
		return
	}
	o.sides[clientSide].next = record.NewAEAD12(client, civ, o.suite.ExplicitNonce())
	o.sides[serverSide].next = record.NewAEAD12(server, siv, o.suite.ExplicitNonce())
	o.keyNote(labelMasterSecret)
}

// handshakeKeys13 turns on TLS 1.3 protection after the ServerHello (RFC
// 8446 §7.3), with the handshake traffic secrets of the key log if it
// has them.
func (o *observer) handshakeKeys13() {
	var used []string
	for s, label := range [2]string{labelClientHandshake, labelServerHandshake} {
		sd := &o.sides[s]
		sd.protected = true
		if secret := o.t.keyLog.secret(label, o.clientRandom); secret != nil && o.suite != nil {
			sd.cipher, sd.secret = o.cipher13(secret), secret
			used = append(used, label)
		}
		if sd.cipher == nil {
			sd.why = o.noKeys()
		}
	}
	o.keyNote(used...)
}

// applicationKeys13 turns side s to its application traffic secret once
// its Finished is sent (RFC 8446 §7.1).
func (o *observer) applicationKeys13(s int) {
	label := labelClientApplication
	if s == serverSide {
		label = labelServerApplication
	}
	sd := &o.sides[s]
	if sd.cipher == nil {
		return // not decrypting this side: its Finished was not read, or it failed
	}
	secret := o.t.keyLog.secret(label, o.clientRandom)
	if secret == nil {
		sd.cipher, sd.secret, sd.why = nil, nil, "the key log has no "+label+" for this connection"
		return
	}
	sd.cipher, sd.secret = o.cipher13(secret), secret
	o.keyNote(label)
}

// keyUpdate13 moves side s to its next application traffic secret (RFC
// 8446 §7.2).
func (o *observer) keyUpdate13(s int) {
	sd := &o.sides[s]
	if sd.secret == nil || o.suite == nil {
		return
	}
	sd.secret = keys.NextTrafficSecret(keys.Std(o.suite.Hash), sd.secret)
	sd.cipher = o.cipher13(sd.secret)
}

func (o *observer) cipher13(secret []byte) record.Cipher {
	key, iv := keys.TrafficKey(keys.Std(o.suite.Hash), secret, o.suite.KeyLen())
	aead, err := o.suite.NewAEAD(nil, key)
	if err != nil {
		return nil
	}
	return record.NewAEAD13(aead, iv, 0)
}

// keyNote says which secrets of the key log decrypt what follows.
func (o *observer) keyNote(labels ...string) {
	if len(labels) == 0 {
		return
	}
	o.note(clientSide, "key log", "secrets", strings.Join(labels, ", "))
}
