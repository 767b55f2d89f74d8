package tlsflow

import (
	"crypto/x509"
	"runtime"
	"sync"
	"weak"
)

// parsedCertificates shares parsed peer certificates between connections.
//
// A server sends the same chain on every handshake, so a client that talks
// to it again would parse the same DER again: parsing one certificate costs
// about sixty allocations, a tenth of a whole TLS 1.3 handshake. Entries
// hold the certificate weakly: a certificate stays cached while some
// connection still holds it (in PeerCertificates or VerifiedChains) and its
// entry is removed after the collector frees it, so a peer that sends many
// different certificates cannot make the cache grow beyond the connections
// alive. Only parsing is shared; every handshake still verifies the chain.
//
// The shared *x509.Certificate must be treated as read-only, as crypto/tls
// asks of its ConnectionState.PeerCertificates too.
var parsedCertificates = certificateCache{entries: make(map[string]weak.Pointer[x509.Certificate])}

// parseCertificate is parsedCertificates.parse as a func value, made once:
// a method value made at each handshake would be an allocation.
var parseCertificate = parsedCertificates.parse

type certificateCache struct {
	mu      sync.Mutex
	entries map[string]weak.Pointer[x509.Certificate] // keyed by the DER
}

// parse returns the certificate der encodes, parsed once for all
// connections that hold it at the same time.
func (c *certificateCache) parse(der []byte) (*x509.Certificate, error) {
	if cert := c.lookup(der); cert != nil {
		return cert, nil
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	key := string(der)
	c.mu.Lock()
	c.entries[key] = weak.Make(cert)
	c.mu.Unlock()
	runtime.AddCleanup(cert, c.forget, key)
	return cert, nil
}

func (c *certificateCache) lookup(der []byte) *x509.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[string(der)].Value()
}

// forget drops the entry of a freed certificate, unless a newer parse of the
// same DER has replaced it in the meantime.
func (c *certificateCache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[key].Value() == nil {
		delete(c.entries, key)
	}
}

// len returns the number of entries, live or waiting for their cleanup.
func (c *certificateCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
