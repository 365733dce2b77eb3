// Package sdk is Switchyard's Go client: flag evaluations that keep answering through any
// single outage (memory cache, shared Redis cache, the OFREP API, a secondary read-only
// store, then the caller's default), each remote layer behind a circuit breaker.
//
// It is a Go module of its own, so applications do not pull the server's dependencies:
// it depends on github.com/switchyardhq/switchyard/contracts (a module with no
// dependencies) for the OFREP types, the HTTP client and the targeting engine.
package sdk
