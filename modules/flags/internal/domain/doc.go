// Package domain holds the flags module's rules: what a valid flag key, environment
// name, flagd definition and flag file are, which targeting compiles (with
// contracts/targeting, against the environment's shared evaluators), how a flag moves
// from one version to the next, and what an import changes. It knows nothing of storage
// or HTTP.
package domain
