package httppush

import (
	"context"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/platform/apperr"
	"github.com/switchyardhq/switchyard/platform/bus"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/outbox"
)

// ProblemNotApplied is the problem type of a push the receiver's consumers failed to apply.
const ProblemNotApplied = httpx.ProblemTypeBase + "push-not-applied"

// Routes registers the receiving end: pushed events, authenticated by auth, are handed to
// d (the receiving process's inline deliverer) exactly as the sender's relay would.
func Routes(g *echo.Group, auth echo.MiddlewareFunc, d bus.Deliverer, logger *slog.Logger) {
	g.POST(RoutePath, func(c echo.Context) error { return receive(c, d, logger) }, auth)
}

func receive(c echo.Context, d bus.Deliverer, logger *slog.Logger) error {
	topic := c.Param("topic")
	if !d.Consumes(topic) {
		return apperr.New(apperr.NotFound, "no consumer of topic %q runs in this process", topic)
	}
	req := c.Request()
	if mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEApplicationJSON {
		return apperr.InvalidField("header:Content-Type", "Content-Type must be application/json, got %q", req.Header.Get(echo.HeaderContentType))
	}
	id := req.Header.Get(HeaderEventID)
	if _, err := uuid.Parse(id); err != nil {
		return apperr.InvalidField("header:"+HeaderEventID, "%s must be the event's UUID, got %q", HeaderEventID, id)
	}
	eventType := req.Header.Get(HeaderEventType)
	if !eventTypeValid(eventType) {
		return apperr.InvalidField("header:"+HeaderEventType, "%s must be 1-100 letters, digits, '_', '.' or '-', got %q", HeaderEventType, eventType)
	}
	body, err := httpx.ReadBody(c)
	if err != nil {
		return err
	}
	if !json.Valid(body) {
		return apperr.New(apperr.Invalid, "the event payload is not valid JSON")
	}
	msg := outbox.NewMessage(id, eventType, body)
	// The sender may give up (its deadline) while the consumers work; they finish anyway
	// and the inbox makes the sender's later retry a no-op.
	ctx := context.WithoutCancel(req.Context())
	msg.SetContext(ctx)
	if err := d.Deliver(ctx, topic, msg); err != nil {
		failed := bus.FailedHandlers(err)
		logger.WarnContext(ctx, "pushed event not applied", "event_id", id, "event_type", eventType, "failed_consumers", failed, "err", err)
		return httpx.WriteProblem(c, httpx.Problem{
			Type: ProblemNotApplied, Title: "Event not applied", Status: http.StatusServiceUnavailable,
			Detail:     "consumers " + strings.Join(failed, ", ") + " could not apply the event; retry later",
			Extensions: map[string]any{"failedConsumers": failed},
		})
	}
	return c.NoContent(http.StatusNoContent)
}
