// Package testenv runs the real things the SDK's tests need, on loopback: Switchyard
// built from this repository and started as a child process, a TCP proxy that injects
// faults between the SDK and a server (stop, stall, reset, HTTP 500), throwaway Redis key
// prefixes and throwaway PostgreSQL databases and roles. Tests only; nothing here is
// linked into an application.
package testenv
