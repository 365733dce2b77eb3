// Package evaluation is Switchyard's read module: it projects flag events into its own
// store, compiles them into immutable in-memory snapshots (one per environment), and
// serves evaluations over OFREP from those snapshots alone.
//
// Events consumed: every flagsv1.FlagChanged on flagsv1.Topic (created, updated, state
// changed, archived), under the consumer name flagsv1.ConsumerEvaluationProjection. Each
// event is claimed in the module's inbox in the same transaction as the projection, so a
// redelivered event changes nothing; an event whose version is not newer than the one
// projected (events can arrive out of order after retries) is claimed and ignored, so a
// flag never regresses. Every applied event bumps its environment's revision, which keys
// the bulk evaluation's ETag. The module publishes no events.
//
// Tables, in the module's own database (migrations/evaluation): evaluation_flags (the
// last definition and version of every flag per environment, archived ones flagged),
// evaluation_environments (the revision of each environment) and inbox, in SQLite or in
// the module's own PostgreSQL schema. A version only overwrites an older one inside the
// upsert itself, so concurrent appliers never lose the newest. Start rebuilds the
// snapshots from these tables only; it never reads another module's schema.
//
// Reads never touch the database and never parse a definition: definitions are compiled
// when a snapshot is built (variant values compacted, metadata and whole responses
// pre-encoded), and a snapshot is swapped atomically, so readers take no lock.
//
// Targeting rules are compiled once, when a snapshot is built, by contracts/targeting
// (flagd's JsonLogic with fractional, sem_ver, starts_with, ends_with and shared
// $evaluators, which each event carries); every answer a rule can lead to (DEFAULT, or
// TARGETING_MATCH per variant) is pre-encoded then. A request decodes its context at
// most once, and only when a targeted flag needs it. A stored rule that does not compile
// answers PARSE_ERROR; a rule choosing a variant the flag lacks answers GENERAL; flag-set
// metadata is merged under the flag's own. The bulk ETag carries an evaluator version,
// bumped whenever the same snapshot and context could evaluate differently.
package evaluation
