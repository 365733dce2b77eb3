// Package ofrephttp is the HTTP transport of the OpenFeature Remote Evaluation Protocol as
// Switchyard's clients speak it: one POST per single evaluation, one per bulk evaluation,
// the change notifications (Watch, an SSE reader per OFREP ADR-0008), Switchyard's
// definitions snapshot for local evaluation (FetchSnapshot), and typed errors that say
// what went wrong. The Go SDK builds its cache, circuit breakers
// and fallbacks on top of it; this package does none of that, it never retries and keeps
// no state between calls.
//
// Results, by HTTP status:
//
//   - 200: the evaluation (or, in bulk, every flag's). A success may carry no Value: that is
//     OFREP's "code default" (the flag is DISABLED, or its default variant is null), and the
//     caller must use the default written in its own code. A JSON null value is reported
//     as no Value too.
//   - 304 (bulk only, after If-None-Match): BulkResult.NotModified; the caller keeps the
//     results it cached under that ETag.
//   - 400 and 404 with an OFREP error body: *EvaluationError (FLAG_NOT_FOUND,
//     INVALID_CONTEXT, PARSE_ERROR, GENERAL, ...). These are answers, not outages: a circuit
//     breaker must not count them.
//   - anything else (401, 403, 429, 5xx, or a 400/404 without an OFREP error body, such as a
//     proxy's page or a wrong base URL): *HTTPError, with the status and the start of the
//     body.
//
// Both error types have StatusCode() int, so a breaker can decide what counts as a failure
// from the status alone; errors.As tells them apart. Transport failures (connection
// refused, the context's deadline) are returned wrapped as they come from net/http, and a
// response body over MaxResponseBytes is an error, not a truncated result.
//
// Change notifications: a 200 lists the server's event streams (BulkResult.EventStreams;
// StreamURL resolves one). Watch holds one open and calls back on every refetchEvaluation
// event until the stream ends, then returns so that the caller reconnects with jittered
// backoff; the server sends the current etag first on every connection. A refetch that
// an event triggered goes through EvaluateFlagsOnChange (the ADR's flagConfigEtag and
// flagConfigLastModified query parameters) or FetchSnapshot; the event's etag equals the
// snapshot's ETag of the same revision, so a client holding that snapshot skips it.
//
// The package imports only the standard library and contracts (ofrepv1, snapshotv1), so
// that an extracted service or the SDK (its own Go module) can use it without the monolith.
package ofrephttp
