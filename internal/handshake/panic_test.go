package handshake

import (
	"errors"
	"testing"

	"github.com/tlsflow/tlsflow/alert"
)

// TestPanicInTheEngineIsAnError: a panic under an engine's entry point (here
// from a GetCertificate callback) becomes an internal_error that carries a
// *PanicError with the stack, the engine stops, and nothing crashes: no
// input from the network may take the process down.
func TestPanicInTheEngineIsAnError(t *testing.T) {
	cli, srv := ecdhe.configs(t)
	srv.GetCertificate = func(*ClientHelloInfo) (*Certificate, error) { panic("bug in a callback") }
	cv := newConversation(t, cli, srv)
	hello := cv.queue[serverSide][0]
	_, err := cv.server.HandleMessage(hello)
	var ae *alert.Error
	var pe *PanicError
	if !errors.As(err, &ae) || ae.Alert != alert.InternalError || !errors.As(err, &pe) || pe.Value != "bug in a callback" || len(pe.Stack) == 0 {
		t.Fatalf("error = %v; want internal_error wrapping the panic with its stack", err)
	}
	if _, err := cv.server.HandleMessage(hello); err == nil {
		t.Fatal("the engine went on after the panic")
	}
}
