//go:build unix

package tlsflow

import (
	"net"
	"syscall"
)

// discardReadable reads and drops what the kernel already holds for conn,
// without blocking: one non-blocking read loop on the raw socket.
func discardReadable(conn net.Conn) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	var buf [4096]byte
	_ = raw.Read(func(fd uintptr) bool {
		for i := 0; i < 256; i++ { // at most 1 MiB
			if n, err := syscall.Read(int(fd), buf[:]); n <= 0 || err != nil {
				break
			}
		}
		return true // done: never wait for more
	})
}
