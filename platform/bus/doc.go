// Package bus delivers events from a module's outbox to the handlers that consume them,
// in one of two modes that run the very same Handler values:
//
//   - Sync runs every handler of a topic inline, in the caller's goroutine, and returns
//     their errors. The command path uses it for read-your-writes: it answers 2xx only
//     when Deliver returned nil.
//   - Async publishes through a watermill router over an in-process GoChannel, with
//     retry, a poison queue and panic recovery. Deliver returns once every subscriber
//     has acknowledged the message: nil when all processed it, an error naming the
//     handlers whose attempts ended in the poison queue.
//
// In both modes the outbox row stays undelivered until Deliver returns nil, so the
// outbox (not the bus) is the durable queue, and a poisoned event is retried later
// rather than dropped. Handlers must be idempotent (see platform/inbox).
package bus
