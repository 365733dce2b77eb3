// Package audit is the audit module: a READ module that keeps the timeline of every flag
// change (who, when, why, before and after) and serves it to administrators.
//
// Events consumed: every flagsv1.FlagChanged on flagsv1.Topic (flag created, updated,
// state changed, archived), under the consumer name flagsv1.ConsumerAuditTimeline. Each
// event is recorded once, idempotently, in the same transaction as its inbox claim; an
// event type this build does not know is still recorded, under its raw type as action.
// The module publishes no events.
//
// HTTP: GET /api/v1/audit (admin token) lists the timeline newest first, filtered by
// environment, flag, actor and time range, with keyset paging through an opaque cursor.
//
// Tables, in the module's own database (migrations/audit; SQLite, or its own PostgreSQL schema):
//   - audit_entries: one row per recorded event; seq is the local recording order that
//     breaks ties between events of the same millisecond;
//   - inbox: the events this module's handler has processed (platform/inbox).
package audit
