// Package httppush carries events from one process's outbox to another process's
// consumers over HTTP: the split deploy's synchronous mode, in which a command pod hands
// each committed event to a read pod and answers its caller only once the read side has
// applied it.
//
// The wire format (version 1):
//
//	POST {base}/internal/v1/topics/{topic}/events
//	Authorization: Bearer {service token}
//	Content-Type: application/json
//	Switchyard-Event-Id: {event id, a UUID; consumers deduplicate on it}
//	Switchyard-Event-Type: {event type, e.g. flag_updated}
//
//	{the event's JSON payload, exactly as the outbox holds it}
//
// The receiver answers 204 once every consumer of the topic in its process applied the
// event (a duplicate is applied once and still answers 204), a problem+json 4xx for a
// request it will never accept (bad token, unknown topic, malformed event), and a 503
// problem when a consumer failed (its store is down, say): retry later.
//
// The sender (Pusher) is a bus.Handler, so the sync deliverer treats the remote consumer
// like a local one. Each call runs under a strict deadline inside a circuit breaker
// (platform/breaker): timeouts, connection failures and 5xx count towards tripping it,
// 4xx never do. A failed or rejected push is returned as bus.RetryLater: the caller's
// write is already committed, it is told the change is not yet visible, and the outbox
// relay delivers the event when the breaker lets a probe through again.
package httppush
