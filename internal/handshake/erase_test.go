package handshake

import (
	"bytes"
	"testing"

	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/suites"
)

// Secrets with no further use are zeroed, not just dropped (RFC 8446 §7.1,
// §7.2; RFC 5246 §8.1): what a later memory disclosure finds should not
// decrypt earlier traffic.

func isZero(b []byte) bool { return len(b) > 0 && bytes.Count(b, []byte{0}) == len(b) }

func TestPreMasterSecretIsErasedOnceTheMasterSecretIsMade(t *testing.T) {
	for _, ems := range []bool{false, true} {
		b := &base{cfg: &Config{}, state: &State{ExtendedMaster: ems, ClientRandom: make([]byte, 32), ServerRandom: make([]byte, 32)}}
		s := suites.Lookup(suite12)
		b.transcript.SetHash(keys.Std(s.Hash))
		pms := bytes.Repeat([]byte{7}, 48)
		master := masterSecret12(b, s, pms)
		if !isZero(pms) || len(master) != 48 || isZero(master) {
			t.Errorf("EMS %v: pre-master %x after the master secret %x; want it zeroed", ems, pms, master)
		}
	}
}

func TestSharedSecretIsErasedOnceTheHandshakeSecretIsMade(t *testing.T) {
	s := suites.Lookup(suite13)
	b := &base{cfg: &Config{}, state: &State{}}
	b.transcript.SetHash(keys.Std(s.Hash))
	k := &secrets13{suite: s, schedule: keys.NewSchedule13(keys.Std(s.Hash), nil)}
	shared := bytes.Repeat([]byte{9}, 32)
	if _, _, err := b.handshakeSecrets13(k, shared); err != nil {
		t.Fatal(err)
	}
	if !isZero(shared) {
		t.Errorf("the (EC)DHE secret is %x after the handshake secret; want it zeroed", shared)
	}
}

// TestOldTrafficSecretIsErasedByAKeyUpdate: both directions, through the
// post-handshake engine a connection keeps.
func TestOldTrafficSecretIsErasedByAKeyUpdate(t *testing.T) {
	cli, srv := tls13Auth.configs(t)
	cv := newConversation(t, cli, srv)
	cv.runToEnd(t)
	post := cv.client.Post().(*post13)
	own, peer := post.k.clientApp, post.k.serverApp
	actions, err := post.UpdateKeys(true)
	if err != nil {
		t.Fatal(err)
	}
	if !isZero(own) || isZero(post.k.clientApp) {
		t.Errorf("after our KeyUpdate the old write secret is %x; want it zeroed", own)
	}
	answer, err := postHandshake(cv.server.Post(), inputsFor(actions)[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := postHandshake(post, inputsFor(answer)[0]); err != nil {
		t.Fatal(err)
	}
	if !isZero(peer) || isZero(post.k.serverApp) {
		t.Errorf("after the peer's KeyUpdate the old read secret is %x; want it zeroed", peer)
	}
}
