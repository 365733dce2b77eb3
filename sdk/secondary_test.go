package sdk_test

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/sdk"
	"github.com/switchyardhq/switchyard/sdk/internal/testenv"
)

// TestSecondaryReadOnlyRole runs Switchyard with its evaluation module on a throwaway
// PostgreSQL database, and reads it through the documented read-only role when the
// primary is down.
func TestSecondaryReadOnlyRole(t *testing.T) {
	db := testenv.NewDatabase(t)
	srv := testenv.StartServer(t, serverBin, "SWITCHYARD_EVALUATION_DSN="+db.DSN)
	srv.PutFlag("new-checkout", boolFlag)
	srv.PutFlag("pro", proFlag)
	srv.PutFlag("off-flag", boolFlag)
	srv.SetState("off-flag", "DISABLED")
	srv.PutFlag("gone", boolFlag)
	srv.Archive("gone")
	dsn := testenv.ReadOnlyRole(t, db, "README.md")

	// The role reads and cannot write.
	ctx := ctxT(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect as the read-only role: %v", err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM evaluation.evaluation_flags").Scan(&n); err != nil || n != 4 {
		t.Fatalf("read as the read-only role: %d rows, %v; want 4", n, err)
	}
	_, err = conn.Exec(ctx, "UPDATE evaluation.evaluation_flags SET archived = true")
	if err == nil || !strings.Contains(err.Error(), "read-only") && !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("write as the read-only role: %v; want it refused", err)
	}
	_ = conn.Close(ctx)

	proxy := testenv.StartProxy(t, srv.Addr())
	c := newClient(t, sdk.Options{
		BaseURL:   proxy.URL(),
		Cache:     sdk.CacheOptions{Disabled: true},
		Secondary: sdk.SecondaryOptions{PostgresDSN: dsn},
	})
	user := map[string]any{"targetingKey": "u1", "plan": "pro"}
	expect(t, "primary up", c.Boolean(ctx, "new-checkout", false, user), true, ofrepv1.ReasonStatic, sdk.SourcePrimary)
	proxy.SetMode(testenv.Down)
	tests := []struct {
		key        string
		def, value bool
		reason     string
		code       string
	}{
		{"new-checkout", false, true, ofrepv1.ReasonStatic, ""},
		{"pro", false, true, ofrepv1.ReasonTargetingMatch, ""},
		{"off-flag", true, true, ofrepv1.ReasonDisabled, ""},
		{"gone", true, true, sdk.ReasonError, ofrepv1.ErrorFlagNotFound},
		{"never-existed", false, false, sdk.ReasonError, ofrepv1.ErrorFlagNotFound},
	}
	for _, tt := range tests {
		r := c.Boolean(ctx, tt.key, tt.def, user)
		expect(t, "primary down: "+tt.key, r, tt.value, tt.reason, sdk.SourceSecondary)
		if r.ErrorCode != tt.code {
			t.Errorf("%s: error code %q, want %q", tt.key, r.ErrorCode, tt.code)
		}
	}
	if got := c.BreakerState(sdk.SourceSecondary); got != sdk.BreakerClosed {
		t.Errorf("secondary breaker = %s, want closed", got)
	}
}
