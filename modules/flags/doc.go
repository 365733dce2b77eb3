// Package flags is Switchyard's command module: it owns flag definitions (in the flagd
// flag-definition format) per environment, and records who changed what, when, why and
// at which version.
//
// API (admin bearer token): PUT/GET/DELETE /api/v1/environments/{env}/flags/{key},
// PUT .../{key}/state, GET /api/v1/environments/{env}/flags (paged). Versions are ETags;
// If-Match gives optimistic concurrency; X-Change-Reason is recorded with the change.
//
// Publishes (contracts/flagsv1, topic flagsv1.Topic): flag_created, flag_updated,
// flag_state_changed, flag_archived, each carrying the full new and previous definition.
// Every event is written to the outbox in the transaction that changes the flag; the
// Dispatcher then delivers it inline (sync: the response waits until evaluation and
// audit applied it) or wakes the relay (async).
//
// Tables (its own database): flag_environments, flag_definitions (current version),
// flag_versions (every version, for history), outbox.
package flags
