package handshake

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/tlsflow/tlsflow/alert"
)

// The fuzz targets play a real handshake up to a point the fuzzer picks,
// then feed the engine under test whatever inputs the fuzzer makes. Whatever
// they are, the engine must not panic, must fail with an *alert.Error that
// blames the peer, and must refuse everything after failing.
//
// Every execution plays a real handshake prefix, so each costs about a
// millisecond: run with a short -fuzzminimizetime (say 3s), or the default
// minute spent minimizing each new input looks like a stall.
//
// Fuzz data layout:
//
//	data[0]   how many real inputs the engine consumes first (modulo the number available + 1)
//	data[1]   the handshake variant (modulo len(fuzzVariants))
//	data[2:]  inputs, each one of
//	            0x00                         ChangeCipherSpec
//	            0x01 len(2) bytes[len]       a handshake message, as is
//	            0x02 type len(2) body[len]   a handshake message whose header the harness writes
//	          (other first bytes are read as 0x02)

var fuzzVariants = []variant{ecdhe, rsaKex, ecdheRSA, tickets, resumed}

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
		if in == nil {
			data = append(data, 0)
			continue
		}
		data = append(data, 1, byte(len(in)>>8), byte(len(in)))
		data = append(data, in...)
	}
	return data
}

// addSeeds seeds with real handshakes: for each variant and each prefix,
// the real inputs that follow (stale in any later run, since every run has
// fresh randoms and keys, which is what makes them interesting), and each
// of those alone.
func addSeeds(f *testing.F, s side) {
	for vi, v := range fuzzVariants {
		cli, srv := v.configs(f)
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

func fuzzEngine(t *testing.T, s side, data []byte) {
	if len(data) < 2 {
		return
	}
	v := fuzzVariants[int(data[1])%len(fuzzVariants)]
	cli, srv := v.configs(t)
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
	}
}

// FuzzServer12 feeds the TLS 1.2 server arbitrary inputs after a real prefix.
func FuzzServer12(f *testing.F) {
	addSeeds(f, serverSide)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzEngine(t, serverSide, data) })
}

// FuzzClient12 feeds the TLS 1.2 client arbitrary inputs after a real prefix.
func FuzzClient12(f *testing.F) {
	addSeeds(f, clientSide)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzEngine(t, clientSide, data) })
}

func TestFuzzInputEncodingRoundTrips(t *testing.T) {
	ins := []input{nil, {1, 0, 0, 0}, {20, 0, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, nil}
	data := encodeFuzzInputs(3, 1, ins)
	got := parseFuzzInputs(data[2:])
	if len(got) != len(ins) {
		t.Fatalf("got %d inputs, want %d", len(got), len(ins))
	}
	for i := range ins {
		if (got[i] == nil) != (ins[i] == nil) || string(got[i]) != string(ins[i]) {
			t.Errorf("input %d: got %x, want %x", i, got[i], ins[i])
		}
	}
	// The 0x02 form writes the header itself, whatever length the data claims.
	got = parseFuzzInputs([]byte{2, 20, 0xff, 0xff, 1, 2, 3})
	if len(got) != 1 || string(got[0]) != string([]byte{20, 0, 0, 3, 1, 2, 3}) {
		t.Errorf("0x02 input parsed as %x, want 14000003010203", got)
	}
}
