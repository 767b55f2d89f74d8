package keys

import (
	"bytes"
	"crypto"
	"fmt"
	"sync"
)

// labelPrefix starts every HkdfLabel.label (RFC 8446 §7.1).
const labelPrefix = "tls13 "

// ivLen13 is the per-record nonce length of every TLS 1.3 AEAD (RFC 8446
// §5.3: iv_length is max(8, N_MIN), and N_MIN is 12 for the AEADs TLS 1.3 defines).
const ivLen13 = 12

// ExpandLabel is HKDF-Expand-Label of RFC 8446 §7.1:
//
//	HKDF-Expand-Label(Secret, Label, Context, Length) =
//	     HKDF-Expand(Secret, HkdfLabel, Length)
//
//	struct {
//	    uint16 length = Length;
//	    opaque label<7..255> = "tls13 " + Label;
//	    opaque context<0..255> = Context;
//	} HkdfLabel;
//
// The bounds are those of HkdfLabel and of HKDF (n <= 255*Hash.length),
// except the lower one: an empty Label makes a 6-byte label, below <7..>.
// Only an exporter label can be empty (RFC 8446 §7.5 sets no minimum), and
// BoringSSL, OpenSSL and Go derive it that way, so the same keys come out. Every
// label this package passes is a short constant and every wire context is
// already bounded by its uint8 length prefix, so arguments outside them are a
// programming error and ExpandLabel panics rather than derive a wrong key.
// Exporter13 checks its application-supplied label and length itself.
func ExpandLabel(h Hash, secret []byte, label string, context []byte, n int) []byte {
	checkLabel(h, label, context, n)
	info, out := labelAndOut(label, context, n, h.Size())
	mac := h.acquireMAC(secret)
	defer releaseMAC(mac)
	return expandWith(mac, false, h.Size(), info, out, n)
}

// checkLabel panics when HKDF-Expand-Label's arguments are out of the
// range ExpandLabel documents.
func checkLabel(h Hash, label string, context []byte, n int) {
	if len(labelPrefix)+len(label) > 255 || len(context) > 255 || n < 0 || n > 255*h.Size() {
		panic(fmt.Sprintf("keys: HKDF-Expand-Label out of range (label %d bytes, context %d bytes, length %d)",
			len(label), len(context), n))
	}
}

// labelAndOut makes, in one allocation, the HKDF output buffer (room for n
// bytes in whole blocks of size, see expandWith) and after it the encoded
// HkdfLabel with a spare byte for HKDF-Expand's counter octet. The label is
// public, so it may share the output's array (the output is returned with
// its capacity cut at its length, so nothing appended to it reaches the label).
func labelAndOut(label string, context []byte, n, size int) (info, out []byte) {
	outCap := (n + size - 1) / size * size
	buf := make([]byte, outCap, outCap+2+1+len(labelPrefix)+len(label)+1+len(context)+1)
	return hkdfLabel(buf[outCap:], label, context, n), buf[:0:outCap]
}

// hkdfLabel appends the HkdfLabel struct above to b. ExpandLabel has
// checked the lengths.
func hkdfLabel(b []byte, label string, context []byte, n int) []byte {
	b = append(b, byte(n>>8), byte(n), byte(len(labelPrefix)+len(label)))
	b = append(b, labelPrefix...)
	b = append(b, label...)
	b = append(b, byte(len(context)))
	return append(b, context...)
}

// DeriveSecret is Derive-Secret of RFC 8446 §7.1, given the transcript hash
// rather than the messages (callers keep a running Transcript):
//
//	Derive-Secret(Secret, Label, Messages) =
//	     HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hash.length)
func DeriveSecret(h Hash, secret []byte, label string, transcriptHash []byte) []byte {
	return ExpandLabel(h, secret, label, transcriptHash, h.Size())
}

// Extract is HKDF-Extract(salt, IKM) (RFC 5869 §2.2). A nil or empty ikm
// stands for the string of Hash.length zero bytes RFC 8446 §7.1 uses when a
// secret "is not available" (no PSK, or psk_ke without (EC)DHE).
func Extract(h Hash, ikm, salt []byte) []byte {
	if len(ikm) == 0 {
		ikm = zeros[:h.Size()]
	}
	return extract(h, ikm, salt)
}

// zeros is the Hash.length zero bytes of Extract; only ever read.
var zeros [64]byte

// emptyHash is Transcript-Hash("") = Hash(""), the context of the "derived"
// and binder secrets (RFC 8446 §7.1). Both sums are constants, computed
// once (by the standard library: every provider's SHA-2 gives the same
// bytes); callers only read them.
func emptyHash(h Hash) []byte {
	switch h.Hash {
	case crypto.SHA256:
		return emptySHA256()
	case crypto.SHA384:
		return emptySHA384()
	}
	return h.New().Sum(nil)
}

var (
	emptySHA256 = sync.OnceValue(func() []byte { return crypto.SHA256.New().Sum(nil) })
	emptySHA384 = sync.OnceValue(func() []byte { return crypto.SHA384.New().Sum(nil) })
)

// stage is where a Schedule13 stands in the RFC 8446 §7.1 tree.
type stage uint8

const (
	stageEarly stage = iota + 1
	stageHandshake
	stageMaster
)

func (s stage) String() string {
	switch s {
	case stageEarly:
		return "early"
	case stageHandshake:
		return "handshake"
	case stageMaster:
		return "master"
	}
	return "unset"
}

// Schedule13 walks the key schedule of RFC 8446 §7.1 from top to bottom:
//
//	          0
//	          |
//	PSK ->  HKDF-Extract = Early Secret        (NewSchedule13)
//	          +-----> binder_key, client_early_traffic_secret,
//	          |       early_exporter_master_secret
//	    Derive-Secret(., "derived", "")
//	          |
//	(EC)DHE -> HKDF-Extract = Handshake Secret (AdvanceToHandshake)
//	          +-----> client/server_handshake_traffic_secret
//	    Derive-Secret(., "derived", "")
//	          |
//	0 -> HKDF-Extract = Master Secret          (AdvanceToMaster)
//	          +-----> client/server_application_traffic_secret_0,
//	                  exporter_master_secret, resumption_master_secret
//
// It keeps only the current secret and erases the previous one when it moves
// on. Asking for a secret of another stage (a client handshake traffic secret
// before AdvanceToHandshake, say) is a programming error in the handshake and
// panics: returning anything would hand out keys nobody can check.
type Schedule13 struct {
	hash   Hash
	stage  stage
	secret []byte
	noPSK  bool     // the early secret is that of no PSK, a constant
	exp    expander // HMAC keyed with secret from its first use (exp.mac nil before)
	// slab is where the secrets derive and advance make are carved from,
	// so that a handshake's dozen secrets are not a dozen allocations.
	// The pieces never overlap, and each is returned with its capacity
	// cut at its length.
	slab []byte
}

// slabSize holds the secrets one stage of a schedule derives with SHA-384
// (eight of 48 bytes); a schedule takes a new slab when one is used up.
const slabSize = 8 * 48

// NewSchedule13 starts the schedule with the early secret,
// HKDF-Extract(0, PSK). A nil or empty psk means no PSK: Hash.length zeros.
func NewSchedule13(h Hash, psk []byte) *Schedule13 {
	if len(psk) == 0 {
		if c := noPSKConstants(h); c != nil {
			return &Schedule13{hash: h, stage: stageEarly, secret: bytes.Clone(c.early), noPSK: true}
		}
	}
	return &Schedule13{hash: h, stage: stageEarly, secret: Extract(h, psk, nil)}
}

// noPSK holds the two secrets of a handshake without a PSK that do not
// depend on anything secret: the early secret HKDF-Extract(0, 0) and
// Derive-Secret(early, "derived", ""). Every full handshake starts with
// them, so they are computed once per hash (the RFC 8448 §3 trace shows
// them for SHA-256). Like emptyHash they are constants, whichever provider
// computes the rest.
type noPSK struct{ early, derived []byte }

func computeNoPSK(h Hash) *noPSK {
	early := Extract(h, nil, nil)
	return &noPSK{early: early, derived: DeriveSecret(h, early, "derived", emptyHash(h))}
}

var (
	noPSKSHA256 = sync.OnceValue(func() *noPSK { return computeNoPSK(Std(crypto.SHA256)) })
	noPSKSHA384 = sync.OnceValue(func() *noPSK { return computeNoPSK(Std(crypto.SHA384)) })
)

func noPSKConstants(h Hash) *noPSK {
	switch h.Hash {
	case crypto.SHA256:
		return noPSKSHA256()
	case crypto.SHA384:
		return noPSKSHA384()
	}
	return nil
}

func (s *Schedule13) at(want stage, what string) {
	if s.stage != want {
		s.wrongStage(want, what)
	}
}

// wrongStage panics; what is formatted only then, so the checks that pass
// cost no allocation.
func (s *Schedule13) wrongStage(want stage, what string) {
	panic(fmt.Sprintf("keys: %s needs the %s secret, but the schedule is at the %s secret", what, want, s.stage))
}

// derive is Derive-Secret(current secret, label, th) after checking the stage.
func (s *Schedule13) derive(want stage, label string, th []byte) []byte {
	if s.stage != want {
		s.wrongStage(want, `"`+label+`"`)
	}
	n := s.hash.Size()
	return s.expander().expandLabelInto(label, th, n, s.take(n))
}

// expander is HKDF-Expand from the current secret, keyed once per stage.
func (s *Schedule13) expander() *expander {
	if s.exp.mac == nil {
		s.exp = expander{h: s.hash, mac: s.hash.acquireMAC(s.secret)}
	}
	return &s.exp
}

// take returns an empty slice with room for an n-byte HKDF output (whole
// blocks of the hash, as expandWith wants), carved from the slab.
func (s *Schedule13) take(n int) []byte {
	size := s.hash.Size()
	room := (n + size - 1) / size * size
	if cap(s.slab)-len(s.slab) < room {
		s.slab = make([]byte, 0, max(room, slabSize))
	}
	at := len(s.slab)
	s.slab = s.slab[:at+room]
	return s.slab[at : at : at+room]
}

// advance moves down one level: HKDF-Extract(Derive-Secret(secret, "derived", ""), ikm).
func (s *Schedule13) advance(from, to stage, ikm []byte) {
	if s.stage != from {
		s.wrongStage(from, "moving to the "+to.String()+" secret")
	}
	var derived []byte
	if from == stageEarly && s.noPSK {
		derived = noPSKConstants(s.hash).derived
	} else {
		derived = s.derive(from, "derived", emptyHash(s.hash))
	}
	if len(ikm) == 0 {
		ikm = zeros[:s.hash.Size()]
	}
	next := extractInto(s.hash, ikm, derived, s.take(s.hash.Size()))
	if !(from == stageEarly && s.noPSK) {
		clear(derived)
	}
	clear(s.secret)
	s.exp.release()
	s.secret, s.stage = next, to
}

func (s *Schedule13) current(want stage, what string) []byte {
	s.at(want, what)
	return append([]byte(nil), s.secret...)
}

// Erase zeroes the current secret. The schedule is unusable afterwards:
// every method panics, as at a stage that was never reached.
func (s *Schedule13) Erase() {
	clear(s.secret)
	s.exp.release()
	s.secret, s.stage = nil, 0
}

// EarlySecret returns a copy of the early secret.
func (s *Schedule13) EarlySecret() []byte { return s.current(stageEarly, "EarlySecret") }

// PSKKind says where a PSK comes from, which decides its binder key.
type PSKKind uint8

const (
	// Resumption: a PSK from a NewSessionTicket (RFC 8446 §4.6.1).
	Resumption PSKKind = iota
	// External: a PSK provisioned outside TLS, used as it is (RFC 8446 §4.2.11).
	External
	// Imported: a PSK derived from an external one by the importer of RFC 9258.
	Imported
)

// BinderKey is Derive-Secret(early, "res binder" | "ext binder" | "imp
// binder", ""), by the PSK's kind (RFC 8446 §7.1, RFC 9258 §5.2). Different
// labels keep one kind of PSK from being passed off as another: a binder
// made for an imported PSK does not verify for the same key used directly.
func (s *Schedule13) BinderKey(kind PSKKind) []byte {
	label := "res binder"
	switch kind {
	case External:
		label = "ext binder"
	case Imported:
		label = "imp binder"
	}
	return s.derive(stageEarly, label, emptyHash(s.hash))
}

// ClientEarlyTrafficSecret is Derive-Secret(early, "c e traffic", ClientHello).
func (s *Schedule13) ClientEarlyTrafficSecret(transcriptHash []byte) []byte {
	return s.derive(stageEarly, "c e traffic", transcriptHash)
}

// EarlyExporterMasterSecret is Derive-Secret(early, "e exp master", ClientHello).
func (s *Schedule13) EarlyExporterMasterSecret(transcriptHash []byte) []byte {
	return s.derive(stageEarly, "e exp master", transcriptHash)
}

// AdvanceToHandshake extracts the handshake secret with the (EC)DHE shared
// secret as IKM; nil for psk_ke, which has none and uses zeros.
func (s *Schedule13) AdvanceToHandshake(sharedSecret []byte) {
	s.advance(stageEarly, stageHandshake, sharedSecret)
}

// HandshakeSecret returns a copy of the handshake secret.
func (s *Schedule13) HandshakeSecret() []byte { return s.current(stageHandshake, "HandshakeSecret") }

// ClientHandshakeTrafficSecret is Derive-Secret(handshake, "c hs traffic",
// ClientHello...ServerHello).
func (s *Schedule13) ClientHandshakeTrafficSecret(th []byte) []byte {
	return s.derive(stageHandshake, "c hs traffic", th)
}

// ServerHandshakeTrafficSecret is Derive-Secret(handshake, "s hs traffic",
// ClientHello...ServerHello).
func (s *Schedule13) ServerHandshakeTrafficSecret(th []byte) []byte {
	return s.derive(stageHandshake, "s hs traffic", th)
}

// AdvanceToMaster extracts the master secret (IKM is zeros).
func (s *Schedule13) AdvanceToMaster() {
	s.advance(stageHandshake, stageMaster, nil)
}

// MasterSecret returns a copy of the master secret.
func (s *Schedule13) MasterSecret() []byte { return s.current(stageMaster, "MasterSecret") }

// ClientApplicationTrafficSecret is Derive-Secret(master, "c ap traffic",
// ClientHello...server Finished).
func (s *Schedule13) ClientApplicationTrafficSecret(th []byte) []byte {
	return s.derive(stageMaster, "c ap traffic", th)
}

// ServerApplicationTrafficSecret is Derive-Secret(master, "s ap traffic",
// ClientHello...server Finished).
func (s *Schedule13) ServerApplicationTrafficSecret(th []byte) []byte {
	return s.derive(stageMaster, "s ap traffic", th)
}

// ExporterMasterSecret is Derive-Secret(master, "exp master",
// ClientHello...server Finished).
func (s *Schedule13) ExporterMasterSecret(th []byte) []byte {
	return s.derive(stageMaster, "exp master", th)
}

// ResumptionMasterSecret is Derive-Secret(master, "res master",
// ClientHello...client Finished).
func (s *Schedule13) ResumptionMasterSecret(th []byte) []byte {
	return s.derive(stageMaster, "res master", th)
}

// TrafficKey derives the record protection key and IV from a traffic secret
// (RFC 8446 §7.3):
//
//	[sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length)
//	[sender]_write_iv  = HKDF-Expand-Label(Secret, "iv", "", iv_length)
func TrafficKey(h Hash, secret []byte, keyLen int) (key, iv []byte) {
	var outs [2][]byte
	e := expander{h: h, mac: h.acquireMAC(secret)}
	defer e.release()
	e.expandLabels([]string{"key", "iv"}, []int{keyLen, ivLen13}, outs[:]) // one HMAC, one array
	return outs[0], outs[1]
}

// HandshakeTrafficKeys derives from a handshake traffic secret, with one
// HMAC, everything the handshake takes from it: the record protection key
// and IV (RFC 8446 §7.3, as TrafficKey) and the finished_key of the
// sender's Finished (§4.4.4, as FinishedKey).
func HandshakeTrafficKeys(h Hash, secret []byte, keyLen int) (key, iv, finishedKey []byte) {
	var outs [3][]byte
	e := expander{h: h, mac: h.acquireMAC(secret)}
	defer e.release()
	e.expandLabels([]string{"key", "iv", "finished"}, []int{keyLen, ivLen13, h.Size()}, outs[:])
	return outs[0], outs[1], outs[2]
}

// NextTrafficSecret is the KeyUpdate step of RFC 8446 §7.2:
//
//	application_traffic_secret_N+1 =
//	    HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length)
func NextTrafficSecret(h Hash, secret []byte) []byte {
	return ExpandLabel(h, secret, "traffic upd", nil, h.Size())
}

// FinishedKey is HKDF-Expand-Label(BaseKey, "finished", "", Hash.length)
// (RFC 8446 §4.4.4). BaseKey is the sender's handshake traffic secret, or
// the binder key for a PSK binder (§4.2.11.2).
func FinishedKey(h Hash, baseKey []byte) []byte {
	return ExpandLabel(h, baseKey, "finished", nil, h.Size())
}

// Finished13 is the Finished verify_data, and the PSK binder (RFC 8446 §4.4.4):
//
//	verify_data = HMAC(finished_key, Transcript-Hash(Handshake Context,
//	                   Certificate*, CertificateVerify*))
func Finished13(h Hash, baseKey, transcriptHash []byte) []byte {
	finishedKey := FinishedKey(h, baseKey)
	defer clear(finishedKey)
	return FinishedMAC(h, finishedKey, transcriptHash)
}

// FinishedMAC is verify_data = HMAC(finished_key, transcript hash) (RFC
// 8446 §4.4.4), with the finished_key already derived (HandshakeTrafficKeys).
func FinishedMAC(h Hash, finishedKey, transcriptHash []byte) []byte {
	mac := h.acquireMAC(finishedKey)
	defer releaseMAC(mac)
	mac.Write(transcriptHash)
	return mac.Sum(make([]byte, 0, h.Size()))
}

// ResumptionPSK is the PSK a NewSessionTicket stands for (RFC 8446 §4.6.1):
//
//	HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length)
func ResumptionPSK(h Hash, resumptionMaster, ticketNonce []byte) []byte {
	return ExpandLabel(h, resumptionMaster, "resumption", ticketNonce, h.Size())
}

// ImportPSK is the importer of RFC 9258 §5.1: the PSK for one target KDF
// derived from an external PSK epsk, whose own hash is h (SHA-256 when it
// has none), and the ImportedIdentity it is offered under, encoded:
//
//	epskx = HKDF-Extract(0, epsk)
//	ipskx = HKDF-Expand-Label(epskx, "derived psk", Hash(ImportedIdentity), L)
//
// L is the output length of the target KDF's hash, target.
func ImportPSK(h Hash, epsk, importedIdentity []byte, target crypto.Hash) []byte {
	epskx := Extract(h, epsk, nil)
	defer clear(epskx)
	id := h.New()
	id.Write(importedIdentity)
	return ExpandLabel(h, epskx, "derived psk", id.Sum(nil), target.Size())
}

// Exporter13 is TLS-Exporter of RFC 8446 §7.5:
//
//	TLS-Exporter(label, context_value, key_length) =
//	    HKDF-Expand-Label(Derive-Secret(Secret, label, ""),
//	                      "exporter", Hash(context_value), key_length)
//
// exporterMaster is the exporter_master_secret (or the early one). Unlike TLS
// 1.2, no context and an empty context are the same. The label and the length
// come from the application, so instead of panicking Exporter13 returns nil
// when they do not fit HKDF-Expand-Label: a label longer than 249 bytes, or
// n outside 0..255*Hash.length. An empty label is allowed (see ExpandLabel).
// Callers turn nil into an error.
func Exporter13(h Hash, exporterMaster []byte, label string, context []byte, n int) []byte {
	if len(labelPrefix)+len(label) > 255 || n < 0 || n > 255*h.Size() {
		return nil
	}
	contextHash := h.New()
	contextHash.Write(context)
	secret := DeriveSecret(h, exporterMaster, label, emptyHash(h))
	return ExpandLabel(h, secret, "exporter", contextHash.Sum(nil), n)
}
