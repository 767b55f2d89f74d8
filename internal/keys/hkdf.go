package keys

import "hash"

// HKDF (RFC 5869) on the provider's HMAC. It is a construction, not a
// primitive, so it lives here rather than in each provider; written for the
// shape TLS 1.3 uses it in: almost every output is one block long, and the
// info (an HkdfLabel) is built once with room for the counter octet.

// extract is HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM) (RFC 5869 §2.2).
// A nil salt is HMAC's empty key, which is the same key as the Hash.length
// zeros RFC 5869 specifies: HMAC pads every key with zeros to the block size.
func extract(h Hash, ikm, salt []byte) []byte {
	return extractInto(h, ikm, salt, make([]byte, 0, h.Size()))
}

// extractInto is extract into out, which has room for Hash.length bytes.
func extractInto(h Hash, ikm, salt, out []byte) []byte {
	mac := h.acquireMAC(salt)
	defer releaseMAC(mac)
	mac.Write(ikm)
	return mac.Sum(out)
}

// expandWith is HKDF-Expand(PRK, info, L) (RFC 5869 §2.3):
//
//	T(0) = empty string
//	T(i) = HMAC-Hash(PRK, T(i-1) | info | i)
//	OKM  = first L octets of T(1) | T(2) | ...
//
// mac is HMAC keyed with the PRK; used says it has hashed something since
// it was keyed, so it is Reset first. Every expansion from one secret (the
// labels of a stage of the key schedule, a traffic secret's key and IV)
// shares one keyed HMAC.
//
// info is appended to (the counter octet goes after it, so that info and
// counter are one write): give it a spare byte of capacity to spare an
// allocation. The caller keeps L <= 255*Hash.length.
//
// out is empty with room for n bytes rounded up to whole blocks.
func expandWith(mac hash.Hash, used bool, size int, info, out []byte, n int) []byte {
	infoLen := len(info)
	for i := byte(1); len(out) < n; i++ {
		if used {
			mac.Reset()
		}
		used = true
		if i > 1 {
			mac.Write(out[len(out)-size:]) // T(i-1)
		}
		info = append(info[:infoLen], i)
		mac.Write(info)
		out = mac.Sum(out)
	}
	return out[:n:n]
}

// expander is HKDF-Expand from one PRK, keying its HMAC once for all the
// expansions asked of it. It belongs to one connection (an HMAC holds
// state between calls) and is released with the secret it was keyed with.
type expander struct {
	h    Hash
	mac  hash.Hash
	used bool
	// info is where expandLabelInto builds the HkdfLabel: room for the
	// schedule's own labels with a transcript hash as context, and the
	// counter octet (a longer one is appended to elsewhere).
	info [96]byte
}

// release gives the HMAC back (see releaseMAC); e is unusable afterwards,
// and a use would fail on the nil HMAC instead of touching another key's.
func (e *expander) release() {
	if e.mac != nil {
		releaseMAC(e.mac)
		e.mac, e.used = nil, false
	}
}

// expandLabelInto is HKDF-Expand-Label (see ExpandLabel) with e's PRK, into
// out: empty, with room for n bytes rounded up to whole blocks.
func (e *expander) expandLabelInto(label string, context []byte, n int, out []byte) []byte {
	checkLabel(e.h, label, context, n)
	info := hkdfLabel(e.info[:0], label, context, n)
	out = expandWith(e.mac, e.used, e.h.Size(), info, out, n)
	e.used = true
	return out
}

// expandLabels is expandLabel for several labels, each with an empty
// context, into one allocation: outs[i] = HKDF-Expand-Label(PRK, labels[i],
// "", ns[i]). The outputs share an array with each other and with the
// (public) label, each with its capacity cut at its length.
func (e *expander) expandLabels(labels []string, ns []int, outs [][]byte) {
	size, total, longest := e.h.Size(), 0, 0
	for i, label := range labels {
		checkLabel(e.h, label, nil, ns[i])
		total += (ns[i] + size - 1) / size * size
		longest = max(longest, len(label))
	}
	buf := make([]byte, total, total+2+1+len(labelPrefix)+longest+1+1)
	at := 0
	for i, label := range labels {
		room := (ns[i] + size - 1) / size * size
		info := hkdfLabel(buf[total:total], label, nil, ns[i])
		outs[i] = expandWith(e.mac, e.used, size, info, buf[at:at:at+room], ns[i])
		e.used = true
		at += room
	}
}
