//go:build !cgo

package providertest

const cgo = false
