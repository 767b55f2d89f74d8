package handshake

import (
	"errors"
	"strconv"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/record"
	"github.com/tlsflow/tlsflow/internal/suites"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// The record size limit (RFC 8449): each side may say how large a
// protected record it accepts, counting the plaintext (in TLS 1.3 the
// whole TLSInnerPlaintext, content type included). A client offers it when
// configured to (Config.RecordSizeLimit); a server answers an offer always,
// with its own limit or the protocol's ("Endpoints SHOULD advertise the
// record_size_limit extension, even if they have no need to limit the size
// of records", §4). Negotiated, it bounds the protected records of this
// handshake's keys in both directions; the connection applies it
// (LimitRecords).

// LimitRecords bounds protected records from now on: Write is the most
// payload one record we send may carry, Read the most plaintext one we
// accept (record_overflow above); 0 leaves a direction as it is.
type LimitRecords struct{ Write, Read int }

func (LimitRecords) action() {}

// maxRecordLimit is the protocol's own limit, the largest a record_size_limit
// may usefully say (RFC 8449 §4): 2^14 in TLS 1.2, 2^14+1 in TLS 1.3.
func maxRecordLimit(version uint16) int {
	if version == suites.VersionTLS13 {
		return record.MaxPlaintext + 1
	}
	return record.MaxPlaintext
}

// ownRecordLimit is the limit this side advertises for version.
func (b *base) ownRecordLimit(version uint16) int {
	if l := int(b.cfg.RecordSizeLimit); l > 0 {
		return min(l, maxRecordLimit(version))
	}
	return maxRecordLimit(version)
}

// limitsFor turns the peer's limit and ours into what the record layer
// bounds: in TLS 1.3 a record's payload is one byte short of its
// TLSInnerPlaintext (the content type; tlsflow adds no padding).
func (b *base) limitsFor(version uint16, peer int) LimitRecords {
	peer = min(peer, maxRecordLimit(version)) // "MUST NOT send records larger than the protocol-defined limit"
	write := peer
	if version == suites.VersionTLS13 {
		write--
	}
	own := b.ownRecordLimit(version)
	if b.tracing() {
		b.note(trace.KindNote, 2, "record size limit", "peer", strconv.Itoa(peer), "own", strconv.Itoa(own))
	}
	return LimitRecords{Write: write, Read: own}
}

// offerRecordSizeLimit adds the client's record_size_limit, if configured.
func (c *Client) offerRecordSizeLimit(h *wire.ClientHello) {
	if l := c.cfg.RecordSizeLimit; l > 0 {
		h.Extensions.Add(wire.ExtRecordSizeLimit, wire.RecordSizeLimit(min(int(l), record.MaxPlaintext+1)))
	}
}

// decodeRecordSizeLimit reads a record_size_limit from exts, if there is
// one: below 64 is illegal_parameter (RFC 8449 §4).
func decodeRecordSizeLimit(exts wire.Extensions, step int, message string) (int, bool, error) {
	var l wire.RecordSizeLimit
	found, err := exts.DecodeWith(wire.ExtRecordSizeLimit, l.Unmarshal)
	if err != nil { // errors.As's target escapes: made only when needed
		var ip *wire.IllegalParameterError
		if errors.As(err, &ip) {
			return 0, false, alert.Errorf(alert.IllegalParameter, step, message, "record_size_limit: %w", err)
		}
		return 0, false, alert.Errorf(alert.DecodeError, step, message, "record_size_limit: %w", err)
	}
	return int(l), found, nil
}

// serverRecordLimits (server) answers the client's record_size_limit in
// exts (ServerHello or EncryptedExtensions) and returns the limits, or
// nothing when the client offered none.
func (s *Server) serverRecordLimits(version uint16, exts *wire.Extensions) (*LimitRecords, error) {
	peer, found, err := decodeRecordSizeLimit(s.hello.Extensions, 1, "ClientHello")
	if err != nil || !found {
		return nil, err
	}
	exts.Add(wire.ExtRecordSizeLimit, wire.RecordSizeLimit(s.ownRecordLimit(version)))
	l := s.limitsFor(version, peer)
	return &l, nil
}

// clientRecordLimits (client) reads the server's answer in exts: the
// limits, or nothing if it did not answer (then none is negotiated).
func (c *Client) clientRecordLimits(version uint16, exts wire.Extensions, message string) (*LimitRecords, error) {
	peer, found, err := decodeRecordSizeLimit(exts, 2, message)
	if err != nil || !found {
		return nil, err
	}
	l := c.limitsFor(version, peer)
	return &l, nil
}
