package handshake

import (
	"fmt"
	"runtime/debug"

	"github.com/tlsflow/tlsflow/alert"
)

// PanicError is a panic inside an engine, caught where the engine is
// entered and turned into an internal_error. Every input an engine reads
// comes from the network, and no input may take the process down: the
// engines are written not to panic (a message that cannot be built is an
// error, every size is bounded where it enters), and this is the net under
// that. A PanicError is always a bug in tlsflow; the tests and fuzz targets
// fail on it, and the stack is kept to find it.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("tlsflow bug: panic in the handshake engine: %v", e.Value)
}

// catchPanic, deferred at an engine's entry points, replaces a panic by an
// internal_error wrapping a *PanicError.
func catchPanic(err *error) {
	if r := recover(); r != nil {
		*err = &alert.Error{Alert: alert.InternalError, Step: -1, Reason: fmt.Sprintf("internal error: %v", r),
			Err: &PanicError{Value: r, Stack: debug.Stack()}}
	}
}
