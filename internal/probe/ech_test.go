package probe

import (
	"slices"
	"strings"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/pki"
)

// TestProbeECHAndRecords probes a tlsflow server with ECH keys: with its
// configuration the probe finds ECH accepted, with a configuration the
// server does not have rejected with the server's retry configuration;
// GREASE goes through; a fragmented ClientHello is reassembled; the server
// answers record_size_limit.
func TestProbeECHAndRecords(t *testing.T) {
	cfg, ca := testServerConfig(t, pki.ECDSAP256)
	key, err := tlsflow.NewECHConfig(3, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := tlsflow.NewECHConfig(3, "localhost")
	cfg.EncryptedClientHelloKeys = []tlsflow.EncryptedClientHelloKey{key}
	addr := localhostAddr(serveTLS(t, cfg, nil))
	list, _ := tlsflow.MarshalECHConfigList(key.Config)
	stale, _ := tlsflow.MarshalECHConfigList(other.Config)

	r := runProbe(t, Options{Addr: addr, RootCAs: ca.Pool, ECHConfigList: list})
	if e := r.ECH; !e.Offered || e.Accepted == nil || !*e.Accepted || e.GREASETolerated == nil || !*e.GREASETolerated {
		t.Errorf("ECH %+v; want offered, accepted, GREASE tolerated", e)
	}
	if rec := r.Records; rec.FragmentedHello == nil || !*rec.FragmentedHello || rec.RecordSizeLimit == nil || !*rec.RecordSizeLimit {
		t.Errorf("records %+v; want the fragmented hello answered and record_size_limit supported", rec)
	}
	if !slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.ID == "ech" && f.Rating == Good }) {
		t.Errorf("no good ech finding in %+v", r.Findings)
	}

	r = runProbe(t, Options{Addr: addr, RootCAs: ca.Pool, ECHConfigList: stale})
	if e := r.ECH; e.Accepted == nil || *e.Accepted || len(e.RetryConfigs) != 1 || !strings.Contains(e.RetryConfigs[0], "config_id 3 for localhost") {
		t.Errorf("ECH with a stale configuration %+v; want rejected with the server's configuration", e)
	}
}
