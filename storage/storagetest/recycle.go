package storagetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// A test's migrated database is recycled when the test ends, not dropped:
// emptied back to what the template holds, checked to have the template's
// schema, and listed on the server for the next test to take. Copying the
// template and dropping the copy costs the server about 0.2 s of CPU a
// test; emptying takes a few milliseconds, and the next test finds the
// session pool's sessions to that database warm.
//
// What "back to the template" means is worked out by each test binary,
// from the first fresh copy it makes of a template (a reset plan): every table is emptied, the rows the
// migrations wrote (their own bookkeeping, say) are written back, and
// every sequence is set back. A database is recycled only when no client
// is connected to it any more and its schema (tables, columns, functions,
// triggers, settings) is the template's afterwards; any other is dropped.
// Recycling needs the session pool (it is how a test's last connection is
// known to have closed): with SLABOT_TEST_POOL=off every database is
// dropped, as before.
//
// The list lives on the server, in its own database, so that test binaries
// running at once, and later runs against the same server, share it; a
// server kept between runs keeps as many spare databases as tests ran at
// once.

// resetPlan empties a database copied from a template back to the
// template's state.
type resetPlan struct {
	sql         string // one transaction
	fingerprint string // of the schema, as fingerprintSQL computes it
}

// plans caches, per template, the plan this binary loaded or made.
var plans sync.Map // template name → *resetPlan

// fingerprintSQL sums up a database's schema: its namespaces, relations,
// columns, functions, triggers and settings. A test that changed any of
// them leaves a database that is not the template's, which is dropped.
const fingerprintSQL = `
WITH user_namespaces AS (
	SELECT oid, nspname FROM pg_namespace
	WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'
)
SELECT md5(coalesce(string_agg(item, E'\n' ORDER BY item), '')) FROM (
	SELECT 'namespace ' || nspname FROM user_namespaces
	UNION ALL
	SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text
	FROM pg_class c JOIN user_namespaces n ON n.oid = c.relnamespace
	UNION ALL
	SELECT 'column ' || n.nspname || '.' || c.relname || '.' || a.attname || ' ' ||
		format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
	FROM pg_attribute a
	JOIN pg_class c ON c.oid = a.attrelid
	JOIN user_namespaces n ON n.oid = c.relnamespace
	LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	WHERE a.attnum > 0 AND NOT a.attisdropped
	UNION ALL
	SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') ' || md5(p.prosrc)
	FROM pg_proc p JOIN user_namespaces n ON n.oid = p.pronamespace
	UNION ALL
	SELECT 'trigger ' || c.relname || '.' || t.tgname || ' ' || t.tgenabled::text
	FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN user_namespaces n ON n.oid = c.relnamespace
	WHERE NOT t.tgisinternal
	UNION ALL
	SELECT 'setting ' || array_to_string(setconfig, ',')
	FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
) AS catalogue(item)`

// makeResetPlanOf works out the plan from the database at databaseURL, a
// fresh copy of the template.
func makeResetPlanOf(ctx context.Context, databaseURL string) (*resetPlan, error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return makeResetPlan(ctx, conn)
}

// makeResetPlan works out the plan from a fresh copy of the template.
func makeResetPlan(ctx context.Context, conn *pgx.Conn) (*resetPlan, error) {
	var matviews int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_matviews`).Scan(&matviews); err != nil {
		return nil, err
	}
	if matviews > 0 {
		return nil, errors.New("the template has materialized views, which emptying would not refresh")
	}
	rows, err := conn.Query(ctx, `
		SELECT format('%I.%I', n.nspname, c.relname),
			(SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
			 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema'
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("list the tables: %w", err)
	}
	type table struct{ name, columns string }
	tables, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (table, error) {
		var t table
		return t, row.Scan(&t.name, &t.columns)
	})
	if err != nil {
		return nil, fmt.Errorf("list the tables: %w", err)
	}
	var b strings.Builder
	// Replica mode fires no triggers, foreign keys' included: the tables
	// are emptied and the template's rows written back as they were.
	b.WriteString("BEGIN;\nSET LOCAL session_replication_role = replica;\n")
	for _, t := range tables {
		fmt.Fprintf(&b, "DELETE FROM %s;\n", t.name)
	}
	for _, t := range tables {
		var rowsJSON *string
		if err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT json_agg(t)::text FROM %s t`, t.name)).Scan(&rowsJSON); err != nil {
			return nil, fmt.Errorf("read the rows of %s: %w", t.name, err)
		}
		if rowsJSON == nil {
			continue
		}
		fmt.Fprintf(&b, "INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM json_populate_recordset(NULL::%s, %s);\n",
			t.name, t.columns, t.columns, t.name, quoteLiteral(*rowsJSON))
	}
	seqs, err := conn.Query(ctx, `
		SELECT format('SELECT setval(%L, %s, %s);', format('%I.%I', schemaname, sequencename),
			coalesce(last_value, start_value), CASE WHEN last_value IS NULL THEN 'false' ELSE 'true' END)
		FROM pg_sequences WHERE schemaname NOT LIKE 'pg\_%' AND schemaname <> 'information_schema'
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("list the sequences: %w", err)
	}
	setvals, err := pgx.CollectRows(seqs, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list the sequences: %w", err)
	}
	for _, s := range setvals {
		b.WriteString(s + "\n")
	}
	b.WriteString("COMMIT;")
	plan := &resetPlan{sql: b.String()}
	if err := conn.QueryRow(ctx, fingerprintSQL).Scan(&plan.fingerprint); err != nil {
		return nil, fmt.Errorf("fingerprint the schema: %w", err)
	}
	return plan, nil
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// recycleTables creates the server's list of spare databases, once per
// binary.
var recycleTables = sync.OnceValue(func() error {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	return underServerLock(ctx, serverURL(), func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `
			CREATE TABLE IF NOT EXISTS storagetest_spare_databases (
				name text PRIMARY KEY,
				template text NOT NULL,
				owner text NOT NULL,
				freed_at timestamptz NOT NULL DEFAULT now())`)
		return err
	})
})

// serverURL is the test server's URL as the binary reaches it (through the
// session pool when there is one).
func serverURL() string {
	if p, _ := sessionPool(); p != nil {
		return p.URL
	}
	return os.Getenv("TEST_DATABASE_URL")
}

// binaryID tells this binary's spare databases from other binaries': its
// session pool holds warm sessions to its own.
var binaryID = sync.OnceValue(func() string { return fmt.Sprintf("%d-%s", os.Getpid(), randomName("")) })

// recycling says whether databases are recycled: only through the pool.
func recycling() bool {
	p, _ := sessionPool()
	return p != nil && recycleTables() == nil
}

// takeSpare takes a spare copy of template off the server's list, this
// binary's own first, or returns "" when there is none.
func takeSpare(ctx context.Context, server, template string) (string, error) {
	if !recycling() {
		return "", nil
	}
	var name string
	err := onServer(ctx, server, func(conn *pgx.Conn) error {
		err := conn.QueryRow(ctx, `
			DELETE FROM storagetest_spare_databases WHERE name = (
				SELECT s.name FROM storagetest_spare_databases s
				WHERE s.template = $1 AND EXISTS (SELECT 1 FROM pg_database d WHERE d.datname = s.name)
				ORDER BY s.owner = $2 DESC, s.freed_at DESC
				LIMIT 1 FOR UPDATE SKIP LOCKED)
			RETURNING name`, template, binaryID()).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	return name, err
}

// planFor returns this binary's reset plan of template, making it the
// first time from the database at freshURL, just copied from template. It
// returns nil when there is none yet and freshURL is "".
func planFor(ctx context.Context, template, freshURL string) (*resetPlan, error) {
	if p, ok := plans.Load(template); ok {
		return p.(*resetPlan), nil
	}
	if freshURL == "" {
		return nil, nil
	}
	plan, err := makeResetPlanOf(ctx, freshURL)
	if err != nil {
		return nil, fmt.Errorf("work out how to empty a copy of %s: %w", template, err)
	}
	actual, _ := plans.LoadOrStore(template, plan)
	return actual.(*resetPlan), nil
}

// hasPlan says whether this binary knows how to empty copies of template.
func hasPlan(template string) bool {
	_, ok := plans.Load(template)
	return ok
}

// settleTimeout is how long a finished test's connections may take to
// close before its database is dropped rather than recycled.
var settleTimeout = 10 * time.Second

// recycle empties the database name, a copy of template whose test has
// ended, and lists it as spare. It reports whether it did; a database it
// did not recycle is the caller's to drop.
func recycle(ctx context.Context, server, template, name string) (bool, error) {
	if !recycling() {
		return false, nil
	}
	emptied, err := empty(ctx, server, template, name)
	if err != nil || !emptied {
		return false, err
	}
	err = onServer(ctx, server, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, `INSERT INTO storagetest_spare_databases (name, template, owner) VALUES ($1, $2, $3)`,
			name, template, binaryID())
		return err
	})
	return err == nil, err
}

// empty takes the database name, a copy of template, back to the
// template's state once no client is connected to it. It reports false
// when it cannot: a client still connected, a schema the test changed.
func empty(ctx context.Context, server, template, name string) (bool, error) {
	plan, err := planFor(ctx, template, "")
	if err != nil || plan == nil {
		return false, err
	}
	if p, _ := sessionPool(); p != nil && !p.Settle(name, settleTimeout) {
		return false, fmt.Errorf("a connection to it was still open %v after the test ended", settleTimeout)
	}
	u, err := databaseURLOf(server, name)
	if err != nil {
		return false, err
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return false, fmt.Errorf("connect to empty %s: %w", name, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, plan.sql); err != nil {
		return false, fmt.Errorf("empty %s: %w", name, err)
	}
	var fingerprint string
	if err := conn.QueryRow(ctx, fingerprintSQL).Scan(&fingerprint); err != nil {
		return false, fmt.Errorf("fingerprint %s: %w", name, err)
	}
	if fingerprint != plan.fingerprint {
		return false, errors.New("the test changed its schema")
	}
	return true, nil
}

// dropSpares drops the spare copies of templates other than keep: the
// copies of an older schema, which no test will take again.
func dropSpares(ctx context.Context, conn *pgx.Conn, keep string) error {
	rows, err := conn.Query(ctx, `DELETE FROM storagetest_spare_databases WHERE template <> $1 RETURNING name`, keep)
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, name := range names {
		forgetSessions(name)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			return err
		}
	}
	return nil
}
