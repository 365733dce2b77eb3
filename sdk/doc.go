// Package sdk is Switchyard's Go client: flag evaluations that keep answering through any
// single outage. An evaluation tries, in order, the in-process memory cache, the shared
// Redis cache (optional), the primary (Switchyard's OFREP API), the secondary (a
// read-only PostgreSQL connection to the evaluation module's tables, optional), the last
// good snapshot of the flag definitions (with Sync), an expired memory entry, and then
// the caller's default. Each remote layer sits behind a circuit breaker
// (platform/breaker, on sony/gobreaker/v2) that trips fast and heals by itself, and
// concurrent misses for one key share one trip down the layers (singleflight).
//
// Evaluations never panic and never return an error: a Result carries the value (the
// caller's default on any failure), the reason (the evaluation's, or CACHED, STALE,
// ERROR), an OpenFeature error code, and the layer that answered (Source).
//
// With Sync, the client keeps the definitions snapshot (GET /sdk/v1/flags.json,
// If-None-Match) current, follows the server's change notifications (SSE, GET
// /ofrep/v1/events: coalesced, reconnecting with jitter) to expire its caches at once,
// and persists the last good snapshot to a file it can start from when the server is
// down. With LocalEvaluation it evaluates in-process from that snapshot with the
// server's own code (contracts/flageval over contracts/targeting), allocating nothing
// for a static flag.
//
// The package is a Go module of its own, so applications do not pull the server's
// dependencies: it needs contracts/ (no dependencies), platform/breaker (gobreaker only),
// go-redis, pgx and x/sync. See README.md for the settings, their defaults, and what an
// application sees in each outage; sdk/openfeature is an OpenFeature provider over it.
package sdk
