// Package breaker guards calls to a remote dependency with a circuit breaker built on
// github.com/sony/gobreaker/v2. The command pod uses it to push events to read pods in
// split mode (an open breaker sends delivery back to the outbox); the SDK follows the
// same semantics for its remote layers.
//
// A Breaker[T] wraps each call in a per-call deadline (CallTimeout). It opens after
// TripAfter consecutive counted failures, rejects calls with an error wrapping ErrOpen
// for the cooldown, then lets HalfOpenProbes calls through: if they all succeed it
// closes, if one fails it re-opens with twice the previous cooldown, up to MaxCooldown.
// A close resets the cooldown to Cooldown. There is no time window: failures stay
// consecutive until a success, however far apart they are.
//
// Which errors count is decided by Settings.Counts (Transient by default): a timeout, a
// refused or reset connection or an HTTP 5xx/429 counts; a bad request does not, and
// neither does any error once the caller has cancelled its context. Every error from fn
// reaches the caller unchanged. An error that does not count is excluded in gobreaker's
// sense (IsExcluded): it is neither a success nor a failure, so it leaves the
// consecutive-failure count where it was. Treating it as a success (IsSuccessful) would
// let a stream of bad requests keep resetting the count and hold a failing upstream
// closed, and would let a 400 close a half-open breaker. An excluded half-open probe
// frees its slot for the next caller. A panic in fn is excluded too, then re-raised.
//
// gobreaker's open period is fixed per breaker, so gobreaker is given Cooldown and the
// Breaker keeps its own deadline for the grown cooldown, set from gobreaker's state hook
// and checked before gobreaker is asked; past it, gobreaker's shorter timeout has run
// out too and it goes half-open as usual.
//
// OnTrip and OnClose (log, count, record an audit event) run after the transition, on
// the goroutine of a Do call, outside every lock, one at a time and in order. Keep them
// short: a Do call that finds a transition pending waits for its hooks.
package breaker
