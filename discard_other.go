//go:build !unix

package tlsflow

import "net"

// discardReadable is a no-op where raw non-blocking reads are not available.
func discardReadable(net.Conn) {}
