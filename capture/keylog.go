package capture

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tlsflow/tlsflow/internal/limits"
)

// KeyLog is the secrets of an NSS key log file (SSLKEYLOGFILE), by label
// and ClientHello random: "CLIENT_RANDOM <random> <master secret>" for
// TLS 1.2, "CLIENT_HANDSHAKE_TRAFFIC_SECRET <random> <secret>" and the
// like for TLS 1.3 (the format: draft-ietf-tls-keylogfile).
type KeyLog struct {
	secrets map[keyLogKey][]byte
}

type keyLogKey struct {
	label  string
	random [32]byte
}

// The labels a key log may carry that a reader uses; others (RSA,
// EXPORTER_SECRET, ...) are skipped, as the format asks of readers.
const (
	labelMasterSecret      = "CLIENT_RANDOM"
	labelClientEarly       = "CLIENT_EARLY_TRAFFIC_SECRET"
	labelClientHandshake   = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	labelServerHandshake   = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	labelClientApplication = "CLIENT_TRAFFIC_SECRET_0"
	labelServerApplication = "SERVER_TRAFFIC_SECRET_0"
)

var usedLabels = map[string]bool{
	labelMasterSecret: true, labelClientEarly: true,
	labelClientHandshake: true, labelServerHandshake: true,
	labelClientApplication: true, labelServerApplication: true,
}

// maxKeyLogLine bounds a line: a label, 64 hex digits of random and at
// most 128 of secret (SHA-512) fit in far less.
const maxKeyLogLine = 1024

// ReadKeyLog reads an NSS key log. Comments (#) and empty lines are
// skipped, and so are lines with labels it does not use; a line with a
// label it uses and a malformed random or secret is an error naming the
// line. At most limits.DefaultCapture.KeyLogLines lines are read.
func ReadKeyLog(r io.Reader) (*KeyLog, error) {
	return readKeyLog(r, &limits.DefaultCapture)
}

func readKeyLog(r io.Reader, lim *limits.Capture) (*KeyLog, error) {
	kl := &KeyLog{secrets: map[keyLogKey][]byte{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxKeyLogLine)
	n := 0
	for sc.Scan() {
		if n++; n > lim.KeyLogLines {
			return nil, fmt.Errorf("key log: more than %d lines (limits.Capture.KeyLogLines)", lim.KeyLogLines)
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || !usedLabels[f[0]] {
			continue
		}
		var k keyLogKey
		k.label = f[0]
		random, err := hex.DecodeString(f[1])
		if err != nil || len(random) != len(k.random) {
			return nil, fmt.Errorf("key log line %d: %s: the client random is not 32 bytes of hex", n, f[0])
		}
		copy(k.random[:], random)
		secret, err := hex.DecodeString(f[2])
		if err != nil || len(secret) == 0 || len(secret) > 64 {
			return nil, fmt.Errorf("key log line %d: %s: the secret is not 1 to 64 bytes of hex", n, f[0])
		}
		kl.secrets[k] = secret
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("key log line %d: longer than %d bytes", n+1, maxKeyLogLine)
		}
		return nil, fmt.Errorf("key log: %w", err)
	}
	return kl, nil
}

// Len is the number of secrets the key log holds.
func (kl *KeyLog) Len() int {
	if kl == nil {
		return 0
	}
	return len(kl.secrets)
}

// secret returns the secret logged under label for the connection whose
// ClientHello had random, or nil.
func (kl *KeyLog) secret(label string, random []byte) []byte {
	if kl == nil || len(random) != 32 {
		return nil
	}
	k := keyLogKey{label: label}
	copy(k.random[:], random)
	return kl.secrets[k]
}
