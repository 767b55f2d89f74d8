package testpeer

import (
	"crypto"
	"fmt"
	"time"

	"github.com/tlsflow/tlsflow/internal/keys"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// keys12 is the TLS 1.2 key material of a connection.
type keys12 struct {
	master      []byte
	clientWrite record.Cipher
	serverWrite record.Cipher
}

// keys13 is the TLS 1.3 key schedule of a connection.
type keys13 struct {
	schedule                         *keys.Schedule13
	psk                              []byte // the PSK the schedule starts from, nil for none
	clientHandshake, serverHandshake []byte
	clientApp, serverApp             []byte
	resumption                       []byte
}

// SetSuite fixes the cipher suite and with it the transcript hash.
func (p *Peer) SetSuite(id uint16) error {
	s := suites.Lookup(id)
	if s == nil {
		return fmt.Errorf("testpeer: unknown cipher suite %#04x", id)
	}
	p.Suite = s
	p.Transcript.SetHash(keys.Std(s.Hash))
	return nil
}

// ----- TLS 1.2 -----

// MasterSecret12 derives the master secret from the pre-master secret
// (RFC 5246 §8.1), or with ems the extended master secret over the
// transcript so far, which must end with the ClientKeyExchange (RFC 7627
// §4), and the key block (RFC 5246 §6.3).
func (p *Peer) MasterSecret12(preMaster []byte, ems bool) error {
	h := p.Suite.Hash
	if ems {
		p.k12.master = keys.ExtendedMasterSecret(keys.Std(h), preMaster, p.Transcript.Sum())
	} else {
		p.k12.master = keys.MasterSecret(keys.Std(h), preMaster, p.ClientRandom, p.ServerRandom)
	}
	return p.UseMaster12(p.k12.master)
}

// UseMaster12 takes a known master secret (a resumed session's) and
// derives the key block from it and the two randoms.
func (p *Peer) UseMaster12(master []byte) error {
	s := p.Suite
	p.k12.master = master
	ck, sk, civ, siv := keys.KeyBlock12(keys.Std(s.Hash), master, p.ClientRandom, p.ServerRandom, s.KeyLen(), s.IVLen())
	caead, err := s.NewAEAD(nil, ck)
	if err != nil {
		return err
	}
	saead, err := s.NewAEAD(nil, sk)
	if err != nil {
		return err
	}
	p.k12.clientWrite = record.NewAEAD12(caead, civ, s.ExplicitNonce())
	p.k12.serverWrite = record.NewAEAD12(saead, siv, s.ExplicitNonce())
	return nil
}

// Master12 is the TLS 1.2 master secret, once derived.
func (p *Peer) Master12() []byte { return p.k12.master }

// ChangeCipherSpec12 sends ChangeCipherSpec and protects what follows with
// this side's TLS 1.2 write key.
func (p *Peer) ChangeCipherSpec12() error {
	if err := p.SendCCS(); err != nil {
		return err
	}
	p.write = p.own12()
	return nil
}

// ExpectChangeCipherSpec12 reads the other side's ChangeCipherSpec and
// unprotects what follows with its TLS 1.2 write key.
func (p *Peer) ExpectChangeCipherSpec12() error {
	if err := p.ExpectCCS(); err != nil {
		return err
	}
	p.r.SetCipher(p.theirs12())
	return nil
}

func (p *Peer) own12() record.Cipher {
	if p.Side == Client {
		return p.k12.clientWrite
	}
	return p.k12.serverWrite
}

func (p *Peer) theirs12() record.Cipher {
	if p.Side == Client {
		return p.k12.serverWrite
	}
	return p.k12.clientWrite
}

// Finished12 is the verify_data a Finished from client (or server) carries
// over the transcript so far (RFC 5246 §7.4.9).
func (p *Peer) Finished12(fromClient bool) []byte {
	label := keys.LabelServerFinished
	if fromClient {
		label = keys.LabelClientFinished
	}
	return keys.Finished12(keys.Std(p.Suite.Hash), p.k12.master, label, p.Transcript.Sum())
}

// ExpectFinished12 reads the other side's Finished and checks it.
func (p *Peer) ExpectFinished12() error {
	want := p.Finished12(p.Side == Server)
	fin := new(wire.Finished)
	if err := p.Expect(fin); err != nil {
		return err
	}
	if !keys.Equal(want, fin.VerifyData) {
		return fmt.Errorf("testpeer: the %s's Finished does not verify", p.other())
	}
	return nil
}

func (p *Peer) other() Side { return 1 - p.Side }

// ----- TLS 1.3 -----

// StartSchedule13 starts the TLS 1.3 key schedule with psk (nil: none).
func (p *Peer) StartSchedule13(psk []byte) {
	p.k13.psk = psk
	p.k13.schedule = keys.NewSchedule13(keys.Std(p.Suite.Hash), psk)
}

// HandshakeKeys13 moves the schedule to the handshake secret with the
// (EC)DHE shared secret (nil in psk_ke mode) and derives both handshake
// traffic secrets over the transcript, which must end with ServerHello
// (RFC 8446 §7.1). It switches both directions to the handshake keys.
func (p *Peer) HandshakeKeys13(shared []byte) error {
	if p.k13.schedule == nil {
		p.StartSchedule13(nil)
	}
	p.k13.schedule.AdvanceToHandshake(shared)
	th := p.Transcript.Sum()
	p.k13.clientHandshake = p.k13.schedule.ClientHandshakeTrafficSecret(th)
	p.k13.serverHandshake = p.k13.schedule.ServerHandshakeTrafficSecret(th)
	own, theirs := p.k13.clientHandshake, p.k13.serverHandshake
	if p.Side == Server {
		own, theirs = theirs, own
	}
	return p.installKeys13(own, theirs)
}

// AppSecrets13 moves the schedule to the master secret and derives the
// application traffic secrets over the transcript, which must end with the
// server's Finished. It switches no key: a server writes with its new key
// at once (InstallWriteApp13), a client after its Finished.
func (p *Peer) AppSecrets13() {
	p.k13.schedule.AdvanceToMaster()
	th := p.Transcript.Sum()
	p.k13.clientApp = p.k13.schedule.ClientApplicationTrafficSecret(th)
	p.k13.serverApp = p.k13.schedule.ServerApplicationTrafficSecret(th)
}

// InstallWriteApp13 and InstallReadApp13 switch one direction to the
// application traffic keys.
func (p *Peer) InstallWriteApp13() error {
	c, err := p.TrafficCipher13(*p.ownApp13())
	if err == nil {
		p.write = c
	}
	return err
}

func (p *Peer) InstallReadApp13() error {
	c, err := p.TrafficCipher13(*p.theirApp13())
	if err == nil {
		p.r.SetCipher(c)
	}
	return err
}

// ResumptionSecret13 derives the resumption_master_secret over the
// transcript, which must end with the client's Finished.
func (p *Peer) ResumptionSecret13() {
	p.k13.resumption = p.k13.schedule.ResumptionMasterSecret(p.Transcript.Sum())
}

func (p *Peer) ownApp13() *[]byte {
	if p.Side == Client {
		return &p.k13.clientApp
	}
	return &p.k13.serverApp
}

func (p *Peer) theirApp13() *[]byte {
	if p.Side == Client {
		return &p.k13.serverApp
	}
	return &p.k13.clientApp
}

func (p *Peer) installKeys13(own, theirs []byte) error {
	w, err := p.TrafficCipher13(own)
	if err != nil {
		return err
	}
	r, err := p.TrafficCipher13(theirs)
	if err != nil {
		return err
	}
	p.write = w
	p.r.SetCipher(r)
	return nil
}

// TrafficCipher13 is the record protection for a traffic secret of the
// current suite (RFC 8446 §7.3).
func (p *Peer) TrafficCipher13(secret []byte) (record.Cipher, error) {
	key, iv := keys.TrafficKey(keys.Std(p.Suite.Hash), secret, p.Suite.KeyLen())
	aead, err := p.Suite.NewAEAD(nil, key)
	if err != nil {
		return nil, err
	}
	return record.NewAEAD13(aead, iv, 0), nil
}

// Finished13 is the verify_data of the client's (or server's) Finished
// over the transcript so far (RFC 8446 §4.4.4).
func (p *Peer) Finished13(fromClient bool) []byte {
	base := p.k13.serverHandshake
	if fromClient {
		base = p.k13.clientHandshake
	}
	return keys.Finished13(keys.Std(p.Suite.Hash), base, p.Transcript.Sum())
}

// ExpectFinished13 reads the other side's Finished and checks it.
func (p *Peer) ExpectFinished13() error {
	want := p.Finished13(p.Side == Server)
	fin := new(wire.Finished)
	if err := p.Expect(fin); err != nil {
		return err
	}
	if !keys.Equal(want, fin.VerifyData) {
		return fmt.Errorf("testpeer: the %s's Finished does not verify", p.other())
	}
	return nil
}

// KeyUpdate sends a KeyUpdate (asking the other side to update too with
// request) and switches the write key to the next generation (RFC 8446
// §4.6.3, §7.2).
func (p *Peer) KeyUpdate(request bool) error {
	ku := &wire.KeyUpdate{RequestUpdate: wire.UpdateNotRequested}
	if request {
		ku.RequestUpdate = wire.UpdateRequested
	}
	if err := p.Send(ku); err != nil {
		return err
	}
	own := p.ownApp13()
	*own = keys.NextTrafficSecret(keys.Std(p.Suite.Hash), *own)
	return p.InstallWriteApp13()
}

// peerKeyUpdated13 follows the other side's KeyUpdate: its next records
// use its next traffic secret.
func (p *Peer) peerKeyUpdated13() error {
	theirs := p.theirApp13()
	*theirs = keys.NextTrafficSecret(keys.Std(p.Suite.Hash), *theirs)
	return p.InstallReadApp13()
}

// Ticket13 is a TLS 1.3 ticket the server issued, with the PSK it stands for.
type Ticket13 struct {
	wire.NewSessionTicket13
	PSK        []byte
	Suite      uint16
	ReceivedAt time.Time
}

func (p *Peer) ticketFrom(nst *wire.NewSessionTicket13) Ticket13 {
	return Ticket13{
		NewSessionTicket13: *nst,
		PSK:                keys.ResumptionPSK(keys.Std(p.Suite.Hash), p.k13.resumption, nst.Nonce),
		Suite:              p.Suite.ID,
		ReceivedAt:         time.Now(),
	}
}

// PSK is a pre-shared key a client offers in pre_shared_key: a ticket and
// its PSK, or any identity with any secret (an identity the server does
// not know, with a binder that is well formed but cannot verify).
type PSK struct {
	Identity            []byte
	Secret              []byte
	Hash                crypto.Hash // of the suite the PSK belongs to
	ObfuscatedTicketAge uint32
	// Kind names the binder key: a resumption's (the zero value), an
	// external PSK's or an imported one's (RFC 9258 §5.2).
	Kind keys.PSKKind
}

// Offer returns what offering this ticket takes.
func (t Ticket13) Offer() *PSK {
	age := uint32(time.Since(t.ReceivedAt) / time.Millisecond)
	return &PSK{Identity: t.Ticket, Secret: t.PSK, Hash: suites.Lookup(t.Suite).Hash, ObfuscatedTicketAge: age + t.AgeAdd}
}

// binder computes a PSK binder (RFC 8446 §4.2.11.2) with the binder key of
// psk's kind, over the transcript so far and the ClientHello truncated
// before its binders.
func (p *Peer) binder(psk *PSK, truncatedHello []byte) []byte {
	t := p.Transcript.Clone()
	if t.Hash() == 0 {
		t.SetHash(keys.Std(psk.Hash))
	}
	t.Write(truncatedHello)
	early := keys.NewSchedule13(keys.Std(psk.Hash), psk.Secret)
	return keys.Finished13(keys.Std(psk.Hash), early.BinderKey(psk.Kind), t.Sum())
}
