package tlsflow_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/tlsflow/tlsflow"
	"github.com/tlsflow/tlsflow/internal/limits"
)

// The limits policy (internal/limits) at each limit and one past it, for
// the limits a connection enforces between records of application data: a
// peer sends exactly the limit, then data, and the data arrives; a peer
// sends one more, and the connection ends with unexpected_message. The
// limits a handshake enforces are tested with the attacks (attack_*_test.go),
// the handshake message sizes in internal/record.

func TestConnectionLimits(t *testing.T) {
	c := sharedCerts()
	for _, tc := range []struct {
		name    string
		limit   int
		version uint16
		send    func(cli *tlsflow.Conn, n int) error
	}{
		{"empty records", limits.Default.EmptyRecords, tlsflow.VersionTLS13,
			func(cli *tlsflow.Conn, n int) error { return tlsflow.SendEmptyRecords(cli, n) }},
		{"warning alerts (TLS 1.2)", limits.Default.WarningAlerts, tlsflow.VersionTLS12,
			func(cli *tlsflow.Conn, n int) error {
				for range n {
					if err := tlsflow.SendAlert(cli, 1, 90); err != nil { // warning user_canceled
						return err
					}
				}
				return nil
			}},
		{"KeyUpdates", limits.Default.KeyUpdates, tlsflow.VersionTLS13,
			func(cli *tlsflow.Conn, n int) error {
				for range n {
					if err := cli.KeyUpdate(false); err != nil {
						return err
					}
				}
				return nil
			}},
	} {
		for _, extra := range []int{0, 1} {
			n := tc.limit + extra
			t.Run(fmt.Sprintf("%s: %d", tc.name, n), func(t *testing.T) {
				cli, srv := flowPair(t, &tlsflow.Config{RootCAs: c.ca.Pool, ServerName: "localhost", MaxVersion: tc.version},
					&tlsflow.Config{Certificates: []tlsflow.Certificate{flowCert(c.ecdsa)}})
				// Twice: the count starts again after data.
				for round := range 2 {
					if err := tc.send(cli, n); err != nil {
						t.Fatal(err)
					}
					if _, err := cli.Write([]byte{byte(round)}); err != nil {
						t.Fatal(err)
					}
					b := make([]byte, 1)
					_, err := io.ReadFull(srv, b)
					if extra == 0 {
						if err != nil || b[0] != byte(round) {
							t.Fatalf("round %d: after %d (the limit), read %v, %v; want the data", round, n, b, err)
						}
						continue
					}
					wantAlert(t, err, "unexpected_message")
					return
				}
			})
		}
	}
}
