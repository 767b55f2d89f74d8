package session

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func sampleState() *State {
	return &State{Version: 0x0303, CipherSuite: 0xc02b, Group: 0x001d, Secret: bytes.Repeat([]byte{7}, 32),
		CreatedAt: time.Unix(1_800_000_000, 0), Lifetime: 7 * 24 * time.Hour, AgeAdd: 0xdeadbeef,
		ALPN: "h2", ServerName: "example.com", PeerCertificates: [][]byte{{1, 2, 3}, {4}},
		Extra: [][]byte{{9}, {}}, ReceivedAt: time.Unix(1_800_000_100, 0), ExternalPSKIdentity: []byte("psk"),
		PeerRawPublicKey: []byte{0x30, 5}, ServerCertificateType: 2, ClientCertificateType: 2}
}

func TestStateRoundTripsThroughMarshal(t *testing.T) {
	in := sampleState()
	enc, err := in.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out, err := Unmarshal(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip changed the state:\n in %+v\nout %+v", in, out)
	}
}

func TestUnmarshalRejectsEveryTruncationAndTrailingBytes(t *testing.T) {
	enc, err := sampleState().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(enc); i++ {
		if _, err := Unmarshal(enc[:i]); err == nil {
			t.Fatalf("a %d-byte prefix of a %d-byte state decoded", i, len(enc))
		}
	}
	if _, err := Unmarshal(append(enc, 0)); err == nil {
		t.Error("trailing byte accepted")
	}
}

func TestTicketOpensOnlyUntamperedWithAKnownKey(t *testing.T) {
	now := time.Now()
	var k Keys
	if err := k.Set([][32]byte{{1}}, now); err != nil {
		t.Fatal(err)
	}
	ticket, err := k.Seal(sampleState(), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := k.Open(ticket, now); got == nil || got.AgeAdd != 0xdeadbeef {
		t.Fatalf("Open(own ticket) = %+v", got)
	}
	for i := range ticket {
		bad := append([]byte(nil), ticket...)
		bad[i] ^= 0x80
		if k.Open(bad, now) != nil {
			t.Fatalf("a ticket with byte %d flipped opened", i)
		}
	}
	var other Keys
	other.Set([][32]byte{{2}}, now)
	if other.Open(ticket, now) != nil {
		t.Error("a server with another key opened the ticket")
	}
}

// TestRotatedKeysStillOpenOldTickets: the first key seals, every key opens,
// so a fleet can roll a new key in without breaking resumption.
func TestRotatedKeysStillOpenOldTickets(t *testing.T) {
	now := time.Now()
	var before, after Keys
	before.Set([][32]byte{{1}}, now)
	after.Set([][32]byte{{9}, {1}}, now)
	old, _ := before.Seal(sampleState(), nil, now)
	if after.Open(old, now) == nil {
		t.Fatal("a ticket sealed with the previous key no longer opens")
	}
	fresh, _ := after.Seal(sampleState(), nil, now)
	if before.Open(fresh, now) != nil {
		t.Error("the new key's ticket opened on a server that only has the old key")
	}
}

// TestAutomaticKeysRotateDailyAndRetireAfterTheirLifetime.
func TestAutomaticKeysRotateDailyAndRetireAfterTheirLifetime(t *testing.T) {
	start := time.Now()
	var k Keys
	t0, _ := k.Seal(sampleState(), nil, start)
	t1, _ := k.Seal(sampleState(), nil, start.Add(DefaultRotation+time.Minute))
	if bytes.Equal(t0[:nameLen], t1[:nameLen]) {
		t.Fatal("the key did not rotate after a day")
	}
	if k.Open(t0, start.Add(DefaultRotation+time.Minute)) == nil {
		t.Error("yesterday's ticket no longer opens")
	}
	late := start.Add(DefaultRotation + DefaultKeep + 2*DefaultRotation)
	if k.Open(t0, late) != nil {
		t.Error("a ticket from a retired key still opens")
	}
}

func TestCacheIsBoundedAndEvictsLeastRecentlyUsed(t *testing.T) {
	c := NewCache(3)
	for i := 0; i < 3; i++ {
		c.Put(fmt.Sprint(i), &State{CipherSuite: uint16(i)})
	}
	c.Get("0") // 1 is now the least recently used
	c.Put("3", &State{})
	if c.Len() != 3 {
		t.Fatalf("Len = %d; want 3", c.Len())
	}
	if _, ok := c.Get("1"); ok {
		t.Error("the least recently used entry survived")
	}
	if _, ok := c.Get("0"); !ok {
		t.Error("a recently used entry was evicted")
	}
	c.Put("0", nil)
	if _, ok := c.Get("0"); ok {
		t.Error("Put(nil) did not delete")
	}
}

// A session whose fields do not fit the ticket encoding gets no ticket:
// Seal fails instead of panicking (a client chain over 2^24-1 bytes).
func TestSealFailsForASessionThatDoesNotFit(t *testing.T) {
	var k Keys
	s := sampleState()
	s.PeerCertificates = [][]byte{make([]byte, 1<<24)}
	if ticket, err := k.Seal(s, nil, time.Now()); err == nil {
		t.Fatalf("Seal = %d bytes, nil; want an error", len(ticket))
	}
}

// Expired counts from CreatedAt, the original authentication, and from
// ReceivedAt for a client's ticket lifetime.
func TestExpiredCountsFromTheAuthenticationAndTheTicket(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name string
		s    State
		at   time.Duration
		want bool
	}{
		{"fresh", State{CreatedAt: t0}, time.Hour, false},
		{"at MaxLifetime", State{CreatedAt: t0}, MaxLifetime, false},
		{"past MaxLifetime", State{CreatedAt: t0}, MaxLifetime + time.Second, true},
		{"renewed ticket, old authentication", State{CreatedAt: t0, ReceivedAt: t0.Add(6 * 24 * time.Hour), Lifetime: MaxLifetime},
			8 * 24 * time.Hour, true},
		{"ticket lifetime over", State{CreatedAt: t0, ReceivedAt: t0, Lifetime: time.Hour}, 2 * time.Hour, true},
		{"ticket lifetime not over", State{CreatedAt: t0, ReceivedAt: t0, Lifetime: time.Hour}, 30 * time.Minute, false},
	} {
		if got := tc.s.Expired(t0.Add(tc.at)); got != tc.want {
			t.Errorf("%s: Expired = %v, want %v", tc.name, got, tc.want)
		}
	}
}
