package provider

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
)

// EnvVar names the environment variable that chooses the process default
// without code changes, as GODEBUG does for the standard library: "stdlib"
// or the name of a registered provider ("openssl" once
// github.com/tlsflow/tlsflow/provider/openssl is linked in). It is read
// once, at the first handshake that needs the default.
const EnvVar = "TLSFLOW_PROVIDER"

var registry = struct {
	sync.Mutex
	open map[string]func() (Provider, error)
}{open: map[string]func() (Provider, error){"stdlib": func() (Provider, error) { return Stdlib{}, nil }}}

// Register makes a provider available by name, to TLSFLOW_PROVIDER and
// Open. open runs at most once, when the provider is first asked for, so
// registering costs nothing (provider/openssl loads libcrypto only then).
// Registering a name twice panics, like database/sql's drivers.
func Register(name string, open func() (Provider, error)) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.open[name]; dup {
		panic("provider: Register called twice for " + name)
	}
	registry.open[name] = sync.OnceValues(open)
}

// Open returns the registered provider called name, opening it on first
// use. An unknown name, or a provider that cannot start (libcrypto
// missing), is an error that says which names there are and how to get
// the provider in.
func Open(name string) (Provider, error) {
	registry.Lock()
	open, ok := registry.open[name]
	var names []string
	for n := range registry.open {
		names = append(names, n)
	}
	registry.Unlock()
	if !ok {
		slices.Sort(names)
		hint := ""
		if name == "openssl" {
			hint = `; the OpenSSL provider is not linked into this program: import _ "github.com/tlsflow/tlsflow/provider/openssl" (cgo)`
		}
		return nil, fmt.Errorf("provider: no provider %q (this program has %s)%s", name, strings.Join(names, ", "), hint)
	}
	p, err := open()
	if err != nil {
		return nil, fmt.Errorf("provider: %s: %w", name, err)
	}
	return p, nil
}

var defaults struct {
	sync.Mutex
	set Provider // SetDefault's, which overrides the environment
}

// envDefault is the provider TLSFLOW_PROVIDER names, decided once. There is
// no fallback: a name that is not there, or a provider that does not start,
// stays an error for every handshake that asks for the default.
var envDefault = sync.OnceValues(func() (Provider, error) { return fromEnv(os.Getenv(EnvVar)) })

func fromEnv(v string) (Provider, error) {
	if v == "" {
		return Stdlib{}, nil
	}
	p, err := Open(v)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", EnvVar, v, err)
	}
	return p, nil
}

// SetDefault makes p the process default, ahead of TLSFLOW_PROVIDER; nil
// goes back to the environment's choice.
func SetDefault(p Provider) {
	defaults.Lock()
	defaults.set = p
	defaults.Unlock()
}

// Default returns the process default: SetDefault's provider, else the one
// TLSFLOW_PROVIDER names, else Stdlib.
func Default() (Provider, error) {
	defaults.Lock()
	p := defaults.set
	defaults.Unlock()
	if p != nil {
		return p, nil
	}
	return envDefault()
}

// OrStdlib returns p, or Stdlib when p is nil: the provider of code that
// is handed none (internal tests, the hostile test peer).
func OrStdlib(p Provider) Provider {
	if p == nil {
		return Stdlib{}
	}
	return p
}
