// Package suite is the end-to-end suite that every deployment shape must pass: the
// README walk-through and bad input on every endpoint, spoken over HTTP only, so the same
// tests run against the monolith in process (cmd/switchyard's tests) and against the
// monolith and the split command + read processes as real child processes, in both bus
// modes (e2e's integration tests).
package suite
