package httpx_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchyardhq/switchyard/platform/apperr"
	"github.com/switchyardhq/switchyard/platform/httpx"
)

func TestProblemForALostDatabaseIsARetryable503(t *testing.T) {
	terminated := &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}
	cases := []struct {
		name       string
		err        error
		wantStatus int
		wantDetail string
	}{
		{"unclassified lost connection", fmt.Errorf("insert flag: %w", terminated), http.StatusServiceUnavailable, httpx.DatabaseUnavailableDetail},
		{"internal wrapping a lost connection", &apperr.Error{Kind: apperr.Internal, Detail: "save", Err: terminated}, http.StatusServiceUnavailable, httpx.DatabaseUnavailableDetail},
		{"classified kind wins", &apperr.Error{Kind: apperr.Conflict, Detail: "version moved", Err: terminated}, http.StatusConflict, "version moved"},
		{"unique violation stays internal", fmt.Errorf("insert: %w", &pgconn.PgError{Code: "23505"}), http.StatusInternalServerError, "internal error; see the server log"},
		{"plain error stays internal", errors.New("boom"), http.StatusInternalServerError, "internal error; see the server log"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := httpx.ProblemFor(tc.err)
			if p.Status != tc.wantStatus || p.Detail != tc.wantDetail {
				t.Fatalf("ProblemFor(%v) = %d %q, want %d %q", tc.err, p.Status, p.Detail, tc.wantStatus, tc.wantDetail)
			}
		})
	}
}
