package keys_test

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"testing"

	"github.com/tlsflow/tlsflow/internal/keys"
)

func TestTranscriptBuffersUntilTheHashIsKnown(t *testing.T) {
	msgs := [][]byte{unhex(s3ClientHello), unhex(s3ServerHello)}
	var tr keys.Transcript
	for _, m := range msgs {
		tr.Write(m)
	}
	if tr.Sum() != nil || tr.Hash() != 0 {
		t.Fatalf("before SetHash: Sum() = %x, Hash() = %v; want nil, 0", tr.Sum(), tr.Hash())
	}
	if !bytes.Equal(tr.Buffer(), bytes.Join(msgs, nil)) {
		t.Errorf("Buffer() before SetHash does not hold the messages written")
	}
	tr.SetHash(keys.Std(crypto.SHA256))
	check(t, "Sum after SetHash replays the buffer", tr.Sum(), s3HelloHash)
	if tr.Hash() != crypto.SHA256 {
		t.Errorf("Hash() = %v, want SHA-256", tr.Hash())
	}
	if tr.Buffer() != nil {
		t.Errorf("the buffer is still held after SetHash without KeepBuffer")
	}
	check(t, "Sum does not change the transcript", tr.Sum(), s3HelloHash)
}

func TestTranscriptKeepBuffer(t *testing.T) {
	a, b := []byte{1, 0, 0, 1, 0xaa}, []byte{2, 0, 0, 0}
	var tr keys.Transcript
	tr.KeepBuffer(true)
	tr.Write(a)
	tr.SetHash(keys.Std(crypto.SHA384))
	tr.Write(b)
	want := append(append([]byte(nil), a...), b...)
	if got := tr.Buffer(); !bytes.Equal(got, want) {
		t.Errorf("Buffer() = %x, want %x", got, want)
	}
	if sum := sha512.Sum384(want); !bytes.Equal(tr.Sum(), sum[:]) {
		t.Errorf("Sum() is not SHA-384 of the messages")
	}
	tr.Buffer()[0] = 0xff // callers get a copy
	if !bytes.Equal(tr.Buffer(), want) {
		t.Errorf("modifying the returned buffer changed the transcript")
	}
	tr.KeepBuffer(false)
	if tr.Buffer() != nil {
		t.Errorf("KeepBuffer(false) after SetHash kept the buffer")
	}
}

// RFC 8446 §4.4.1: after a HelloRetryRequest, ClientHello1 is replaced by
// message_hash(00 00 Hash.length, Hash(ClientHello1)).
func TestTranscriptReplaceWithMessageHash(t *testing.T) {
	ch1 := unhex(s5ClientHello1)
	var tr keys.Transcript
	tr.KeepBuffer(true)
	tr.Write(ch1)
	tr.SetHash(keys.Std(crypto.SHA256))
	tr.ReplaceWithMessageHash()

	sum := sha256.Sum256(ch1)
	wantMsg := append([]byte{254, 0, 0, 32}, sum[:]...)
	if !bytes.Equal(tr.Buffer(), wantMsg) {
		t.Errorf("buffer after ReplaceWithMessageHash = %x, want %x", tr.Buffer(), wantMsg)
	}
	wantSum := sha256.Sum256(wantMsg)
	if !bytes.Equal(tr.Sum(), wantSum[:]) {
		t.Errorf("Sum after ReplaceWithMessageHash = %x, want Hash(message_hash) %x", tr.Sum(), wantSum)
	}
	// The RFC 8448 §5 hash over message_hash, HRR, ClientHello2, ServerHello.
	for _, m := range []string{s5HelloRetryRequest, s5ClientHello2, s5ServerHello} {
		tr.Write(unhex(m))
	}
	check(t, "RFC 8448 §5 Transcript-Hash(message_hash..ServerHello)", tr.Sum(), s5HelloHash)
}

func TestTranscriptCloneIsIndependent(t *testing.T) {
	var tr keys.Transcript
	tr.Write(unhex(s3ClientHello))
	tr.SetHash(keys.Std(crypto.SHA256))
	clone := tr.Clone()
	clone.Write([]byte{0xde, 0xad})
	tr.Write(unhex(s3ServerHello))
	check(t, "original after the clone was written to", tr.Sum(), s3HelloHash)
	if bytes.Equal(clone.Sum(), tr.Sum()) || clone.Hash() != crypto.SHA256 {
		t.Errorf("clone follows the original")
	}

	var unset keys.Transcript // cloning before SetHash clones the buffer
	unset.Write([]byte{1, 2})
	c := unset.Clone()
	c.Write([]byte{3})
	if !bytes.Equal(unset.Buffer(), []byte{1, 2}) || !bytes.Equal(c.Buffer(), []byte{1, 2, 3}) {
		t.Errorf("unhashed clone shares its buffer: original %x, clone %x", unset.Buffer(), c.Buffer())
	}
}

func TestTranscriptSetHashTwice(t *testing.T) {
	var tr keys.Transcript
	tr.SetHash(keys.Std(crypto.SHA256))
	tr.SetHash(keys.Std(crypto.SHA256)) // same hash: nothing happens
	defer func() {
		if recover() == nil {
			t.Errorf("changing the hash of a transcript did not panic")
		}
	}()
	tr.SetHash(keys.Std(crypto.SHA384))
}

func TestTranscriptMessageHashNeedsTheHash(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("ReplaceWithMessageHash before SetHash did not panic")
		}
	}()
	var tr keys.Transcript
	tr.Write([]byte{1, 0, 0, 0})
	tr.ReplaceWithMessageHash()
}

// SumTemp gives what Sum gives, for either hash, in memory the next SumTemp
// overwrites; a Clone never shares it.
func TestTranscriptSumTemp(t *testing.T) {
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384} {
		var tr keys.Transcript
		if tr.SumTemp() != nil {
			t.Fatalf("%v: SumTemp before SetHash is not nil", h)
		}
		tr.SetHash(keys.Std(h))
		tr.Write([]byte("first"))
		first := tr.SumTemp()
		if !bytes.Equal(first, tr.Sum()) || len(first) != h.Size() {
			t.Fatalf("%v: SumTemp %x, Sum %x", h, first, tr.Sum())
		}
		kept := bytes.Clone(first)
		c := tr.Clone()
		tr.Write([]byte("second"))
		second := tr.SumTemp()
		if !bytes.Equal(second, tr.Sum()) || &first[0] != &second[0] {
			t.Fatalf("%v: second SumTemp %x, Sum %x (same memory: %v)", h, second, tr.Sum(), &first[0] == &second[0])
		}
		if got := c.SumTemp(); !bytes.Equal(got, kept) || &got[0] == &second[0] {
			t.Fatalf("%v: the clone's SumTemp %x, want %x in memory of its own", h, got, kept)
		}
	}
}
