// Package metrics is Switchyard's Prometheus instrumentation: a registry with the Go
// runtime, process and build-info collectors (NewRegistry), the /metrics handler
// (Handler), request metrics for echo labelled by route template (HTTP), and collectors
// for the platform's moving parts: an outbox's backlog read on each scrape
// (OutboxBacklog), a circuit breaker's state and trips (Breaker), and the evaluation
// read path (Evaluations, NewEventStreams, NewSnapshotRevision).
//
// Nothing here is global: every constructor takes the prometheus.Registerer to register
// with, and the composition root passes one *prometheus.Registry around. Label values
// are bounded by construction (route templates, never raw URLs; known methods; status
// codes), so a scan of random URLs cannot grow the series count.
//
// Every metric is named switchyard_<subsystem>_<name>; the full list, with help texts,
// is what GET /metrics shows.
package metrics

// namespace prefixes every metric defined here.
const namespace = "switchyard"
