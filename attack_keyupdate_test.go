package tlsflow_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/tlsflow/tlsflow"
)

// keyUpdateRounds is how many KeyUpdates each key updater starts, each
// with data written after it, while another writer and a reader run;
// keyUpdaters is how many such goroutines each side has.
const (
	keyUpdateRounds = 2500
	keyUpdaters     = 2
	writers         = keyUpdaters + 1
)

// frame is one self-checking message: writer id, sequence number, length,
// then length bytes that follow from the sequence number; size bounds the
// length (at most 65,535); a large size makes every frame nearly that long.
func frame(writer byte, seq, size int) []byte {
	n := seq*37%size + 1
	if size > 1000 {
		n = size - seq%100
	}
	b := make([]byte, 7+n)
	b[0] = writer
	binary.BigEndian.PutUint32(b[1:5], uint32(seq))
	binary.BigEndian.PutUint16(b[5:7], uint16(n))
	for i := range n {
		b[7+i] = byte(seq + i)
	}
	return b
}

// readFrames reads until every writer's rounds frames arrived, each in
// order and intact.
func readFrames(c *tlsflow.Conn, rounds int) error {
	next := make([]int, writers)
	done := func() bool {
		for _, n := range next {
			if n < rounds {
				return false
			}
		}
		return true
	}
	for !done() {
		hdr := make([]byte, 7)
		if _, err := io.ReadFull(c, hdr); err != nil {
			return fmt.Errorf("reading (frames so far %v): %w", next, err)
		}
		w, seq, n := hdr[0], int(binary.BigEndian.Uint32(hdr[1:5])), int(binary.BigEndian.Uint16(hdr[5:7]))
		if int(w) >= writers || seq != next[w] {
			return fmt.Errorf("frame from writer %d with sequence %d: the stream is corrupted (frames so far %v)", w, seq, next)
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(c, body); err != nil {
			return fmt.Errorf("reading frame %d of writer %d: %w", seq, w, err)
		}
		for i, b := range body {
			if b != byte(seq+i) {
				return fmt.Errorf("frame %d of writer %d: byte %d corrupted", seq, w, i)
			}
		}
		next[w]++
	}
	return nil
}

// TestConcurrentKeyUpdatesKeepBothDirectionsInStep: both sides of a TLS
// 1.3 connection call KeyUpdate(true) in a loop while other goroutines
// write and read. Every KeyUpdate, ours or our answer to the peer's
// request, must go out under the key it was derived after, and our
// writes switch to the key it announces (RFC 8446 §4.6.3, §7.2); two that
// cross would make the peer decrypt with the wrong key (bad_record_mac).
// All data arrives intact. Also with the automatic key update after every
// two records (SetKeyUpdateAfterRecords) interleaving with the explicit
// ones. Run it under -race too.
//
// With large writes, both sides' writers block on full TCP buffers at
// times, and only the readers draining them lets them go on: a reader
// that waited for its side's writer to answer a KeyUpdate (as crypto/tls's
// does) would deadlock with the peer doing the same.
func TestConcurrentKeyUpdatesKeepBothDirectionsInStep(t *testing.T) {
	for _, tc := range []struct {
		name         string
		auto         bool
		rounds, size int
	}{
		{"small writes", false, keyUpdateRounds, 200},
		{"small writes, automatic updates too", true, keyUpdateRounds, 200},
		{"large writes", false, 150, 60000},
	} {
		auto, rounds, size := tc.auto, tc.rounds, tc.size
		t.Run(tc.name, func(t *testing.T) {
			if auto {
				defer tlsflow.SetKeyUpdateAfterRecords(2)()
			}
			c := sharedCerts()
			cli, srv := flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost"},
				&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
			deadline := time.Now().Add(30 * time.Second)
			cli.SetDeadline(deadline)
			srv.SetDeadline(deadline)

			var wg sync.WaitGroup
			var stop sync.Once
			errs := make(chan error, 2*(writers+1))
			run := func(name string, f func() error) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := f(); err != nil {
						errs <- fmt.Errorf("%s: %w", name, err)
						// The first failure ends the test: unblock the rest at once.
						stop.Do(func() { cli.NetConn().Close(); srv.NetConn().Close() })
					}
				}()
			}
			for _, side := range []struct {
				name string
				c    *tlsflow.Conn
			}{{"client", cli}, {"server", srv}} {
				c := side.c
				for k := range keyUpdaters {
					run(fmt.Sprintf("%s key updater %d", side.name, k), func() error {
						for i := range rounds {
							if err := c.KeyUpdate(true); err != nil {
								return fmt.Errorf("KeyUpdate %d: %w", i, err)
							}
							if _, err := c.Write(frame(byte(k), i, size)); err != nil {
								return fmt.Errorf("write %d: %w", i, err)
							}
						}
						return nil
					})
				}
				run(side.name+" writer", func() error {
					for i := range rounds {
						if _, err := c.Write(frame(keyUpdaters, i, size)); err != nil {
							return fmt.Errorf("write %d: %w", i, err)
						}
					}
					return nil
				})
				run(side.name+" reader", func() error { return readFrames(c, rounds) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
