package storagetest

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// contents sums up every table's rows and every sequence's position.
func contents(t *testing.T, databaseURL string) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `
		SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, table := range tables {
		var sum string
		if err := conn.QueryRow(ctx, `SELECT md5(coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '')) FROM `+table+` t`).
			Scan(&sum); err != nil {
			t.Fatal(err)
		}
		out[strings.TrimPrefix(table, "public.")] = sum
	}
	rows, err = conn.Query(ctx, `SELECT 'sequence ' || sequencename, coalesce(last_value::text, 'never called')
		FROM pg_sequences WHERE schemaname NOT LIKE 'pg\_%'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, value string
		if err := rows.Scan(&name, &value); err != nil {
			t.Fatal(err)
		}
		out[name] = value
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func nameOf(t *testing.T, databaseURL string) string {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

func exec(t *testing.T, databaseURL string, sqls ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, sql := range sqls {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// twoCopies returns the migrated template's name and two fresh copies of
// it, dropped when the test ends, with the template's reset plan made.
func twoCopies(t *testing.T) (template, used, fresh string) {
	t.Helper()
	ctx := context.Background()
	server := URL(t)
	template, err := migratedTemplate(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	used = cloneForTest(t, server, template, false)
	fresh = cloneForTest(t, server, template, false)
	if _, err := planFor(ctx, template, fresh); err != nil {
		t.Fatal(err)
	}
	return template, used, fresh
}

func TestAnEmptiedCopyHoldsWhatAFreshCopyHolds(t *testing.T) {
	t.Parallel()
	template, used, fresh := twoCopies(t)
	before := contents(t, fresh)
	if noRows := "d41d8cd98f00b204e9800998ecf8427e"; before["schema_migrations"] == noRows || before["teams"] != noRows {
		t.Fatal("the migrations' own rows are missing from a fresh copy: the comparison below could not tell")
	}
	// Write what a test writes, through the triggers, and change the
	// migrations' own rows and the sequences.
	exec(t, used,
		`INSERT INTO teams (name, manager_email) VALUES ('emptied', 'm@example.com')`,
		`INSERT INTO reps (email, team, position) VALUES ('bo@example.com', 'emptied', 1)`,
		`INSERT INTO leads (external_id, source, owner_email, team, rule, state, handed_off_at, received_at, assigned_at, first_touch_due)
		 VALUES ('emptied-1', 'webinar', 'bo@example.com', 'emptied', 'default', 'notified', now(), now(), now(), now() + interval '4 hours')`,
		`INSERT INTO touches (lead_id, kind, at) SELECT id, 'call', now() FROM leads`,
		`DELETE FROM river_migration WHERE version = (SELECT max(version) FROM river_migration)`,
		`UPDATE schema_migrations SET applied_at = applied_at + interval '1 day'`,
	)
	dirty := contents(t, used)
	for _, table := range []string{"leads", "lead_facts_stale", "touches", "river_migration", "schema_migrations"} {
		if dirty[table] == before[table] {
			t.Fatalf("writing to the copy left %s as it was: the comparison below could not tell", table)
		}
	}

	emptied, err := empty(context.Background(), URL(t), template, nameOf(t, used))
	if err != nil || !emptied {
		t.Fatalf("empty the used copy: %v, %v", emptied, err)
	}
	after := contents(t, used)
	for name, want := range before {
		if after[name] != want {
			t.Errorf("%s after emptying: %s, a fresh copy's: %s", name, after[name], want)
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d tables and sequences after emptying, a fresh copy has %d", len(after), len(before))
	}
}

func TestACopyWhoseSchemaATestChangedIsNotRecycled(t *testing.T) {
	t.Parallel()
	template, used, _ := twoCopies(t)
	exec(t, used, `ALTER TABLE teams ADD COLUMN left_by_a_test text`)
	emptied, err := empty(context.Background(), URL(t), template, nameOf(t, used))
	if emptied || err == nil {
		t.Errorf("a copy with a column the template lacks was emptied for reuse (%v)", err)
	}
}

// Not parallel: it shortens how long a test's connections may take to close.
func TestACopyAClientIsStillConnectedToIsNotRecycled(t *testing.T) {
	template, used, _ := twoCopies(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, used)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	defer func(was time.Duration) { settleTimeout = was }(settleTimeout)
	settleTimeout = 100 * time.Millisecond
	// With SLABOT_TEST_POOL=off nothing is recycled; through the pool, a
	// copy is recycled only once its last client has gone.
	recycled, err := recycle(ctx, URL(t), template, nameOf(t, used))
	if recycled {
		t.Errorf("a copy a client is still connected to was recycled (%v)", err)
	}
}
