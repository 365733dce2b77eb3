// Package ofrep serves the OpenFeature Remote Evaluation Protocol's core endpoints over
// the in-memory snapshots, no database access and no definition parsing per request, and
// its change notifications (ADR-0008: eventStreams in every success, an SSE stream).
// Responses use OFREP's JSON shapes (not problem+json) so that any OFREP provider can
// read them; only transport-level failures (body too large) are problems.
package ofrep

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/modules/evaluation/internal/snapshot"
)

// retryAfterSeconds is what a client is told to wait while snapshots load.
const retryAfterSeconds = "1"

// API evaluates flags of one environment.
type API struct {
	holder      *snapshot.Holder
	environment string
	now         func() time.Time
	notReady    []byte
	behind      []byte
	buffers     bufferPool

	// streamsSuffix closes a successful evaluation's JSON object with the eventStreams
	// that point at this API's change notifications: `,"eventStreams":[...]}`.
	streamsSuffix []byte
	streams       *streams
	catchUp       *catchUp
	observe       func(reason, errorCode string) // nil: nobody listens
}

// New returns the API evaluating in environment; now is the clock $flagd.timestamp reads.
func New(holder *snapshot.Holder, environment string, now func() time.Time, opts Options) *API {
	if holder == nil || environment == "" || now == nil {
		panic("ofrep: nil holder or clock, or empty environment")
	}
	opts = opts.withDefaults()
	streams, err := json.Marshal([]ofrepv1.EventStream{{
		Type:     ofrepv1.EventStreamTypeSSE,
		Endpoint: &ofrepv1.EventStreamEndpoint{RequestURI: ofrepv1.PathEventStream},
	}})
	if err != nil {
		panic(fmt.Sprintf("ofrep: encode event streams: %v", err))
	}
	return &API{
		holder:      holder,
		environment: environment,
		now:         now,
		notReady:    encode(ofrepv1.GeneralError{ErrorCode: ofrepv1.ErrorGeneral, ErrorDetails: "evaluation snapshot is not loaded yet"}),
		behind: encode(ofrepv1.GeneralError{ErrorCode: ofrepv1.ErrorGeneral,
			ErrorDetails: "this server has not yet reached the flag configuration the change event announced; retry"}),
		streamsSuffix: append(append([]byte(`,"eventStreams":`), streams...), '}'),
		streams:       newStreams(opts),
		catchUp:       &catchUp{fn: opts.CatchUp, minGap: catchUpMinGap, timeout: catchUpTimeout},
		observe:       opts.Observe,
	}
}

// Routes registers the single and bulk evaluation endpoints and the change notifications
// on g.
func (a *API) Routes(g *echo.Group) {
	g.POST(ofrepv1.PathEvaluateFlag, a.evaluateFlag)
	g.POST(ofrepv1.PathEvaluateFlags, a.evaluateFlags)
	g.GET(ofrepv1.PathEventStream, a.eventStream)
}

// snapshotFor returns the snapshot to answer c from: the current one, unless c is a
// refetch that a change event triggered (flagConfigEtag) naming a newer revision than
// this replica holds; then the replica catches up from its store first, and when it
// still cannot, ok is false and the 503 is written. The query is parsed only when the
// request has one, so the usual request pays nothing here.
func (a *API) snapshotFor(c echo.Context, snap *snapshot.Snapshot) (_ *snapshot.Snapshot, ok bool, err error) {
	if c.Request().URL.RawQuery == "" {
		return snap, true, nil
	}
	want, named := snapshot.ParseETag(a.environment, c.QueryParam(ofrepv1.QueryFlagConfigETag))
	if !named || want <= snap.Revision {
		return snap, true, nil
	}
	a.catchUp.wait(c.Request().Context())
	if cur, _ := a.holder.Get(a.environment); cur.Revision >= want {
		return cur, true, nil
	}
	c.Response().Header().Set(echo.HeaderRetryAfter, retryAfterSeconds)
	return nil, false, c.Blob(http.StatusServiceUnavailable, echo.MIMEApplicationJSON, a.behind)
}

// success writes an evaluation's pre-encoded JSON object with the event streams added,
// assembled in a pooled buffer: one write, nothing allocated.
func (a *API) success(c echo.Context, body []byte) error {
	out := a.buffers.get()
	defer a.buffers.put(out)
	out.Write(body[:len(body)-1])
	out.Write(a.streamsSuffix)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, out.Bytes())
}

func (a *API) evaluateFlag(c echo.Context) error {
	key := flagKey(c)
	snap, loaded := a.holder.Get(a.environment)
	if !loaded {
		return a.unavailable(c)
	}
	snap, ok, err := a.snapshotFor(c, snap)
	if !ok {
		return err
	}
	body, err := a.readBody(c)
	if err != nil {
		return err
	}
	defer a.buffers.put(body)

	evalCtx, rerr := parseContext(body.Bytes())
	if rerr != nil {
		a.observed(ofrepv1.ReasonError, rerr.code)
		return c.Blob(http.StatusBadRequest, echo.MIMEApplicationJSON, snapshot.Failure(key, rerr.code, rerr.details))
	}
	flag, found := snap.Lookup(key)
	if !found {
		a.observed(ofrepv1.ReasonError, ofrepv1.ErrorFlagNotFound)
		return c.Blob(http.StatusNotFound, echo.MIMEApplicationJSON, snapshot.Failure(key, ofrepv1.ErrorFlagNotFound,
			fmt.Sprintf("flag '%s' not found in environment '%s'", key, a.environment)))
	}
	res := flag.Evaluate(snapshot.NewRequest(evalCtx, a.now()))
	a.observed(res.Reason, res.ErrorCode)
	if res.ErrorCode != "" {
		// As flagd: every evaluation error but FLAG_NOT_FOUND is a 400.
		return c.Blob(http.StatusBadRequest, echo.MIMEApplicationJSON, res.Body)
	}
	return a.success(c, res.Body)
}

// observed tells the observer, if any, of one flag evaluation's outcome.
func (a *API) observed(reason, errorCode string) {
	if a.observe != nil {
		a.observe(reason, errorCode)
	}
}

func (a *API) unavailable(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderRetryAfter, retryAfterSeconds)
	return c.Blob(http.StatusServiceUnavailable, echo.MIMEApplicationJSON, a.notReady)
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("ofrep: encode %T: %v", v, err))
	}
	return b
}
