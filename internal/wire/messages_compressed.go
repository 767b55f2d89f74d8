package wire

import "golang.org/x/crypto/cryptobyte"

// Certificate compression (RFC 8879): a side that can decompress says so
// with compress_certificate (the client in ClientHello, the server in
// CertificateRequest), and the other may then send its Certificate as a
// CompressedCertificate.

// Certificate compression algorithms (RFC 8879 §7.3).
const (
	CertCompressionZlib   uint16 = 1
	CertCompressionBrotli uint16 = 2
	CertCompressionZstd   uint16 = 3
)

// CertificateCompressionAlgorithms is compress_certificate's extension_data:
// CertificateCompressionAlgorithm algorithms<2..2^8-2> (RFC 8879 §3).
type CertificateCompressionAlgorithms []uint16

func (a CertificateCompressionAlgorithms) Marshal() ([]byte, error) {
	return marshalExt(ExtCompressCertificate, func(b *builder) { addUint16List8(b, a) })
}

func (a *CertificateCompressionAlgorithms) Unmarshal(data []byte) error {
	s := cryptobyte.String(data)
	var list []uint16
	if !readUint16List8(&s, &list, 2, 254) {
		return decodeErr(extName(ExtCompressCertificate), "algorithms")
	}
	if err := extEnd(s, ExtCompressCertificate); err != nil {
		return err
	}
	*a = list
	return nil
}

// CompressedCertificate is RFC 8879 §4:
//
//	struct {
//	    CertificateCompressionAlgorithm algorithm;
//	    uint24 uncompressed_length;
//	    opaque compressed_certificate_message<1..2^24-1>;
//	} CompressedCertificate;
//
// where the compressed bytes are those of the Certificate message's body.
type CompressedCertificate struct {
	Algorithm          uint16
	UncompressedLength uint32
	Compressed         []byte
}

func (*CompressedCertificate) Type() HandshakeType { return TypeCompressedCertificate }

func (m *CompressedCertificate) Marshal() ([]byte, error) {
	return marshalMessage(TypeCompressedCertificate, func(b *builder) {
		b.AddUint16(m.Algorithm)
		b.AddUint24(m.UncompressedLength)
		addOpaque24(b, m.Compressed)
	})
}

func (m *CompressedCertificate) Unmarshal(msg []byte) error {
	const name = "CompressedCertificate"
	s, err := readMessage(msg, TypeCompressedCertificate)
	if err != nil {
		return err
	}
	var c CompressedCertificate
	switch {
	case !s.ReadUint16(&c.Algorithm):
		return decodeErr(name, "algorithm")
	case !s.ReadUint24(&c.UncompressedLength):
		return decodeErr(name, "uncompressed_length")
	case !readOpaque24(&s, &c.Compressed, 1, 1<<24-1):
		return decodeErr(name, "compressed_certificate_message")
	case !s.Empty():
		return decodeErr(name, "trailing bytes")
	}
	*m = c
	return nil
}
