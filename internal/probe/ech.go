package probe

import (
	"context"
	"errors"
	"fmt"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/wire"
)

// ech asks about Encrypted Client Hello (draft-ietf-tls-esni-25), with the
// tlsflow client: with the configuration the caller gave (from the
// server's DNS HTTPS record), does the server read the inner hello, or
// reject it and send new configurations; and does a GREASE
// encrypted_client_hello, which every client may send (§6.2), go through.
// A rejecting server must prove it is the configuration's public name; the
// probe reports what it sent without judging the chain (the certificate
// stage does that for the server name).
func (p *prober) ech(ctx context.Context) {
	r := p.report
	if !r.accepted(versionTLS13) {
		return // ECH needs TLS 1.3
	}
	if list := p.opt.ECHConfigList; list != nil {
		r.ECH.Offered = true
		cfg := &tlsflow.Config{MinVersion: tlsflow.VersionTLS13, EncryptedClientHelloConfigList: list,
			EncryptedClientHelloRejectionVerify: func(tlsflow.ConnectionState) error { return nil }}
		conn, done, err := p.handshake(ctx, cfg)
		var rejection *tlsflow.ECHRejectionError
		switch {
		case err == nil:
			r.ECH.Accepted = ptr(conn.ConnectionState().ECHAccepted)
			done()
		case errors.As(err, &rejection):
			r.ECH.Accepted = ptr(false)
			configs, perr := wire.ParseECHConfigList(rejection.RetryConfigList)
			if perr == nil {
				for _, c := range configs {
					r.ECH.RetryConfigs = append(r.ECH.RetryConfigs, fmt.Sprintf("config_id %d for %s", c.ConfigID, c.PublicName))
				}
			}
		default:
			if stop(r, "encrypted client hello", err) {
				return
			}
		}
	}
	cfg := &tlsflow.Config{MinVersion: tlsflow.VersionTLS13, EncryptedClientHelloGREASE: true}
	_, done, err := p.handshake(ctx, cfg)
	if err != nil {
		if !stop(r, "encrypted client hello", err) {
			r.ECH.GREASETolerated = ptr(false)
		}
		return
	}
	done()
	r.ECH.GREASETolerated = ptr(true)
}
