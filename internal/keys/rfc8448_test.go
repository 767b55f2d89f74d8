package keys_test

import (
	"bytes"
	"crypto"
	"testing"

	"github.com/tlsflow/tlsflow/internal/keys"
)

// fullHandshake is one RFC 8448 trace without PSK, described by its messages
// in wire order and the secrets the RFC prints for it.
type fullHandshake struct {
	name string
	// hello is ClientHello ... ServerHello. With helloRetry set, hello[0] is
	// ClientHello1 and the transcript replaces it with message_hash after it.
	hello      []string
	helloRetry bool
	ecdhe      string

	handshakeSecret, clientHandshakeTraffic, serverHandshakeTraffic string

	serverFlight       []string // EncryptedExtensions ... CertificateVerify
	serverVerifyData   string
	serverFinished     string
	masterSecret       string
	clientAppTraffic   string
	serverAppTraffic   string
	exporterMaster     string
	clientFlight       []string // client Certificate, CertificateVerify, if any
	clientVerifyData   string
	clientFinished     string
	resumptionMaster   string
	helloHash          string // Transcript-Hash(ClientHello...ServerHello), where printed
	serverFinishedHash string // ...server Finished, where printed
	clientFinishedHash string // ...client Finished, where printed
}

var fullHandshakes = []fullHandshake{{
	name:                   "§3 simple 1-RTT",
	hello:                  []string{s3ClientHello, s3ServerHello},
	ecdhe:                  s3ECDHE,
	handshakeSecret:        s3HandshakeSecret,
	clientHandshakeTraffic: s3ClientHandshakeTraffic,
	serverHandshakeTraffic: s3ServerHandshakeTraffic,
	serverFlight:           []string{s3EncryptedExtensions, s3Certificate, s3CertificateVerify},
	serverVerifyData:       s3ServerVerifyData,
	serverFinished:         s3ServerFinished,
	masterSecret:           s3MasterSecret,
	clientAppTraffic:       s3ClientAppTraffic,
	serverAppTraffic:       s3ServerAppTraffic,
	exporterMaster:         s3ExporterMaster,
	clientVerifyData:       s3ClientVerifyData,
	clientFinished:         s3ClientFinished,
	resumptionMaster:       s3ResumptionMaster,
	helloHash:              s3HelloHash,
	serverFinishedHash:     s3ServerFinishedHash,
	clientFinishedHash:     s3ClientFinishedHash,
}, {
	name:                   "§5 HelloRetryRequest (message_hash transcript)",
	hello:                  []string{s5ClientHello1, s5HelloRetryRequest, s5ClientHello2, s5ServerHello},
	helloRetry:             true,
	ecdhe:                  s5ECDHE,
	handshakeSecret:        s5HandshakeSecret,
	clientHandshakeTraffic: s5ClientHandshakeTraffic,
	serverHandshakeTraffic: s5ServerHandshakeTraffic,
	serverFlight:           []string{s5EncryptedExtensions, s5Certificate, s5CertificateVerify},
	serverVerifyData:       s5ServerVerifyData,
	serverFinished:         s5ServerFinished,
	masterSecret:           s5MasterSecret,
	clientAppTraffic:       s5ClientAppTraffic,
	serverAppTraffic:       s5ServerAppTraffic,
	exporterMaster:         s5ExporterMaster,
	clientVerifyData:       s5ClientVerifyData,
	clientFinished:         s5ClientFinished,
	resumptionMaster:       s5ResumptionMaster,
	helloHash:              s5HelloHash,
}, {
	name:                   "§6 client authentication",
	hello:                  []string{s6ClientHello, s6ServerHello},
	ecdhe:                  s6ECDHE,
	handshakeSecret:        s6HandshakeSecret,
	clientHandshakeTraffic: s6ClientHandshakeTraffic,
	serverHandshakeTraffic: s6ServerHandshakeTraffic,
	serverFlight:           []string{s6EncryptedExtensions, s6CertificateRequest, s6ServerCertificate, s6ServerCertificateVerify},
	serverVerifyData:       s6ServerVerifyData,
	serverFinished:         s6ServerFinished,
	masterSecret:           s6MasterSecret,
	clientAppTraffic:       s6ClientAppTraffic,
	serverAppTraffic:       s6ServerAppTraffic,
	exporterMaster:         s6ExporterMaster,
	clientFlight:           []string{s6ClientCertificate, s6ClientCertificateVerify},
	clientVerifyData:       s6ClientVerifyData,
	clientFinished:         s6ClientFinished,
	resumptionMaster:       s6ResumptionMaster,
}}

// TestSchedule13MatchesRFC8448FullHandshakes walks the key schedule and the
// transcript through each full-handshake trace, as a client would, and
// checks every secret and verify_data the RFC prints.
func TestSchedule13MatchesRFC8448FullHandshakes(t *testing.T) {
	for _, hs := range fullHandshakes {
		t.Run(hs.name, func(t *testing.T) {
			var tr keys.Transcript
			for i, m := range hs.hello {
				tr.Write(unhex(m))
				if i == 0 && hs.helloRetry {
					tr.SetHash(keys.Std(crypto.SHA256)) // the client learns the suite from the HelloRetryRequest
					tr.ReplaceWithMessageHash()
				}
			}
			tr.SetHash(keys.Std(crypto.SHA256))
			if hs.helloHash != "" {
				check(t, "Transcript-Hash(ClientHello..ServerHello)", tr.Sum(), hs.helloHash)
			}

			s := keys.NewSchedule13(keys.Std(crypto.SHA256), nil)
			check(t, "early secret", s.EarlySecret(), s3EarlySecret) // the same for every trace without PSK
			s.AdvanceToHandshake(unhex(hs.ecdhe))
			check(t, "handshake secret", s.HandshakeSecret(), hs.handshakeSecret)
			chs := s.ClientHandshakeTrafficSecret(tr.Sum())
			shs := s.ServerHandshakeTrafficSecret(tr.Sum())
			check(t, "client_handshake_traffic_secret", chs, hs.clientHandshakeTraffic)
			check(t, "server_handshake_traffic_secret", shs, hs.serverHandshakeTraffic)

			for _, m := range hs.serverFlight {
				tr.Write(unhex(m))
			}
			serverVerify := keys.Finished13(keys.Std(crypto.SHA256), shs, tr.Sum())
			check(t, "server Finished verify_data", serverVerify, hs.serverVerifyData)
			check(t, "server Finished message", append([]byte{20, 0, 0, 32}, serverVerify...), hs.serverFinished)
			tr.Write(unhex(hs.serverFinished))
			if hs.serverFinishedHash != "" {
				check(t, "Transcript-Hash(ClientHello..server Finished)", tr.Sum(), hs.serverFinishedHash)
			}

			s.AdvanceToMaster()
			check(t, "master secret", s.MasterSecret(), hs.masterSecret)
			check(t, "client_application_traffic_secret_0", s.ClientApplicationTrafficSecret(tr.Sum()), hs.clientAppTraffic)
			check(t, "server_application_traffic_secret_0", s.ServerApplicationTrafficSecret(tr.Sum()), hs.serverAppTraffic)
			check(t, "exporter_master_secret", s.ExporterMasterSecret(tr.Sum()), hs.exporterMaster)

			for _, m := range hs.clientFlight {
				tr.Write(unhex(m))
			}
			clientVerify := keys.Finished13(keys.Std(crypto.SHA256), chs, tr.Sum())
			check(t, "client Finished verify_data", clientVerify, hs.clientVerifyData)
			check(t, "client Finished message", append([]byte{20, 0, 0, 32}, clientVerify...), hs.clientFinished)
			tr.Write(unhex(hs.clientFinished))
			if hs.clientFinishedHash != "" {
				check(t, "Transcript-Hash(ClientHello..client Finished)", tr.Sum(), hs.clientFinishedHash)
			}
			check(t, "resumption_master_secret", s.ResumptionMasterSecret(tr.Sum()), hs.resumptionMaster)
		})
	}
}

// TestTrafficKeysMatchRFC8448 checks key and iv expansion (RFC 8446 §7.3), the
// finished keys, and the resumption PSK of the §3 trace.
func TestTrafficKeysMatchRFC8448(t *testing.T) {
	tests := []struct {
		name            string
		secret          string
		wantKey, wantIV string
	}{
		{"§3 server handshake", s3ServerHandshakeTraffic, s3ServerHandshakeKey, s3ServerHandshakeIV},
		{"§3 client handshake", s3ClientHandshakeTraffic, s3ClientHandshakeKey, s3ClientHandshakeIV},
		{"§3 server application", s3ServerAppTraffic, s3ServerAppKey, s3ServerAppIV},
		{"§3 client application", s3ClientAppTraffic, s3ClientAppKey, s3ClientAppIV},
		{"§4 client early", s4ClientEarlyTraffic, s4EarlyKey, s4EarlyIV},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, iv := keys.TrafficKey(keys.Std(crypto.SHA256), unhex(tt.secret), 16)
			check(t, "write_key", key, tt.wantKey)
			check(t, "write_iv", iv, tt.wantIV)
		})
	}

	check(t, "§3 server finished_key", keys.FinishedKey(keys.Std(crypto.SHA256), unhex(s3ServerHandshakeTraffic)), s3ServerFinishedKey)
	check(t, "§3 client finished_key", keys.FinishedKey(keys.Std(crypto.SHA256), unhex(s3ClientHandshakeTraffic)), s3ClientFinishedKey)
	check(t, "§3 resumption PSK (ticket_nonce 00 00)",
		keys.ResumptionPSK(keys.Std(crypto.SHA256), unhex(s3ResumptionMaster), unhex(s3TicketNonce)), s3ResumptionPSK)
	check(t, `§3 Derive-Secret(early, "derived", "")`,
		keys.DeriveSecret(keys.Std(crypto.SHA256), unhex(s3EarlySecret), "derived", crypto.SHA256.New().Sum(nil)), s3EarlyDerived)
}

// TestSchedule13MatchesRFC8448Resumption follows the §4 client: the PSK from
// the §3 ticket, the binder over the truncated ClientHello, the 0-RTT secrets,
// then the PSK+ECDHE handshake to the resumption master secret.
func TestSchedule13MatchesRFC8448Resumption(t *testing.T) {
	psk := keys.ResumptionPSK(keys.Std(crypto.SHA256), unhex(s3ResumptionMaster), unhex(s3TicketNonce))
	check(t, "PSK from the §3 ticket", psk, s4PSK)

	s := keys.NewSchedule13(keys.Std(crypto.SHA256), psk)
	check(t, "early secret", s.EarlySecret(), s4EarlySecret)

	var tr keys.Transcript
	tr.SetHash(keys.Std(crypto.SHA256))
	binderTranscript := tr.Clone()
	binderTranscript.Write(unhex(s4TruncatedClientHello))
	check(t, "binder hash = Transcript-Hash(Truncate(ClientHello))", binderTranscript.Sum(), s4BinderHash)
	binderKey := s.BinderKey(keys.Resumption)
	check(t, "binder_key (res binder)", binderKey, s4BinderKey)
	check(t, "binder finished_key", keys.FinishedKey(keys.Std(crypto.SHA256), binderKey), s4BinderFinishedKey)
	binder := keys.Finished13(keys.Std(crypto.SHA256), binderKey, binderTranscript.Sum())
	check(t, "PSK binder", binder, s4Binder)
	if ch := unhex(s4ClientHello); !bytes.HasSuffix(ch, binder) {
		t.Errorf("the ClientHello sent does not end with the computed binder")
	}
	if tr.Sum() == nil || bytes.Equal(tr.Sum(), binderTranscript.Sum()) {
		t.Errorf("writing to the clone changed the original transcript")
	}

	tr.Write(unhex(s4ClientHello))
	check(t, "Transcript-Hash(ClientHello)", tr.Sum(), s4ClientHelloHash)
	check(t, "client_early_traffic_secret", s.ClientEarlyTrafficSecret(tr.Sum()), s4ClientEarlyTraffic)
	check(t, "early_exporter_master_secret", s.EarlyExporterMasterSecret(tr.Sum()), s4EarlyExporterMaster)

	tr.Write(unhex(s4ServerHello))
	s.AdvanceToHandshake(unhex(s4ECDHE))
	check(t, "handshake secret", s.HandshakeSecret(), s4HandshakeSecret)
	chs := s.ClientHandshakeTrafficSecret(tr.Sum())
	shs := s.ServerHandshakeTrafficSecret(tr.Sum())
	check(t, "client_handshake_traffic_secret", chs, s4ClientHandshakeTraffic)
	check(t, "server_handshake_traffic_secret", shs, s4ServerHandshakeTraffic)

	tr.Write(unhex(s4EncryptedExtensions))
	check(t, "server Finished verify_data", keys.Finished13(keys.Std(crypto.SHA256), shs, tr.Sum()), s4ServerVerifyData)
	tr.Write(unhex(s4ServerFinished))

	s.AdvanceToMaster()
	check(t, "master secret", s.MasterSecret(), s4MasterSecret)
	check(t, "client_application_traffic_secret_0", s.ClientApplicationTrafficSecret(tr.Sum()), s4ClientAppTraffic)
	check(t, "server_application_traffic_secret_0", s.ServerApplicationTrafficSecret(tr.Sum()), s4ServerAppTraffic)
	check(t, "exporter_master_secret", s.ExporterMasterSecret(tr.Sum()), s4ExporterMaster)

	tr.Write(unhex(s4EndOfEarlyData))
	check(t, "client Finished verify_data (after EndOfEarlyData)", keys.Finished13(keys.Std(crypto.SHA256), chs, tr.Sum()), s4ClientVerifyData)
	tr.Write(unhex(s4ClientFinished))
	check(t, "resumption_master_secret", s.ResumptionMasterSecret(tr.Sum()), s4ResumptionMaster)
}
