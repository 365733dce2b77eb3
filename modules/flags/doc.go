// Package flags is Switchyard's command module: it owns flag definitions (in the flagd
// flag-definition format) per environment, the environment's flag set (shared
// $evaluators and flag-set metadata), and records who changed what, when, why and at
// which version.
//
// API (admin bearer token): PUT/GET/DELETE /api/v1/environments/{env}/flags/{key},
// PUT .../{key}/state, GET /api/v1/environments/{env}/flags (paged). Versions are ETags;
// If-Match gives optimistic concurrency; X-Change-Reason is recorded with the change.
// Flags as code: GET /api/v1/environments/{env}/flags.json exports the live flags,
// evaluators and metadata as a flagd flag file; POST /api/v1/environments/{env}/import
// (dryRun, prune) validates a whole flag file and applies it in one transaction.
//
// Targeting is compiled when it is written, with the engine the read side evaluates with
// (contracts/targeting), against the environment's evaluators: a rule that does not
// compile, or that can return a variant the flag lacks, is refused with its JSON path.
//
// Publishes (contracts/flagsv1, topic flagsv1.Topic): flag_created, flag_updated,
// flag_state_changed, flag_archived, each carrying the full new and previous definition,
// the evaluators the new one references (transitively) and the flag-set metadata. When an
// evaluator or the flag-set metadata changes, every live flag it affects gets a new
// version and a flag_updated event whose reason says why. Every event is written to the
// outbox in the transaction that changes the flag; the Dispatcher then delivers it inline
// (sync: the response waits until evaluation and audit applied it) or wakes the relay
// (async).
//
// Tables (its own database: a SQLite file or a PostgreSQL schema; every query is written
// once with `?` binds and rebound per dialect): flag_environments (with the flag-set metadata),
// flag_evaluators, flag_definitions (current version), flag_versions (every version,
// with the evaluators and flag-set metadata it was published with), outbox.
package flags
