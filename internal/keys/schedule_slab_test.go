package keys

import (
	"bytes"
	"crypto"
	"testing"
)

// TestScheduleSecretsDoNotShareBytes: the secrets a schedule derives are
// carved from one slab, so each must be its own bytes with its capacity
// cut: appending to one, or zeroing it as the engine does when it sheds a
// secret, must leave every other secret, and the schedule's own, as they
// were. The values themselves are checked against RFC 8448 elsewhere.
func TestScheduleSecretsDoNotShareBytes(t *testing.T) {
	for _, ch := range []crypto.Hash{crypto.SHA256, crypto.SHA384} {
		h := Std(ch)
		s := NewSchedule13(h, bytes.Repeat([]byte{7}, ch.Size()))
		th := bytes.Repeat([]byte{1}, ch.Size())
		binder := s.BinderKey(Resumption)
		early := s.ClientEarlyTrafficSecret(th)
		s.AdvanceToHandshake(bytes.Repeat([]byte{2}, 32))
		chs, shs := s.ClientHandshakeTrafficSecret(th), s.ServerHandshakeTrafficSecret(th)
		s.AdvanceToMaster()
		master := s.MasterSecret()
		var cap4 [][]byte
		for i := range 4 { // past one slab's worth with SHA-384
			cap4 = append(cap4, s.ClientApplicationTrafficSecret(append(th[:len(th):len(th)], byte(i))))
		}
		all := append([][]byte{binder, early, chs, shs}, cap4...)
		copies := make([][]byte, len(all))
		for i, secret := range all {
			if len(secret) != ch.Size() || cap(secret) != len(secret) {
				t.Fatalf("%v: secret %d has length %d and capacity %d, want %d and %d", ch, i, len(secret), cap(secret), ch.Size(), ch.Size())
			}
			copies[i] = bytes.Clone(secret)
		}
		for i := range all {
			_ = append(all[i], 0xFF, 0xFF) // must reallocate, not write into a neighbour
			clear(all[i])
			copies[i] = make([]byte, len(all[i])) // what it should read now
			for j := range all {
				if j != i && !bytes.Equal(all[j], copies[j]) {
					t.Fatalf("%v: changing secret %d changed secret %d", ch, i, j)
				}
			}
			if !bytes.Equal(s.MasterSecret(), master) {
				t.Fatalf("%v: changing secret %d changed the master secret", ch, i)
			}
		}
	}
}

// TestExpandLabelIntoAtItsLimits: the schedule's expander builds the
// HkdfLabel in a 96-byte scratch array; a label and a context at their
// RFC 8446 §7.1 maxima (249 bytes after "tls13 ", 255 bytes) outgrow it
// and must still give what ExpandLabel gives.
func TestExpandLabelIntoAtItsLimits(t *testing.T) {
	h := Std(crypto.SHA384)
	secret := bytes.Repeat([]byte{9}, 48)
	label := string(bytes.Repeat([]byte{'l'}, 255-len(labelPrefix)))
	for _, context := range [][]byte{nil, bytes.Repeat([]byte{3}, 48), bytes.Repeat([]byte{4}, 255)} {
		for _, n := range []int{1, 48, 49, 255 * 48} {
			want := ExpandLabel(h, secret, label, context, n)
			e := expander{h: h, mac: h.acquireMAC(secret)}
			got := e.expandLabelInto(label, context, n, make([]byte, 0, (n+47)/48*48))
			got2 := e.expandLabelInto(label, context, n, make([]byte, 0, (n+47)/48*48)) // reused after Reset
			e.release()
			if !bytes.Equal(got, want) || !bytes.Equal(got2, want) {
				t.Fatalf("context %d bytes, n %d: expandLabelInto differs from ExpandLabel", len(context), n)
			}
		}
	}
}
