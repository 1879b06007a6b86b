// Package storagetest gives tests a real, migrated PostgreSQL database.
//
// The schema is migrated once per server, into a template database, and
// every test gets a copy of its own: NewDB and NewDatabase clone the
// template (a file copy, a fraction of a second, where running the
// migrations takes seconds) and drop the clone when the test ends, so a
// test may commit, run concurrent transactions, LISTEN and start job
// workers without seeing any other test's rows. A test that needs no
// commit takes Tx instead: a transaction that is rolled back when the test
// ends, in a database its package shares. NewDBWith does the same for a
// database holding data that takes long to write (a generated history):
// written once into a template of its own, copied for each test. NewSchema
// and Open give an empty, unmigrated schema, for tests of the migrations
// themselves.
package storagetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/slabot/slabot/migrations"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/pgpool"
)

// URL returns the URL of the test server, TEST_DATABASE_URL, as reached
// through the test binary's session pool (see pool). A test that needs a
// database fails without one: `make test` starts a throwaway server, and a
// skipped storage test would hide exactly the bugs it exists to find.
func URL(tb testing.TB) string {
	tb.Helper()
	if os.Getenv("TEST_DATABASE_URL") == "" {
		tb.Fatal("TEST_DATABASE_URL is not set: run `make test`, which starts a throwaway PostgreSQL, " +
			"or point TEST_DATABASE_URL at a server where you may create and drop databases and schemas")
	}
	if _, err := sessionPool(); err != nil {
		tb.Fatalf("start the test binary's session pool: %v", err)
	}
	return serverURL()
}

// sessionPool is the test binary's pool of server sessions in front of the
// test server: every test opens its own connections (a bot per test opens
// several), and starting a server session costs its process tens of
// milliseconds of CPU on the 2-core test machines, so each is kept and
// handed, reset, to the next connection to the same database. It lives as
// long as the test binary. SLABOT_TEST_POOL=off connects to the server
// directly.
var sessionPool = sync.OnceValues(func() (*pgpool.Pool, error) {
	if os.Getenv("SLABOT_TEST_POOL") == "off" {
		return nil, nil
	}
	return pgpool.Start(os.Getenv("TEST_DATABASE_URL"))
})

// forgetSessions closes the pool's sessions of a database about to be
// dropped.
func forgetSessions(database string) {
	if p, _ := sessionPool(); p != nil {
		p.Forget(database)
	}
}

// setupTimeout bounds each piece of setting up or tearing down a test's
// database; building the template, the longest, takes a few seconds.
const setupTimeout = 2 * time.Minute

// NewSchema creates an empty schema with a random name in the server's own
// database and drops it when the test ends. It returns the schema's name.
func NewSchema(tb testing.TB) string {
	tb.Helper()
	url := URL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(ctx)
	schema := randomName("test_")
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Errorf("connect to drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// Open connects to a fresh, empty schema without migrating it.
func Open(tb testing.TB) *storage.DB {
	tb.Helper()
	schema := NewSchema(tb)
	db, err := storage.Open(context.Background(), URL(tb), storage.Options{Schema: schema, MaxConns: 30})
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(db.Close)
	return db
}

// NewDB returns a migrated database of the test's own, dropped when the
// test ends.
func NewDB(tb testing.TB) *storage.DB {
	tb.Helper()
	db, err := storage.Open(context.Background(), NewDatabase(tb), storage.Options{MaxConns: 30})
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(db.Close)
	return db
}

// NewDatabase creates a migrated database of the test's own, a copy of the
// server's template, and drops it when the test ends (closing whatever is
// still connected to it). It returns the database's URL, for a test that
// opens it its own way or hands it to a slabot process.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	server := URL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	template, err := migratedTemplate(ctx, server)
	if err != nil {
		tb.Fatalf("prepare the migrated template database: %v", err)
	}
	return cloneForTest(tb, server, template, true)
}

// cloneForTest copies template into a database with a random name, or,
// when recyclable is set, takes a spare copy (see recycle.go). When the test
// ends the database is recycled, or dropped. It returns the database's URL.
func cloneForTest(tb testing.TB, server, template string, recyclable bool) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	var name string
	if recyclable && hasPlan(template) {
		spare, err := takeSpare(ctx, server, template)
		if err != nil {
			tb.Fatalf("take a spare test database: %v", err)
		}
		name = spare
	}
	if name == "" {
		name = randomName("test_")
		if err := onServer(ctx, server, func(conn *pgx.Conn) error { return cloneOn(ctx, conn, template, name) }); err != nil {
			tb.Fatalf("create test database: %v", err)
		}
		if recyclable && recycling() && !hasPlan(template) {
			// The binary's first fresh copy of a template tells how to
			// empty the others; copies of older templates are not taken
			// again.
			if _, err := planFor(ctx, template, databaseURL(tb, server, name)); err != nil {
				tb.Fatalf("prepare to recycle test databases: %v", err)
			}
			if err := onServer(ctx, server, func(conn *pgx.Conn) error { return dropSpares(ctx, conn, template) }); err != nil {
				tb.Fatalf("drop the spare copies of older templates: %v", err)
			}
		}
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if recyclable {
			done, err := recycle(ctx, server, template, name)
			if err != nil {
				tb.Logf("recycle test database %s (dropping it instead): %v", name, err)
			}
			if done {
				return
			}
		}
		forgetSessions(name)
		if err := onServer(ctx, server, func(conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			return err
		}); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	return databaseURL(tb, server, name)
}

// Tx returns a transaction in a migrated database that the test's package
// shares, and rolls it back when the test ends: nothing the test writes is
// ever seen by another. It suits a test that needs no commit: one that
// neither starts job workers, nor LISTENs, nor runs transactions of its
// own (storage.DB's methods run outside it). Sequences are not rolled
// back, so ids are not 1, 2, 3. Two tests that write the same key (the same
// rep's email, say) at once wait for each other, as any two transactions do.
func Tx(tb testing.TB) *storage.Tx {
	tb.Helper()
	db, err := sharedDB(tb)
	if err != nil {
		tb.Fatalf("open the package's shared test database: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	tx, rollback, err := db.Begin(ctx)
	if err != nil {
		tb.Fatalf("begin the test's transaction: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if err := rollback(ctx); err != nil {
			tb.Errorf("roll back the test's transaction: %v", err)
		}
	})
	return tx
}

// shared is the package's database for Tx, opened by the first test that
// asks and kept for the life of the test binary; being only ever written
// in transactions that roll back, it stays as migrated.
var shared struct {
	once sync.Once
	db   *storage.DB
	err  error
}

func sharedDB(tb testing.TB) (*storage.DB, error) {
	server := URL(tb)
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		name, err := sharedDatabase(ctx, server)
		if err != nil {
			shared.err = err
			return
		}
		shared.db, shared.err = storage.Open(context.Background(), databaseURL(tb, server, name), storage.Options{MaxConns: 30})
	})
	return shared.db, shared.err
}

// sharedDatabase makes sure the database this test binary shares for Tx
// exists, and returns its name. One per package (by the test binary's
// name) and schema version, it lives as long as the server, like the
// template: a server used for many runs keeps one per package, not one per
// run.
func sharedDatabase(ctx context.Context, server string) (string, error) {
	template, err := migratedTemplate(ctx, server)
	if err != nil {
		return "", err
	}
	binary := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	name := template + "_tx_" + nonIdentifier.ReplaceAllString(strings.ToLower(binary), "_")
	if len(name) > maxIdentifier {
		name = name[:maxIdentifier]
	}
	err = underServerLock(ctx, server, func(conn *pgx.Conn) error {
		if exists, err := databaseExists(ctx, conn, name); err != nil || exists {
			return err
		}
		return cloneOn(ctx, conn, template, name)
	})
	return name, err
}

// maxIdentifier is PostgreSQL's longest name (NAMEDATALEN - 1).
const maxIdentifier = 63

var nonIdentifier = regexp.MustCompile(`[^a-z0-9_]+`)

// templates remembers, per server and template, what this binary found or
// built.
var templates sync.Map // templateKey → *templateOnce

type templateKey struct{ server, name string }

type templateOnce struct {
	once sync.Once
	err  error
}

// migratedTemplate returns the name of the server's template database for
// the current migrations (slabot's and River's), building it the first time
// any test binary asks.
func migratedTemplate(ctx context.Context, server string) (string, error) {
	version, err := schemaVersion()
	if err != nil {
		return "", err
	}
	name := "slabot_template_" + version
	return name, template(ctx, server, name, "", func(ctx context.Context, db *storage.DB) error {
		_, err := db.Migrate(ctx)
		return err
	})
}

// template makes sure the template database name exists on the server,
// building it the first time any test binary asks: a copy of from (an
// empty database when from is ""), filled by fill. Test binaries running
// at once build it once: the first takes a lock on the server, and the
// others, waiting for it, then find the template there.
func template(ctx context.Context, server, name, from string, fill func(context.Context, *storage.DB) error) error {
	entry, _ := templates.LoadOrStore(templateKey{server, name}, &templateOnce{})
	t := entry.(*templateOnce)
	t.once.Do(func() {
		t.err = underServerLock(ctx, server, func(conn *pgx.Conn) error {
			if exists, err := databaseExists(ctx, conn, name); err != nil || exists {
				return err
			}
			return buildTemplate(ctx, conn, server, name, from, fill)
		})
	})
	return t.err
}

func buildTemplate(ctx context.Context, conn *pgx.Conn, server, name, from string, fill func(context.Context, *storage.DB) error) error {
	// Built under another name and renamed when complete, so that a build
	// cut short is never taken for the template.
	building := name + "_building"
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop an unfinished template: %w", err)
	}
	var err error
	if from == "" {
		_, err = conn.Exec(ctx, "CREATE DATABASE "+building)
	} else {
		err = cloneOn(ctx, conn, from, building)
	}
	if err != nil {
		return fmt.Errorf("create template %s: %w", name, err)
	}
	u, err := url.Parse(server)
	if err != nil {
		return fmt.Errorf("TEST_DATABASE_URL: %w", err)
	}
	u.Path = "/" + building
	db, err := storage.Open(ctx, u.String(), storage.Options{MaxConns: 30})
	if err != nil {
		return err
	}
	err = fill(ctx, db)
	db.Close()
	forgetSessions(building)
	if err != nil {
		return fmt.Errorf("fill template %s: %w", name, err)
	}
	// Nobody connects to a template once it is built: PostgreSQL copies a
	// database only while no one is connected to it.
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+building+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("close template %s to connections: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return fmt.Errorf("name template %s: %w", name, err)
	}
	return nil
}

// NewDBWith returns a migrated database of the test's own holding the data
// fill writes, dropped when the test ends. fill runs once per server and
// build of the test binary, into a template that every later call with the
// same key copies in a fraction of a second: tests that need the same
// large history (storage/benchgen's, say) generate it once. key names
// what fill writes (its settings); fill must write the same for the same
// key.
func NewDBWith(tb testing.TB, key string, fill func(context.Context, *storage.DB) error) *storage.DB {
	tb.Helper()
	server := URL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 2*setupTimeout)
	defer cancel()
	migrated, err := migratedTemplate(ctx, server)
	if err != nil {
		tb.Fatalf("prepare the migrated template database: %v", err)
	}
	build, err := binaryVersion()
	if err != nil {
		tb.Fatalf("fingerprint the test binary: %v", err)
	}
	family := migrated + "_" + shortHash(key)
	name := family + "_" + build
	if err := template(ctx, server, name, migrated, fill); err != nil {
		tb.Fatalf("prepare the template for %s: %v", key, err)
	}
	forgetOlderBuilds(ctx, server, family, name)
	db, err := storage.Open(context.Background(), cloneForTest(tb, server, name, false), storage.Options{MaxConns: 30})
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(db.Close)
	return db
}

// forgetOlderBuilds drops the templates of the same data that other builds
// of the test binary left, so that a server used for many runs keeps one
// per data set. One in use (being copied) is left for next time.
func forgetOlderBuilds(ctx context.Context, server, family, keep string) {
	_ = onServer(ctx, server, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2`,
			family+"_", keep)
		if err != nil {
			return err
		}
		older, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, name := range older {
			forgetSessions(name)
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name)
		}
		return nil
	})
}

// binaryVersion fingerprints the running test binary, once: the data a
// fill function writes depends on the code built into it.
var binaryVersion = sync.OnceValues(func() (string, error) {
	path, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:8], nil
})

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:8]
}

// schemaVersion fingerprints the schema a migrated database has: every
// migration of slabot's and of River's, so a template built by other code
// is never used.
func schemaVersion() (string, error) {
	h := sha256.New()
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		return "", fmt.Errorf("list the migrations: %w", err)
	}
	for _, f := range files {
		body, err := fs.ReadFile(migrations.FS, f)
		if err != nil {
			return "", fmt.Errorf("read migration %s: %w", f, err)
		}
		fmt.Fprintf(h, "%s %d\n%s\n", f, len(body), body)
	}
	river, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return "", fmt.Errorf("list the job queue's migrations: %w", err)
	}
	for _, m := range river.AllVersions() {
		fmt.Fprintf(h, "river %d %d\n%s\n", m.Version, len(m.SQLUp), m.SQLUp)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func cloneOn(ctx context.Context, conn *pgx.Conn, template, name string) error {
	// FILE_COPY (PostgreSQL 15 and later) copies the template's files
	// whole: measured at about a third of the time of the default,
	// WAL_LOG, which writes every page through the WAL.
	strategy := ""
	if major, _, _ := strings.Cut(conn.PgConn().ParameterStatus("server_version"), "."); atLeast(major, 15) {
		strategy = " STRATEGY FILE_COPY"
	}
	_, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template+strategy)
	return err
}

func databaseExists(ctx context.Context, conn *pgx.Conn, name string) (bool, error) {
	var exists bool
	err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("look for database %s: %w", name, err)
	}
	return exists, nil
}

// underServerLock runs fn on a connection to the server's own database
// while holding a lock that every test binary using the server shares.
func underServerLock(ctx context.Context, server string, fn func(conn *pgx.Conn) error) error {
	return onServer(ctx, server, func(conn *pgx.Conn) error {
		const key = `hashtext('slabot.storagetest.databases')`
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
			return fmt.Errorf("take the test databases' lock: %w", err)
		}
		err := fn(conn)
		// Closing the connection would release the lock too; this says so.
		_, unlockErr := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`)
		return errors.Join(err, unlockErr)
	})
}

// onServer runs fn on a connection of its own to the server's database.
func onServer(ctx context.Context, server string, fn func(conn *pgx.Conn) error) error {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return fmt.Errorf("connect to the test server: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return fn(conn)
}

// databaseURL is the server's URL with another database.
func databaseURL(tb testing.TB, server, database string) string {
	tb.Helper()
	u, err := databaseURLOf(server, database)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// databaseURLOf is the server's URL with another database.
func databaseURLOf(server, database string) (string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("TEST_DATABASE_URL is not a URL: %w", err)
	}
	u.Path = "/" + database
	return u.String(), nil
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// atLeast reports whether the decimal number in s is at least n.
func atLeast(s string, n int) bool {
	v, err := strconv.Atoi(s)
	return err == nil && v >= n
}

// pollEvery is how often WaitFor asks.
const pollEvery = 5 * time.Millisecond

// WaitFor asks cond every few milliseconds until it reports true, and fails
// the test, saying what it waited for, if it has not within timeout. A test
// waits for what it needs to happen this way, never for a fixed time.
func WaitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	ticker := time.NewTicker(pollEvery)
	defer ticker.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("waited %v for %s", timeout, what)
		}
		<-ticker.C
	}
}
