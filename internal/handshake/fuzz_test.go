package handshake

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/session"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// The fuzz targets play a real handshake up to a point the fuzzer picks,
// then feed the engine under test whatever inputs the fuzzer makes. Whatever
// they are, the engine must not panic, must fail with an *alert.Error that
// blames the peer, and must refuse everything after failing in the
// handshake (after it, an error ends the connection).
//
// Every execution plays a real handshake prefix, so each costs about a
// millisecond: run with a short -fuzzminimizetime (say 3s), or the default
// minute spent minimizing each new input looks like a stall.
//
// Fuzz data layout:
//
//	data[0]   how many real inputs the engine consumes first (modulo the number available + 1)
//	data[1]   the handshake variant (modulo the number of the target's variants)
//	data[2:]  inputs, each one of
//	            0x00                         ChangeCipherSpec
//	            0x01 len(2) bytes[len]       a handshake message, as is
//	            0x02 type len(2) body[len]   a handshake message whose header the harness writes
//	            0x03 len(3) bytes[len]       a handshake message, as is, longer than 0x01 carries
//	          (other first bytes are read as 0x02)
//
// The client draws its randoms from the same stream in every execution
// (fuzzConfigs), so its legacy_session_id is the same too, and a server
// message of a seed still echoes it: without that, no input could take
// the client past the echo check of a ServerHello or HelloRetryRequest.
// Likewise the server's ticket keys, and the session ID a server caches,
// are the same in every run (variant.configs): a seed's ClientHello offers
// a session of ours, and the fuzzer reaches the resumption decision (and
// in TLS 1.3 the binder check) with it.

var (
	fuzzVariants12 = []variant{ecdhe, rsaKex, ecdheRSA, tickets, resumed}
	fuzzVariants13 = []variant{tls13Auth, tls13Retry, tls13Resumed, tls13Compressed}

	// The resumption targets have the handshakes that make a session with
	// client auth and a ticket, and resume one: the steps that decide
	// whether a session may skip authentication, and how long it lives.
	fuzzResumption12 = []variant{ticketsAuth, resumedAuth, resumedByID}
	fuzzResumption13 = []variant{tls13RetryAuth, tls13RetryResumed, tls13PSKOnly, tls13ExternalPSK, tls13EarlyData}
)

// fuzzConfigs are v's configurations as the fuzz targets use them: the
// client's Rand is a fixed stream (see above; its keys are fresh all the
// same, since Go 1.26 key generation ignores the reader), and the client
// keeps the tickets it gets, as a connection with a session cache does, so
// that a NewSessionTicket goes through all of the client's checks.
func fuzzConfigs(t testing.TB, v variant) (cli, srv *Config) {
	cli, srv = v.configs(t)
	cli.Rand = fixedRand()
	cli.StoreSession = func(*session.State) {}
	return cli, srv
}

// maxFuzzInputs bounds the inputs fed after the real prefix.
const maxFuzzInputs = 16

func parseFuzzInputs(data []byte) []input {
	var out []input
	for len(data) > 0 && len(out) < maxFuzzInputs {
		kind := data[0]
		data = data[1:]
		switch kind {
		case 0:
			out = append(out, nil)
			continue
		case 1:
			if len(data) < 2 {
				return out
			}
			n := min(int(binary.BigEndian.Uint16(data)), len(data)-2)
			out = append(out, input(append([]byte(nil), data[2:2+n]...)))
			data = data[2+n:]
		case 3:
			if len(data) < 3 {
				return out
			}
			n := min(int(data[0])<<16|int(data[1])<<8|int(data[2]), len(data)-3)
			out = append(out, input(append([]byte(nil), data[3:3+n]...)))
			data = data[3+n:]
		default:
			if len(data) < 3 {
				return out
			}
			typ := data[0]
			n := min(int(binary.BigEndian.Uint16(data[1:])), len(data)-3)
			msg := []byte{typ, 0, byte(n >> 8), byte(n)}
			out = append(out, input(append(msg, data[3:3+n]...)))
			data = data[3+n:]
		}
	}
	return out
}

// encodeFuzzInputs is the inverse of parseFuzzInputs, for seeds.
func encodeFuzzInputs(prefix, variantIndex int, ins []input) []byte {
	data := []byte{byte(prefix), byte(variantIndex)}
	for _, in := range ins {
		switch {
		case in == nil:
			data = append(data, 0)
			continue
		case len(in) <= 0xffff:
			data = append(data, 1, byte(len(in)>>8), byte(len(in)))
		case len(in) <= 0xffffff:
			data = append(data, 3, byte(len(in)>>16), byte(len(in)>>8), byte(len(in)))
		default:
			panic("encodeFuzzInputs: an input longer than 2^24-1 bytes")
		}
		data = append(data, in...)
	}
	return data
}

// addSeeds seeds with real handshakes: for each variant and each prefix,
// the real inputs that follow (stale in any later run, since every run has
// fresh keys, and the server fresh randoms, which is what makes them
// interesting), and each of those alone; and messages at the limits
// (addLimitSeeds, fuzz_limits_test.go).
func addSeeds(f *testing.F, s side, variants []variant) {
	addLimitSeeds(f, s, variants)
	for vi, v := range variants {
		cli, srv := fuzzConfigs(f, v)
		cv := newConversation(f, cli, srv)
		var real []input
		for len(cv.queue[clientSide])+len(cv.queue[serverSide]) > 0 {
			who := clientSide
			if len(cv.queue[who]) == 0 {
				who = serverSide
			}
			if who == s {
				real = append(real, cv.queue[who][0])
			}
			if err := cv.deliver(who); err != nil {
				f.Fatal(err)
			}
		}
		for k := 0; k <= len(real); k++ {
			f.Add(encodeFuzzInputs(k, vi, real[k:]))
			if k < len(real) {
				f.Add(encodeFuzzInputs(k, vi, real[k:k+1]))
				f.Add(encodeFuzzInputs(k, vi, []input{nil}))
			}
		}
	}
}

func fuzzEngine(t *testing.T, s side, variants []variant, data []byte) {
	if len(data) < 2 {
		return
	}
	v := variants[int(data[1])%len(variants)]
	cli, srv := fuzzConfigs(t, v)
	cv := newConversation(t, cli, srv)
	prefix := int(data[0]) % (len(realInputs[v.name][s]) + 1)
	cv.runUntil(t, s, prefix)
	eng := cv.engine(s)
	failed := false
	for _, in := range parseFuzzInputs(data[2:]) {
		actions, err := feed(eng, in)
		if failed {
			if err == nil {
				t.Fatalf("%s accepted %s after failing", s, in)
			}
			continue
		}
		if err == nil {
			for _, a := range actions {
				if m, ok := a.(SendMessage); ok && len(m.Data) < 4 {
					t.Fatalf("%s sent a %d-byte message", s, len(m.Data))
				}
			}
			continue
		}
		failed = true
		checkPeerFault(t, s, eng, in, actions, err)
		if eng.Complete() {
			// A post-handshake error ends the connection (tlsflow.Conn
			// stops reading), so nothing after it matters.
			return
		}
	}
}

// checkPeerFault checks the error an engine returned for an input of the
// peer's: an *alert.Error we send, in the flow, that says why, blames the
// peer, and comes with no actions; Abort adds at most the compatibility
// ChangeCipherSpec.
func checkPeerFault(t *testing.T, s side, eng Engine, in input, actions []Action, err error) {
	t.Helper()
	if pe := (*PanicError)(nil); errors.As(err, &pe) {
		t.Fatalf("%s consuming %s: the engine panicked: %v\n%s", s, in, pe.Value, pe.Stack)
	}
	var ae *alert.Error
	if !errors.As(err, &ae) {
		t.Fatalf("%s consuming %s: error %v is not an *alert.Error", s, in, err)
	}
	if ae.Received || ae.Step < -1 || ae.Step > 8 || ae.Reason == "" {
		t.Fatalf("%s consuming %s: malformed error %+v", s, in, ae)
	}
	// Garbage from the peer is the peer's fault, never ours.
	if ae.Alert == alert.InternalError {
		t.Fatalf("%s consuming %s: internal_error for peer input: %v", s, in, err)
	}
	if len(actions) != 0 {
		t.Fatalf("%s returned %d actions with its error", s, len(actions))
	}
	if a := eng.Abort(); !abortActionsOK(eng, a) {
		t.Fatalf("%s: Abort returned %v after %v", s, a, err)
	}
}

// FuzzServer12 feeds the TLS 1.2 server arbitrary inputs after a real prefix.
func FuzzServer12(f *testing.F) {
	addSeeds(f, serverSide, fuzzVariants12)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzEngine(t, serverSide, fuzzVariants12, data) })
}

// FuzzClient12 feeds the TLS 1.2 client arbitrary inputs after a real prefix.
func FuzzClient12(f *testing.F) {
	addSeeds(f, clientSide, fuzzVariants12)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzEngine(t, clientSide, fuzzVariants12, data) })
}

// FuzzServer13 feeds the TLS 1.3 server arbitrary inputs after a real
// prefix; with the whole handshake as prefix, they are post-handshake
// messages.
func FuzzServer13(f *testing.F) {
	addSeeds(f, serverSide, fuzzVariants13)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzEngine(t, serverSide, fuzzVariants13, data) })
}

// FuzzClient13 feeds the TLS 1.3 client arbitrary inputs after a real
// prefix; with the whole handshake as prefix, they are post-handshake
// messages.
func FuzzClient13(f *testing.F) {
	addSeeds(f, clientSide, fuzzVariants13)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzEngine(t, clientSide, fuzzVariants13, data) })
}

// FuzzServerResumption12 feeds the TLS 1.2 server arbitrary inputs in
// the handshakes that make and resume a client-auth session.
func FuzzServerResumption12(f *testing.F) {
	addSeeds(f, serverSide, fuzzResumption12)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzEngine(t, serverSide, fuzzResumption12, data) })
}

// FuzzClientResumption12 feeds the TLS 1.2 client arbitrary inputs in
// the handshakes that make and resume a client-auth session.
func FuzzClientResumption12(f *testing.F) {
	addSeeds(f, clientSide, fuzzResumption12)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzEngine(t, clientSide, fuzzResumption12, data) })
}

// FuzzServerResumption13 feeds the TLS 1.3 server arbitrary inputs in
// the handshakes that make a client-auth session through a
// HelloRetryRequest and resume it (through one, or in psk_ke mode).
func FuzzServerResumption13(f *testing.F) {
	addSeeds(f, serverSide, fuzzResumption13)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzEngine(t, serverSide, fuzzResumption13, data) })
}

// FuzzClientResumption13 feeds the TLS 1.3 client arbitrary inputs in
// the handshakes that make a client-auth session through a
// HelloRetryRequest and resume it (through one, or in psk_ke mode).
func FuzzClientResumption13(f *testing.F) {
	addSeeds(f, clientSide, fuzzResumption13)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzEngine(t, clientSide, fuzzResumption13, data) })
}

// FuzzPostHandshake13 feeds a completed TLS 1.3 engine arbitrary
// post-handshake messages (RFC 8446 §4.6). Besides failing only with the
// peer's fault, an engine that accepts a message must stay in step with
// its peer: after each KeyUpdate the peer sends (the fuzzer's message), and
// each one the engine answers, what one side seals the other opens. It
// answers a request for a KeyUpdate once until it sends application data
// again (§4.6.3).
//
// Fuzz data layout: data[0] bit 0 the side under test, the other bits the
// variant (modulo len(fuzzVariants13)); data[1:] inputs as for
// FuzzServer13, where a ChangeCipherSpec (0x00), which the connection
// itself refuses after the handshake, stands for application data the
// engine's side sends.
func FuzzPostHandshake13(f *testing.F) {
	keyUpdate := func(req uint8) input { return must((&wire.KeyUpdate{RequestUpdate: req}).Marshal()) }
	nst := func(lifetime uint32) input {
		return must((&wire.NewSessionTicket13{Lifetime: lifetime, AgeAdd: 7, Nonce: []byte{1}, Ticket: []byte("opaque ticket")}).Marshal())
	}
	seeds := [][]input{
		{keyUpdate(wire.UpdateNotRequested)},
		{keyUpdate(wire.UpdateRequested)},
		{keyUpdate(wire.UpdateRequested), keyUpdate(wire.UpdateNotRequested), keyUpdate(wire.UpdateRequested)},
		{keyUpdate(wire.UpdateRequested), nil, keyUpdate(wire.UpdateRequested), keyUpdate(wire.UpdateRequested)},
		{keyUpdate(2)},
		{{byte(wire.TypeKeyUpdate), 0, 0, 0}},
		{nst(3600), keyUpdate(wire.UpdateRequested), nst(0)},
		{nst(7*24*3600 + 1)},
		{{byte(wire.TypeNewSessionTicket), 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0}},
		{must((&wire.Finished{VerifyData: make([]byte, 32)}).Marshal())},
		{must((&wire.ClientHello{Version: suites.VersionTLS12, CompressionMethods: []uint8{0}}).Marshal())},
		{must((&wire.CertificateRequest13{Context: []byte{1}}).Marshal())},
		{{byte(wire.TypeEndOfEarlyData), 0, 0, 0}},
		{{}},
	}
	for sel := range 2 * len(fuzzVariants13) {
		for _, ins := range seeds {
			f.Add(append([]byte{byte(sel)}, encodeFuzzInputs(0, 0, ins)[2:]...))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 1 {
			return
		}
		s := side(data[0] & 1)
		v := fuzzVariants13[int(data[0]>>1)%len(fuzzVariants13)]
		cli, srv := v.configs(t)
		cv := newConversation(t, cli, srv)
		cv.runToEnd(t)
		eng, peer := cv.engine(s).(PostHandshake), cv.engine(1-s).(PostHandshake)
		answered := false // s answered a KeyUpdate request and has sent no data since
		for _, in := range parseFuzzInputs(data[1:]) {
			if in == nil {
				eng.ApplicationDataSent()
				answered = false
				continue
			}
			actions, err := postHandshake(eng, in)
			if err != nil {
				checkPeerFault(t, s, cv.engine(s), in, actions, err)
				var ae *alert.Error
				if errors.As(err, &ae) && ae.Step != 8 {
					t.Fatalf("%s consuming %s after the handshake: error at step %d, want 8: %v", s, in, ae.Step, err)
				}
				return // the connection closes
			}
			if !cv.engine(s).Complete() {
				t.Fatalf("%s is no longer complete after %s", s, in)
			}
			answered = checkPostHandshakeStep(t, cv, s, in, actions, peer, answered)
		}
	})
}

// checkPostHandshakeStep checks what s did with a post-handshake message it
// accepted, and plays the peer's part: the peer has sent in, and consumes
// what s answers. answered says whether s has answered a KeyUpdate request
// since it last sent data; checkPostHandshakeStep returns the new value.
func checkPostHandshakeStep(t *testing.T, cv *conversation, s side, in input, actions []Action, peer PostHandshake, answered bool) bool {
	t.Helper()
	cv.setCiphers(s, actions)
	answers := inputsFor(actions)
	switch wire.HandshakeType(in[0]) {
	case wire.TypeNewSessionTicket:
		if s != clientSide || len(actions) != 0 {
			t.Fatalf("%s accepted a NewSessionTicket with %d actions; only a client may, silently", s, len(actions))
		}
		return answered
	case wire.TypeKeyUpdate:
	default:
		t.Fatalf("%s accepted %s after the handshake", s, in)
	}
	var ku wire.KeyUpdate
	if err := ku.Unmarshal(in); err != nil {
		t.Fatalf("%s accepted a malformed KeyUpdate %x: %v", s, []byte(in), err)
	}
	// The peer's writes moved to its next secret when it sent the KeyUpdate.
	pa, err := peer.UpdateKeys(false)
	if err != nil {
		t.Fatalf("the peer's own KeyUpdate: %v", err)
	}
	cv.setCiphers(1-s, pa)
	if !keysAgree(cv.write[1-s], cv.read[s]) {
		t.Fatalf("after the peer's KeyUpdate, %s cannot read what the peer writes", s)
	}
	// RFC 8446 §4.6.3: update_requested asks for one KeyUpdate back, which
	// must not ask again; update_not_requested asks for nothing, and so do
	// more requests while we have sent no data since our answer.
	if ku.RequestUpdate == wire.UpdateNotRequested || answered {
		if len(answers) != 0 {
			t.Fatalf("%s answered a KeyUpdate (request_update %d, answered before: %v) with %d messages",
				s, ku.RequestUpdate, answered, len(answers))
		}
		return answered
	}
	var reply wire.KeyUpdate
	if len(answers) != 1 || reply.Unmarshal(answers[0]) != nil || reply.RequestUpdate != wire.UpdateNotRequested {
		t.Fatalf("%s answered update_requested with %x, want one KeyUpdate with update_not_requested", s, answers)
	}
	pa, err = postHandshake(peer, answers[0])
	if err != nil {
		t.Fatalf("the peer refused %s's KeyUpdate: %v", s, err)
	}
	cv.setCiphers(1-s, pa)
	if !keysAgree(cv.write[s], cv.read[1-s]) {
		t.Fatalf("after answering a KeyUpdate, %s writes what the peer cannot read", s)
	}
	return true
}

// TestFuzzSeedClientHelloResumesInALaterRun holds the fuzz harness to what
// the server targets rely on: a ClientHello from one run (a seed) offers
// a session the server of another run resumes, so that the fuzzer, which
// mutates it, reaches the resumption decision with a session of ours.
func TestFuzzSeedClientHelloResumesInALaterRun(t *testing.T) {
	for _, v := range []variant{resumed, resumedAuth, resumedByID, tls13Resumed, tls13PSKOnly} {
		t.Run(v.name, func(t *testing.T) {
			cli, srv := fuzzConfigs(t, v)
			seed, _ := newConversation(t, cli, srv).runUntil(t, serverSide, 0)
			cli, srv = fuzzConfigs(t, v)
			cv := newConversation(t, cli, srv)
			cv.runUntil(t, serverSide, 0)
			if _, err := feed(cv.server, seed); err != nil || !cv.server.State().DidResume {
				t.Fatalf("the earlier run's ClientHello: err = %v, resumed %v; want it resumed", err, cv.server.State().DidResume)
			}
		})
	}
	t.Run(tls13ExternalPSK.name, func(t *testing.T) {
		cli, srv := fuzzConfigs(t, tls13ExternalPSK)
		seed, _ := newConversation(t, cli, srv).runUntil(t, serverSide, 0)
		cli, srv = fuzzConfigs(t, tls13ExternalPSK)
		cv := newConversation(t, cli, srv)
		cv.runUntil(t, serverSide, 0)
		if _, err := feed(cv.server, seed); err != nil || cv.server.State().ExternalPSKIdentity == nil {
			t.Fatalf("the earlier run's ClientHello: err = %v, PSK %q; want its external PSK taken", err, cv.server.State().ExternalPSKIdentity)
		}
	})
}
