//go:build !cgo

package openssl

import (
	"errors"

	"github.com/tlsflow/tlsflow/provider"
)

func init() { provider.Register(Name, New) }

// Name is the provider's name, for TLSFLOW_PROVIDER.
const Name = "openssl"

// New fails: this program was built without cgo, which the OpenSSL
// provider needs to call libcrypto.
func New() (provider.Provider, error) {
	return nil, errors.New("the OpenSSL provider needs cgo, and this program was built with CGO_ENABLED=0")
}
