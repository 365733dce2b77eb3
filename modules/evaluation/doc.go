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
//
// Change notifications (OFREP ADR-0008, "SSE for bulk evaluation changes"): every 200
// evaluation, single and bulk, ends with "eventStreams":[{"type":"sse","endpoint":
// {"requestUri":"/ofrep/v1/events"}}] (the endpoint form without an origin, so clients
// resolve it against the origin they reached, whatever proxy is in front). GET
// /ofrep/v1/events is a text/event-stream of the default environment: first a retry:
// hint and a ": connected" comment, then a refetchEvaluation event with the current
// etag at once (not when the client's Last-Event-ID names the current revision already),
// then one event per revision change, throttled per stream to one per MinInterval (a
// burst becomes one event carrying the latest etag), and ":" comment heartbeats while idle.
// Each event is `id: <etag unquoted>`, `event: message`, `data: {"type":
// "refetchEvaluation","etag":""c<revision>-<tag>"","lastModified":<unix seconds>}`.
// The etag is the definitions snapshot's ETag (below), so one notification serves bulk
// clients (they refetch with If-None-Match) and snapshot clients (they compare it with
// the ETag they hold). Waiting streams cost the projection nothing: the snapshot holder
// closes one channel per publication and each stream reads the snapshot it then holds; a
// client that stops reading is dropped after a write timeout, never buffered for. Open
// streams are bounded (Deps.EventStreams.MaxStreams, 1000 by default; beyond it a 503
// problem with Retry-After). http.Server.Shutdown does not end streaming handlers, so
// the composition root must call Module.CloseStreams when shutdown starts
// (http.Server.RegisterOnShutdown); it ends every stream (also one blocked on a client
// that does not read) and refuses new ones.
//
// A refetch an event triggered carries flagConfigEtag (and flagConfigLastModified). When
// flagConfigEtag names a newer revision of the environment than this replica holds (its
// peer behind the same load balancer applied the event first), the replica catches up
// with its store before answering (one store read at a time, at most one every 200 ms),
// and answers 503 with Retry-After: 1 if it still cannot: it never answers an old
// configuration under an ETag the client would then keep. Any other value is ignored.
//
// Where this departs from ADR-0008, and why: the first event on connect (the ADR has
// providers refetch after every reconnect anyway; sending the current etag lets a
// client that holds it skip that refetch); no replay of missed events for Last-Event-ID
// (there is nothing to replay: one event with the latest etag says all of it);
// inactivityDelaySec is left out (it concerns browsers; its default of 120 s applies).
//
// Definitions snapshot: GET /sdk/v1/flags.json (contracts/snapshotv1) is the default
// environment's live ENABLED and DISABLED flags, as stored, with the flag set's shared
// rules and metadata, in the flagd flag-file format plus environment and revision, for
// SDKs that evaluate in-process. ETag (the change events' etag of the same revision) and
// Last-Modified; If-None-Match answers 304; it is encoded once per revision, on first
// request. Authentication: none by default, like OFREP, because the SDK needs nothing
// that bulk evaluation with crafted contexts does not already reveal to anyone who can
// reach the server; but it does hand out every targeting rule verbatim (lists of user
// ids in rules included), so a deployment that exposes the read side beyond its own
// network passes Deps.SnapshotAuth (a bearer check such as httpx.RequireBearer) and the
// SDK sends the token. The stream carries only etags and stays open.
package evaluation
