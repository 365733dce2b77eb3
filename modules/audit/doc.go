// Package audit is the audit module: a READ module that keeps the timeline of every flag
// change (who, when, why, before and after) and serves it to administrators.
//
// Events consumed: every flagsv1.FlagChanged on flagsv1.Topic (flag created, updated,
// state changed, archived), under the consumer name flagsv1.ConsumerAuditTimeline. Each
// event is recorded once, idempotently, in the same transaction as its inbox claim; an
// event type this build does not know is still recorded, under its raw type as action.
// The module publishes no events.
//
// HTTP (admin token on both):
//
// GET /api/v1/audit lists the timeline newest first, by (occurredAt, recording order),
// filtered by environment, flag, actor and time range, with keyset paging through an
// opaque cursor. It is for looking back; it cannot be polled for what is new, because an
// entry may be recorded late (a delayed event) or, with several replicas recording at
// once, commit after a reader has paged past its place.
//
// GET /api/v1/audit/changes follows the timeline exactly, for clients that poll "what is
// new since I last looked" (exports, SIEM forwarders, notifiers):
//
//   - Parameters: after (the next cursor of the previous response), or start=beginning
//     (default: the whole timeline, then what follows) or start=now (an empty page whose
//     next cursor skips the history), but not both; limit (1-500, default 50);
//     environment, flag and actor (exact match, as on GET /api/v1/audit). since and until
//     are refused: this order is the order of recording, not of occurrence. Unknown,
//     repeated or empty parameters, and cursors not issued by this endpoint (a cursor of
//     GET /api/v1/audit included), are 400 application/problem+json naming the field.
//   - Response: {"entries": [...], "next": "<cursor>"}, entries oldest first in the order
//     they were recorded (committed), in the same shape as GET /api/v1/audit. next is
//     always present; when nothing new is recorded, entries is empty and next is the
//     cursor that was sent. With filters, next may move past entries that do not match, so
//     that a poll costs what was recorded since the previous one. A full page (limit
//     entries) means more may be waiting: ask again at once; otherwise wait before polling.
//   - Guarantee: a client that always sends back the next it received sees every entry
//     that matches its filters exactly once, in commit order, whatever the number of
//     replicas recording concurrently. The cursor is a position in this database's
//     timeline: after a restore from an older backup or against another database it may
//     lie ahead of the newest entry, which is refused (400, field after) rather than
//     silently skipping what is recorded up to it.
//   - Why it is exact: entries are followed by seq, and seq order is commit order. SQLite
//     has a single writer, which draws seq and commits before the next one begins. On
//     PostgreSQL each recording transaction takes a transaction-scoped advisory lock (keyed
//     on this schema's audit_entries table) right before its insert and keeps it to its
//     commit, so seq is drawn only after every earlier recorder has committed or rolled
//     back. A reader that sees seq s therefore also sees every entry below s, and each page
//     reads its entries and the head (the newest seq) in one statement, one snapshot.
//
// Tables, in the module's own database (migrations/audit; SQLite, or its own PostgreSQL schema):
//   - audit_entries: one row per recorded event; seq is the local recording order, which is
//     also the commit order (see above): it breaks ties between events of the same
//     millisecond in the list, and is the follow position of GET /api/v1/audit/changes;
//   - inbox: the events this module's handler has processed (platform/inbox).
package audit
