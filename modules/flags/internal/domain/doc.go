// Package domain holds the flags module's rules: what a valid flag key, environment
// name and flagd definition are, and how a flag moves from one version to the next.
// It knows nothing of storage or HTTP.
package domain
