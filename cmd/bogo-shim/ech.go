package main

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/tlsflow/tlsflow"
)

// configureECH maps the runner's Encrypted Client Hello flags: a client's
// ECHConfigList or GREASE, a server's keys. The shim accepts any chain (see
// configure), so the rejection callback only checks the name the runner
// expects BoringSSL's verify callback to see (SSL_get0_ech_name_override):
// the public name, and never when no override is expected.
func configureECH(cfg *tlsflow.Config, global, s *settings) {
	if global.server {
		cfg.EncryptedClientHelloKeys = s.echKeys
		return
	}
	cfg.EncryptedClientHelloConfigList = s.echConfigList
	cfg.EncryptedClientHelloGREASE = s.echGrease
	want, none := s.expectNameOverride, s.expectNoNameOverride
	cfg.EncryptedClientHelloRejectionVerify = func(cs tlsflow.ConnectionState) error {
		switch {
		case none:
			return fmt.Errorf("verifying the ECH public name %q, want no name override", cs.ServerName)
		case want != "" && cs.ServerName != want:
			return fmt.Errorf("verifying the ECH public name %q, want %q", cs.ServerName, want)
		}
		return nil
	}
}

// checkECHRejection checks a failed client handshake against
// -expect-ech-retry-configs and -expect-no-ech-retry-configs; it returns
// an error when they disagree, nil when they agree or do not apply.
func checkECHRejection(err error, s *settings) error {
	if s.expectRetryConfigs == nil && !s.expectNoRetryConfigs {
		return nil
	}
	var rejection *tlsflow.ECHRejectionError
	switch {
	case !errors.As(err, &rejection):
		return fmt.Errorf("handshake failed with %v, want an ECH rejection", err)
	case s.expectNoRetryConfigs && len(rejection.RetryConfigList) != 0:
		return fmt.Errorf("retry configs %x, want none", rejection.RetryConfigList)
	case s.expectRetryConfigs != nil && !bytes.Equal(rejection.RetryConfigList, s.expectRetryConfigs):
		return fmt.Errorf("retry configs %x, want %x", rejection.RetryConfigList, s.expectRetryConfigs)
	}
	return nil
}
