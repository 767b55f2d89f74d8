package tlsflow

// What crypto/tls has and tlsflow keeps for code that switches: names,
// deprecated fields that still mean something, and small methods. See
// docs/SWITCHING.md and docs/CRYPTO_TLS.md.

import "fmt"

// versionRangeError explains MinVersion and MaxVersion that leave no
// version tlsflow implements (lo > hi, as Config.versions resolved them).
func (c *Config) versionRangeError(lo, hi uint16) error {
	switch {
	case c.MaxVersion != 0 && c.MaxVersion < VersionTLS12:
		return fmt.Errorf("MaxVersion is %s: tlsflow implements TLS 1.2 and 1.3; TLS 1.0 and 1.1 are deprecated (RFC 8996)",
			VersionName(c.MaxVersion))
	case hi < maxSupportedVersion:
		return fmt.Errorf("MinVersion %s is above MaxVersion %s", VersionName(lo), VersionName(hi))
	}
	return fmt.Errorf("MinVersion %s is above the highest version tlsflow implements (%s)", VersionName(lo), VersionName(hi))
}
