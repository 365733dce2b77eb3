package testenv

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var readOnlyRoleBlock = regexp.MustCompile("(?s)<!-- readonly-role:start -->\\s*```sql\\n(.*?)```\\s*<!-- readonly-role:end -->")

// ReadOnlyRole creates in db the read-only role exactly as the SDK's README (at
// readmePath) documents it, under a unique name, and returns its DSN. The role is
// dropped when the test ends.
func ReadOnlyRole(t testing.TB, db Database, readmePath string) string {
	t.Helper()
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	m := readOnlyRoleBlock.FindSubmatch(readme)
	if m == nil {
		t.Fatalf("%s has no readonly-role SQL block", readmePath)
	}
	role := Unique("sdk_reader_")
	sql := strings.NewReplacer("switchyard_sdk_reader", role, "DATABASE switchyard", "DATABASE "+db.Name).Replace(string(m[1]))
	var statements []string
	for _, s := range strings.Split(sql, ";") {
		var lines []string
		for _, line := range strings.Split(s, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				lines = append(lines, line)
			}
		}
		if s := strings.TrimSpace(strings.Join(lines, "\n")); s != "" {
			statements = append(statements, s)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, db.DSN)
		if err != nil {
			t.Logf("drop role %s: %v", role, err)
			return
		}
		defer func() { _ = conn.Close(ctx) }()
		for _, s := range []string{"DROP OWNED BY " + role, "DROP ROLE IF EXISTS " + role} {
			if _, err := conn.Exec(ctx, s); err != nil {
				t.Logf("%s: %v", s, err)
			}
		}
	})
	Exec(t, db.DSN, statements...)
	return "postgres://" + role + ":change-me@" + PostgresAddr + "/" + db.Name + "?sslmode=disable"
}
