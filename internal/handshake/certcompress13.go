package handshake

import (
	"strconv"

	"github.com/tlsflow/tlsflow/alert"
	"github.com/tlsflow/tlsflow/internal/certcomp"
	"github.com/tlsflow/tlsflow/internal/wire"
	"github.com/tlsflow/tlsflow/trace"
)

// Certificate compression (RFC 8879), TLS 1.3 only: a side that can
// decompress lists its algorithms in compress_certificate (a client in
// ClientHello, a server in its CertificateRequest), and the other may send
// its Certificate compressed with one of them. The transcript holds the
// CompressedCertificate as sent (§4), so CertificateVerify and Finished
// cover the compressed bytes; the receiver checks the chain it decompressed.
// Decompression stops at uncompressed_length, which may not exceed what the
// limits policy allows a Certificate: a compression bomb costs nothing more.

// certCompressionOffer is what we list in compress_certificate: the
// configured algorithms tlsflow implements.
func (b *base) certCompressionOffer() wire.CertificateCompressionAlgorithms {
	var algs wire.CertificateCompressionAlgorithms
	for _, a := range b.cfg.CertCompression {
		if certcomp.Supported(a) {
			algs = append(algs, a)
		}
	}
	return algs
}

// peerCertCompression reads the algorithms the peer decompresses from
// exts (ClientHello or CertificateRequest).
func peerCertCompression(exts wire.Extensions, step int, message string) ([]uint16, error) {
	var algs wire.CertificateCompressionAlgorithms
	if _, err := exts.DecodeWith(wire.ExtCompressCertificate, algs.Unmarshal); err != nil {
		return nil, alert.Errorf(alert.DecodeError, step, message, "compress_certificate: %w", err)
	}
	return algs, nil
}

// compressionFor picks ours first among the algorithms the peer accepts.
func (b *base) compressionFor(peer []uint16) uint16 {
	for _, a := range b.certCompressionOffer() {
		if contains(peer, a) {
			return a
		}
	}
	return 0
}

// sendCertificateMessage13 sends msg, compressed with alg if not zero.
func (b *base) sendCertificateMessage13(msg *wire.Certificate13, alg uint16, step int) error {
	if alg == 0 {
		return b.send(msg, step)
	}
	raw, err := msg.Marshal()
	if err != nil {
		return internalError(step, "Certificate", err)
	}
	body := raw[4:]
	compressed, err := certcomp.Compress(alg, body)
	if err != nil {
		return internalError(step, "CompressedCertificate", err)
	}
	b.note(trace.KindNote, step, "certificate compressed", "algorithm", certcomp.Name(alg),
		"from", strconv.Itoa(len(body)), "to", strconv.Itoa(len(compressed)))
	return b.send(&wire.CompressedCertificate{Algorithm: alg, UncompressedLength: uint32(len(body)), Compressed: compressed}, step)
}

// readCertificateMessage13 parses the peer's Certificate, or, if msg is a
// CompressedCertificate and we offered compression (offered), the
// Certificate inside it, of the negotiated certificate type certType. The
// transcript takes msg as it came.
func (b *base) readCertificateMessage13(msg []byte, offered bool, certType uint8, step int) (*wire.Certificate13, error) {
	cert := new(wire.Certificate13)
	if len(msg) == 0 || wire.HandshakeType(msg[0]) != wire.TypeCompressedCertificate {
		if err := parse(cert, msg, step); err != nil {
			return nil, err
		}
		cert.CertificateType = certType
		b.received(cert, msg, step)
		return cert, nil
	}
	if !offered {
		return nil, alert.Errorf(alert.UnexpectedMessage, step, "CompressedCertificate",
			"a compressed certificate, and this side offered no certificate compression (RFC 8879 §4)")
	}
	cc := new(wire.CompressedCertificate)
	if err := parse(cc, msg, step); err != nil {
		return nil, err
	}
	if !contains(b.certCompressionOffer(), cc.Algorithm) {
		return nil, alert.Errorf(alert.IllegalParameter, step, "CompressedCertificate",
			"compressed with %s, which this side did not offer (RFC 8879 §4)", certcomp.Name(cc.Algorithm))
	}
	limit := b.cfg.limits().HandshakeLimit(uint8(wire.TypeCertificate))
	if int(cc.UncompressedLength) > limit {
		return nil, alert.Errorf(alert.BadCertificate, step, "CompressedCertificate",
			"uncompressed_length %d is more than a Certificate may be (%d bytes)", cc.UncompressedLength, limit)
	}
	body, err := certcomp.Decompress(cc.Algorithm, cc.Compressed, int(cc.UncompressedLength))
	if err != nil {
		// "If the received CompressedCertificate message cannot be
		// decompressed, the connection MUST be terminated with the
		// "bad_certificate" alert" (RFC 8879 §4).
		return nil, alert.Errorf(alert.BadCertificate, step, "CompressedCertificate", "%s: %w", certcomp.Name(cc.Algorithm), err)
	}
	inner := append([]byte{byte(wire.TypeCertificate), byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	if err := parse(cert, inner, step); err != nil {
		return nil, err
	}
	cert.CertificateType = certType
	b.received(cert, msg, step)
	b.note(trace.KindNote, step, "certificate decompressed", "algorithm", certcomp.Name(cc.Algorithm),
		"from", strconv.Itoa(len(cc.Compressed)), "to", strconv.Itoa(len(body)))
	return cert, nil
}
