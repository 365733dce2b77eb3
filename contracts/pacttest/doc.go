//go:build contract

// Package pacttest is what Switchyard's contract tests share: the names of the pacticipants,
// where the committed pact files live, and the checks that keep pacts from rotting (a
// provider with no pact to verify, a provider state with no handler). It is compiled only
// with the `contract` build tag, so plain `go test ./...` stays free of cgo and libpact_ffi.
package pacttest
