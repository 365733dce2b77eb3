package ofrep

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/modules/evaluation/internal/snapshot"
)

// evaluatorVersion is part of every ETag: bump it whenever the same snapshot and
// context can evaluate differently (the targeting engine landing, say), so that clients
// do not keep results cached under an ETag the new code would not produce.
const evaluatorVersion = "2" // 2: targeting rules are evaluated

const (
	headerETag        = "ETag"
	headerIfNoneMatch = "If-None-Match"
)

func (a *API) evaluateFlags(c echo.Context) error {
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
		return c.Blob(http.StatusBadRequest, echo.MIMEApplicationJSON,
			encode(ofrepv1.GeneralError{ErrorCode: rerr.code, ErrorDetails: rerr.details}))
	}

	etag := a.etag(snap.Revision, body.Bytes())
	c.Response().Header().Set(headerETag, etag)
	if noneMatch(c.Request().Header.Get(headerIfNoneMatch), etag) {
		return c.NoContent(http.StatusNotModified)
	}

	flags := snap.Flags()
	req := snapshot.NewRequest(evalCtx, a.now())
	out := a.buffers.get()
	defer a.buffers.put(out)
	out.WriteString(`{"flags":[`)
	for i, flag := range flags {
		if i > 0 {
			out.WriteByte(',')
		}
		res := flag.Evaluate(req)
		a.observed(res.Reason, res.ErrorCode)
		out.Write(res.Body)
	}
	out.WriteByte(']')
	out.Write(a.streamsSuffix)
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, out.Bytes())
}

// etag identifies one bulk result before it is computed: the result depends only on the
// environment's revision, the request (its context) and the evaluator's code.
func (a *API) etag(revision int64, body []byte) string {
	h := sha256.New()
	h.Write([]byte(evaluatorVersion))
	h.Write([]byte{0})
	h.Write([]byte(a.environment))
	h.Write([]byte{0})
	h.Write(body)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return `"` + strconv.FormatInt(revision, 10) + "-" + hex.EncodeToString(sum[:12]) + `"`
}

// noneMatch reports whether an If-None-Match header matches etag: a comma-separated list
// of entity tags, weak ones (W/) compared weakly, or "*".
func noneMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		tag = strings.TrimPrefix(tag, "W/")
		if tag == etag || `"`+tag+`"` == etag {
			return true
		}
	}
	return false
}
