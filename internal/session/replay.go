package session

import (
	"crypto/sha256"
	"sync"
	"time"
)

// ReplayWindow is a server's memory of the ClientHellos whose 0-RTT data
// it accepted: RFC 8446 §8.2's "ClientHello recording", keyed by the PSK
// binder (unique to one ClientHello), combined with §8.3's freshness
// check. A ClientHello is accepted for 0-RTT only if its ticket age says
// it was sent within Window of now; a copy of it stays acceptable by that
// check for at most 2×Window after the original arrived, so remembering
// each binder that long catches every copy that would pass it. The memory
// holds at most Max binders; when full, 0-RTT is refused (the handshake
// goes on in 1-RTT), never a binder forgotten early.
//
// The guarantee holds for the servers that share one ReplayWindow: a fleet
// that shares ticket keys but not this memory can each accept one copy.
type ReplayWindow struct {
	Window time.Duration
	Max    int

	mu   sync.Mutex
	seen map[[sha256.Size]byte]time.Time // binder digest → when it may be forgotten
	fifo []replayEntry                   // the same, oldest first
}

type replayEntry struct {
	key    [sha256.Size]byte
	forget time.Time
}

// FirstUse reports whether binder is new within the window, and records
// it. It returns false for a binder seen before, and when the memory is
// full.
func (w *ReplayWindow) FirstUse(binder []byte, now time.Time) bool {
	key := sha256.Sum256(binder)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.forgetOld(now)
	if _, ok := w.seen[key]; ok {
		return false
	}
	if len(w.seen) >= w.Max {
		return false
	}
	if w.seen == nil {
		w.seen = make(map[[sha256.Size]byte]time.Time)
	}
	forget := now.Add(2 * w.Window)
	w.seen[key] = forget
	w.fifo = append(w.fifo, replayEntry{key, forget})
	return true
}

// forgetOld drops the binders whose copies can no longer pass the
// freshness check. w.mu is held.
func (w *ReplayWindow) forgetOld(now time.Time) {
	n := 0
	for n < len(w.fifo) && now.After(w.fifo[n].forget) {
		delete(w.seen, w.fifo[n].key)
		n++
	}
	if n > 0 {
		w.fifo = append(w.fifo[:0], w.fifo[n:]...)
	}
}

// Len is how many binders are remembered now.
func (w *ReplayWindow) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.seen)
}
