package tlsflow

import (
	"errors"

	"github.com/tlsflow/tlsflow/internal/handshake"
	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/provider"
)

// keyUpdateAfterRecords is when Write renews the TLS 1.3 write key on its
// own: well below the AEAD usage limit of RFC 8446 §5.5 (2^24.5 full
// records for AES-GCM). A variable so tests can lower it.
var keyUpdateAfterRecords uint64 = 1 << 24

// KeyUpdate renews this side's TLS 1.3 traffic key (RFC 8446 §4.6.3); with
// requestPeer the peer is asked to renew its own too. TLS 1.2 has no key
// update and returns an error.
func (c *Conn) KeyUpdate(requestPeer bool) error {
	if err := c.Handshake(); err != nil {
		return err
	}
	c.out.Lock()
	defer c.unlockOut()
	if c.out.err != nil {
		return c.out.err
	}
	if err := c.keyUpdateLocked(requestPeer); err != nil {
		return err
	}
	return c.out.w.Flush()
}

// answerKeyUpdateLocked sends the KeyUpdate the peer asked for, if one is
// owed: before our next application data, as RFC 8446 §4.6.3 requires,
// or as soon as no write is under way. After our close_notify nothing
// goes out (RFC 8446 §6.1), and no answer is needed: it only has to come
// before application data we will never send. c.out is held.
func (c *Conn) answerKeyUpdateLocked() error {
	if !c.keyUpdateOwed.Swap(false) || c.out.closed || c.out.err != nil {
		return nil
	}
	c.postMu.Lock()
	actions, err := c.post.AnswerKeyUpdate()
	c.postMu.Unlock()
	if err != nil {
		return err
	}
	return c.applyLocked(actions)
}

// answerOwedLocked sends what the peer's post-handshake messages left
// owed: the KeyUpdate it asked for, then the answer to its
// CertificateRequest (pha.go). c.out is held.
func (c *Conn) answerOwedLocked() error {
	if err := c.answerKeyUpdateLocked(); err != nil {
		return err
	}
	return c.answerCertificateRequestLocked()
}

// answerOwedIfIdle sends owed answers now if no writer holds c.out; if
// one does, it sends them before its next record or as it unlocks.
func (c *Conn) answerOwedIfIdle() {
	if !c.out.TryLock() {
		return
	}
	defer c.unlockOut()
	if err := c.answerOwedLocked(); err != nil {
		c.out.err = err
		return
	}
	if err := c.out.w.Flush(); err != nil {
		c.out.err = err
	}
}

// unlockOut releases c.out, and then sends what the reader found owed
// while this writer held the lock (the reader only tries the lock: it
// never waits for a writer). The reader marks an answer owed before it
// tries, so one of the two always sees it.
func (c *Conn) unlockOut() {
	c.out.Unlock()
	if c.keyUpdateOwed.Load() || c.certificateRequestOwed.Load() {
		c.answerOwedIfIdle()
	}
}

// keyUpdateLocked queues a KeyUpdate and switches the write key, after the
// answer to the peer's request if one is owed; c.out is held.
func (c *Conn) keyUpdateLocked(requestPeer bool) error {
	if c.post == nil {
		return errors.New("tlsflow: KeyUpdate needs TLS 1.3")
	}
	c.keyUpdateOwed.Store(false) // UpdateKeys makes an owed answer first
	c.postMu.Lock()
	actions, err := c.post.UpdateKeys(requestPeer)
	c.postMu.Unlock()
	if err != nil {
		return err
	}
	return c.applyLocked(actions)
}

// updateKeysIfWornLocked renews the write key before it nears its usage
// limit; c.out is held.
func (c *Conn) updateKeysIfWornLocked() error {
	if c.post == nil || c.out.cipher == nil || c.out.cipher.Sequence() < keyUpdateAfterRecords {
		return nil
	}
	return c.keyUpdateLocked(false)
}

// exporter returns the keying material exporter of a completed handshake.
func exporter(s *handshake.State, p provider.Provider) func(string, []byte, int) ([]byte, error) {
	suite := suites.Lookup(s.CipherSuite)
	if suite == nil {
		return nil
	}
	h := keys.Hash{Hash: suite.Hash, Provider: p}
	if s.Version == VersionTLS13 {
		secret := s.ExporterSecret
		return func(label string, context []byte, n int) ([]byte, error) {
			out := keys.Exporter13(h, secret, label, context, n)
			if out == nil {
				return nil, errors.New("tlsflow: exporter label or length out of range")
			}
			return out, nil
		}
	}
	if !s.ExtendedMaster {
		return func(string, []byte, int) ([]byte, error) {
			return nil, errors.New("tlsflow: ExportKeyingMaterial needs TLS 1.3 or the extended master secret (RFC 7627 §5.4)")
		}
	}
	master, cr, sr := s.MasterSecret, s.ClientRandom, s.ServerRandom
	return func(label string, context []byte, n int) ([]byte, error) {
		return keys.Exporter12(h, master, cr, sr, label, context, n)
	}
}
