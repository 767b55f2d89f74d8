package handshake

import (
	"bytes"
	"slices"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// After a HelloRetryRequest "the client MUST send the same ClientHello
// without modification, except as follows" (RFC 8446 §4.1.2): the key
// shares replaced by one for the group asked for, early_data removed, the
// cookie added, pre_shared_key updated (new ages and binders, incompatible
// PSKs removed), padding added, removed or resized. Anything else changed
// would let the second ClientHello negotiate what the first one, the one
// the transcript keeps only as a hash, did not offer.

// retryMayChange are the extensions the second ClientHello may change;
// each is checked on its own (readClientHello2), or may change freely
// (padding).
var retryMayChange = []wire.ExtensionType{
	wire.ExtKeyShare, wire.ExtEarlyData, wire.ExtCookie, wire.ExtPreSharedKey, wire.ExtPadding,
}

// checkSecondClientHello compares the two ClientHellos of a handshake with
// a HelloRetryRequest, field by field and extension by extension, in
// order, and names the first change the RFC does not allow.
func checkSecondClientHello(first, second *wire.ClientHello) error {
	changed := func(what string) error {
		return alert.Errorf(alert.IllegalParameter, 1, "ClientHello",
			"the second ClientHello changed %s; after a HelloRetryRequest it must be the same ClientHello but for the changes RFC 8446 §4.1.2 lists", what)
	}
	switch {
	case second.Version != first.Version:
		return changed("legacy_version")
	case second.Random != first.Random:
		return changed("random")
	case !bytes.Equal(second.SessionID, first.SessionID):
		return changed("legacy_session_id")
	case !slices.Equal(second.CipherSuites, first.CipherSuites):
		return changed("cipher_suites")
	case !bytes.Equal(second.CompressionMethods, first.CompressionMethods):
		return changed("legacy_compression_methods")
	case second.Extensions.Has(wire.ExtEarlyData):
		return alert.Errorf(alert.IllegalParameter, 1, "ClientHello",
			"the second ClientHello offers early_data, which is not permitted after a HelloRetryRequest (RFC 8446 §4.1.2)")
	case second.Extensions.Has(wire.ExtPreSharedKey) != first.Extensions.Has(wire.ExtPreSharedKey):
		return changed("whether it offers pre_shared_key (it may only be updated)")
	}
	a, b := fixedExtensions(first.Extensions), fixedExtensions(second.Extensions)
	for i := 0; i < len(a) || i < len(b); i++ {
		switch {
		case i == len(b):
			return changed("its extensions: " + a[i].Type.String() + " is gone")
		case i == len(a):
			return changed("its extensions: " + b[i].Type.String() + " was added")
		case a[i].Type != b[i].Type:
			return changed("its extensions: " + b[i].Type.String() + " where the first had " + a[i].Type.String())
		case !bytes.Equal(a[i].Data, b[i].Data):
			return changed(b[i].Type.String())
		}
	}
	return samePSKIdentities(first, second)
}

// fixedExtensions are the extensions that must come back unchanged, in order.
func fixedExtensions(exts wire.Extensions) wire.Extensions {
	var out wire.Extensions
	for _, e := range exts {
		if !slices.Contains(retryMayChange, e.Type) {
			out = append(out, e)
		}
	}
	return out
}

// samePSKIdentities: the second pre_shared_key may drop identities, not
// bring new ones (RFC 8446 §4.1.2: "removing any PSKs which are
// incompatible with the server's indicated cipher suite").
func samePSKIdentities(first, second *wire.ClientHello) error {
	if !second.Extensions.Has(wire.ExtPreSharedKey) {
		return nil
	}
	var a, b wire.PreSharedKeyClientHello
	if _, err := first.Extensions.DecodeWith(wire.ExtPreSharedKey, a.Unmarshal); err != nil {
		return helloError(err, "pre_shared_key")
	}
	if _, err := second.Extensions.DecodeWith(wire.ExtPreSharedKey, b.Unmarshal); err != nil {
		return helloError(err, "pre_shared_key")
	}
	for _, id := range b.Identities {
		if !slices.ContainsFunc(a.Identities, func(x wire.PSKIdentity) bool { return bytes.Equal(x.Identity, id.Identity) }) {
			return alert.Errorf(alert.IllegalParameter, 1, "ClientHello",
				"the second ClientHello offers a PSK identity the first did not (RFC 8446 §4.1.2)")
		}
	}
	return nil
}

// keepsSelectedPSK: a PSK the server selected from the first ClientHello
// fits the suite the HelloRetryRequest named, so the second must offer it
// again (RFC 8446 §4.1.2 lets the client remove only "PSKs which are
// incompatible with the server's indicated cipher suite").
func keepsSelectedPSK(selected []byte, second *wire.ClientHello) error {
	if selected == nil {
		return nil
	}
	var b wire.PreSharedKeyClientHello
	if _, err := second.Extensions.DecodeWith(wire.ExtPreSharedKey, b.Unmarshal); err != nil {
		return helloError(err, "pre_shared_key")
	}
	if !slices.ContainsFunc(b.Identities, func(x wire.PSKIdentity) bool { return bytes.Equal(x.Identity, selected) }) {
		return alert.Errorf(alert.IllegalParameter, 1, "ClientHello",
			"the second ClientHello dropped a PSK that fits the chosen cipher suite (RFC 8446 §4.1.2 allows removing only incompatible ones)")
	}
	return nil
}
