package handshake

import (
	"testing"

	"github.com/tlsflow/tlsflow/internal/wire"
)

// TestKeyUpdateAnswerIsOwedNotSent: a peer's update_requested changes how
// we read at once; our answer is owed until the connection's writer asks
// for it, one answer for any number of requests while we are silent, and a
// KeyUpdate of our own goes out after the owed answer (RFC 8446 §4.6.3).
func TestKeyUpdateAnswerIsOwedNotSent(t *testing.T) {
	cli, srv := tls13Auth.configs(t)
	cv := newConversation(t, cli, srv)
	cv.runToEnd(t)
	us := cv.client.Post()
	request := must((&wire.KeyUpdate{RequestUpdate: wire.UpdateRequested}).Marshal())
	keyUpdates := func(actions []Action) (requests []uint8) {
		for _, in := range inputsFor(actions) {
			var ku wire.KeyUpdate
			if err := ku.Unmarshal(in); err != nil {
				t.Fatalf("sent %x, not a KeyUpdate", []byte(in))
			}
			requests = append(requests, ku.RequestUpdate)
		}
		return requests
	}
	receive := func() {
		t.Helper()
		actions, err := us.HandlePostHandshake(request)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range actions {
			if _, ok := a.(SetReadCipher); !ok {
				t.Fatalf("HandlePostHandshake returned %T; only the read side may change", a)
			}
		}
	}

	receive()
	receive() // a second request while the first is owed
	if !us.KeyUpdateOwed() {
		t.Fatal("no KeyUpdate owed after update_requested")
	}
	answer, err := us.AnswerKeyUpdate()
	if got := keyUpdates(answer); err != nil || len(got) != 1 || got[0] != wire.UpdateNotRequested {
		t.Fatalf("answer = %v, %v; want one KeyUpdate with update_not_requested", got, err)
	}
	if again, _ := us.AnswerKeyUpdate(); us.KeyUpdateOwed() || len(again) != 0 {
		t.Fatal("a second answer for requests made while silent")
	}
	receive() // silent since the answer: no new one owed
	if us.KeyUpdateOwed() {
		t.Fatal("a request while silent after answering made another answer owed")
	}
	us.ApplicationDataSent()
	receive()
	own, err := us.UpdateKeys(true)
	if got := keyUpdates(own); err != nil || len(got) != 2 || got[0] != wire.UpdateNotRequested || got[1] != wire.UpdateRequested {
		t.Fatalf("our KeyUpdate with an answer owed sent %v, %v; want the answer (not requested), then ours (requested)", got, err)
	}
}
