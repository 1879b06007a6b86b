package storagetest_test

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

// queryServer runs one query on the server's own database.
func queryServer(t *testing.T, sql string, args ...any) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, storagetest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var found bool
	if err := conn.QueryRow(ctx, sql, args...).Scan(&found); err != nil {
		t.Fatal(err)
	}
	return found
}

func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	return queryServer(t, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name)
}

func TestNewDatabaseIsMigratedItsOwnAndEmptiedOrDroppedAfterTheTest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var name string
	t.Run("test", func(t *testing.T) {
		first, second := storagetest.NewDB(t), storagetest.NewDB(t)
		pending, err := first.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pending {
			if m.AppliedAt.IsZero() {
				t.Errorf("migration %04d_%s is not applied in a new test database", m.Version, m.Name)
			}
		}
		if _, err := first.Pool().Exec(ctx, `INSERT INTO teams (name, manager_email) VALUES ('only-here', 'm@example.com')`); err != nil {
			t.Fatal(err)
		}
		var seen bool
		if err := second.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM teams WHERE name = 'only-here')`).Scan(&seen); err != nil {
			t.Fatal(err)
		}
		if seen {
			t.Error("a team committed in one test database is seen in another")
		}
		if err := first.Pool().QueryRow(ctx, `SELECT current_database()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !databaseExists(t, name) {
			t.Fatalf("the test database %q is not on the server", name)
		}
	})
	if name == "" {
		t.Fatal("the test database's name was not found")
	}
	// Once its test has ended the database is dropped, or emptied and
	// kept for another test (recycle.go): what the test wrote is gone.
	if databaseExists(t, name) {
		conn, err := pgx.Connect(ctx, databaseURL(t, name))
		if err != nil {
			return // dropped meanwhile
		}
		defer conn.Close(ctx)
		var left bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM teams WHERE name = 'only-here')`).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left {
			t.Errorf("test database %q still holds what its test wrote after the test ended", name)
		}
	}
}

func TestTxIsRolledBackWhenTheTestEnds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lead := func() *engine.Lead {
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		return &engine.Lead{ExternalID: "storagetest-rollback", Source: "webinar", Rule: "default",
			State: engine.StateNew, ReceivedAt: at, HandedOffAt: at}
	}
	t.Run("writes", func(t *testing.T) {
		tx := storagetest.Tx(t)
		if err := tx.CreateLead(ctx, lead()); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.LeadByExternalID(ctx, "storagetest-rollback"); err != nil {
			t.Fatalf("the lead is not there in its own transaction: %v", err)
		}
	})
	t.Run("reads after", func(t *testing.T) {
		tx := storagetest.Tx(t)
		if got, err := tx.LeadByExternalID(ctx, "storagetest-rollback"); engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Errorf("a lead written in an earlier test's transaction: %v, %v; want none", got, err)
		}
	})
}

func TestNewSchemaIsEmptyAndDroppedAfterTheTest(t *testing.T) {
	t.Parallel()
	var schema string
	t.Run("test", func(t *testing.T) {
		schema = storagetest.NewSchema(t)
		if queryServer(t, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = $1)`, schema) {
			t.Errorf("new schema %s has tables", schema)
		}
	})
	if queryServer(t, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema) {
		t.Errorf("schema %s is still there after its test ended", schema)
	}
}

func TestNewDBWithFillsOnceAndGivesEachTestACopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var fills atomic.Int32
	fill := func(ctx context.Context, db *storage.DB) error {
		fills.Add(1)
		_, err := db.Pool().Exec(ctx, `INSERT INTO teams (name, manager_email) VALUES ('filled', 'm@example.com')`)
		return err
	}
	teams := func(db *storage.DB) []string {
		rows, err := db.Pool().Query(ctx, `SELECT name FROM teams ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	first := storagetest.NewDBWith(t, "storagetest: one team named filled", fill)
	second := storagetest.NewDBWith(t, "storagetest: one team named filled", fill)
	if n := fills.Load(); n > 1 {
		t.Errorf("the data was written %d times for one key, want once at most (none when the template was there)", n)
	}
	if _, err := first.Pool().Exec(ctx, `INSERT INTO teams (name, manager_email) VALUES ('first only', 'm@example.com')`); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(teams(first)); got != "[filled first only]" {
		t.Errorf("first copy's teams: %s", got)
	}
	if got := fmt.Sprint(teams(second)); got != "[filled]" {
		t.Errorf("second copy's teams: %s, want only the filled one", got)
	}
}

// databaseURL is the test server's URL with another database.
func databaseURL(t *testing.T, name string) string {
	t.Helper()
	u, err := url.Parse(storagetest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
