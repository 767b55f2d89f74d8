package session

import (
	"testing"
	"time"
)

// TestReplayWindowRefusesCopiesAndFailsClosed: a binder is accepted once;
// its copy is refused for 2×Window and accepted after that (when the
// freshness check refuses copies anyway); a full memory refuses new
// binders instead of forgetting one early.
func TestReplayWindowRefusesCopiesAndFailsClosed(t *testing.T) {
	w := &ReplayWindow{Window: 10 * time.Second, Max: 2}
	t0 := time.Unix(1_000_000, 0)
	if !w.FirstUse([]byte("a"), t0) {
		t.Fatal("a new binder was refused")
	}
	if w.FirstUse([]byte("a"), t0.Add(19*time.Second)) {
		t.Fatal("a copy within 2×Window was accepted")
	}
	if !w.FirstUse([]byte("b"), t0.Add(time.Second)) {
		t.Fatal("a second new binder was refused")
	}
	if w.FirstUse([]byte("c"), t0.Add(2*time.Second)) {
		t.Fatal("a full memory accepted a new binder")
	}
	if !w.FirstUse([]byte("c"), t0.Add(22*time.Second)) || w.Len() != 1 {
		t.Fatalf("after the window: c refused or %d binders remembered, want 1", w.Len())
	}
}
