// Package ofrep serves the OpenFeature Remote Evaluation Protocol's core endpoints over
// the in-memory snapshots: no database access and no definition parsing per request.
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
	buffers     bufferPool
}

// New returns the API evaluating in environment; now is the clock $flagd.timestamp reads.
func New(holder *snapshot.Holder, environment string, now func() time.Time) *API {
	if holder == nil || environment == "" || now == nil {
		panic("ofrep: nil holder or clock, or empty environment")
	}
	return &API{
		holder:      holder,
		environment: environment,
		now:         now,
		notReady:    encode(ofrepv1.GeneralError{ErrorCode: ofrepv1.ErrorGeneral, ErrorDetails: "evaluation snapshot is not loaded yet"}),
	}
}

// Routes registers the single and bulk evaluation endpoints on g.
func (a *API) Routes(g *echo.Group) {
	g.POST(ofrepv1.PathEvaluateFlag, a.evaluateFlag)
	g.POST(ofrepv1.PathEvaluateFlags, a.evaluateFlags)
}

func (a *API) evaluateFlag(c echo.Context) error {
	key := flagKey(c)
	snap, loaded := a.holder.Get(a.environment)
	if !loaded {
		return a.unavailable(c)
	}
	body, err := a.readBody(c)
	if err != nil {
		return err
	}
	defer a.buffers.put(body)

	evalCtx, rerr := parseContext(body.Bytes())
	if rerr != nil {
		return c.Blob(http.StatusBadRequest, echo.MIMEApplicationJSON, snapshot.Failure(key, rerr.code, rerr.details))
	}
	flag, found := snap.Lookup(key)
	if !found {
		return c.Blob(http.StatusNotFound, echo.MIMEApplicationJSON, snapshot.Failure(key, ofrepv1.ErrorFlagNotFound,
			fmt.Sprintf("flag '%s' not found in environment '%s'", key, a.environment)))
	}
	res := flag.Evaluate(snapshot.NewRequest(evalCtx, a.now()))
	status := http.StatusOK
	if res.ErrorCode != "" {
		status = http.StatusBadRequest // as flagd: every evaluation error but FLAG_NOT_FOUND is a 400
	}
	return c.Blob(status, echo.MIMEApplicationJSON, res.Body)
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
