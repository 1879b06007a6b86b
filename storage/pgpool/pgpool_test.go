package pgpool_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/slabot/slabot/storage/pgpool"
)

// serverURL is the test server (make test starts one). The pool is tested
// against a real PostgreSQL: what it must keep is what a server shows.
func serverURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		t.Fatal("TEST_DATABASE_URL is not set: run `make test`, which starts a throwaway PostgreSQL")
	}
	return u
}

func startPool(t *testing.T) *pgpool.Pool {
	t.Helper()
	p, err := pgpool.Start(serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close the pool: %v", err)
		}
	})
	return p
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return conn
}

func pid(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var pid int
	if err := conn.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return pid
}

// alive asks the server directly, past the pool, whether process pid is
// connected.
func alive(t *testing.T, pid int) bool {
	t.Helper()
	conn := connect(t, serverURL(t))
	defer conn.Close(context.Background())
	var found bool
	if err := conn.QueryRow(context.Background(),
		"SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)", pid).Scan(&found); err != nil {
		t.Fatal(err)
	}
	return found
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTheNextClientGetsTheSessionResetToHowItStarted(t *testing.T) {
	t.Parallel()
	p := startPool(t)
	ctx := context.Background()

	first := connect(t, p.URL)
	firstPID := pid(t, first)
	var defaultWorkMem string
	if err := first.QueryRow(ctx, "SHOW work_mem").Scan(&defaultWorkMem); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"SET work_mem = '1234kB'",
		"SET application_name = 'first client'",
		"LISTEN pgpool_test",
		"SELECT pg_advisory_lock(424242)",
		"PREPARE left_behind AS SELECT 1",
		"CREATE TEMP TABLE left_behind (x int)",
	} {
		if _, err := first.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pool to keep the first session", func() bool { return p.Idle() == 1 })

	second := connect(t, p.URL)
	defer second.Close(ctx)
	if got := pid(t, second); got != firstPID {
		t.Fatalf("the second client got server process %d, want the first's %d kept", got, firstPID)
	}
	var workMem, appName string
	var listening, advisory, prepared, temp int
	err := second.QueryRow(ctx, `SELECT current_setting('work_mem'), current_setting('application_name'),
		(SELECT count(*) FROM pg_listening_channels()),
		(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()),
		(SELECT count(*) FROM pg_prepared_statements WHERE name = 'left_behind'),
		(SELECT count(*) FROM pg_class WHERE relname = 'left_behind' AND relpersistence = 't')`).
		Scan(&workMem, &appName, &listening, &advisory, &prepared, &temp)
	if err != nil {
		t.Fatal(err)
	}
	if workMem != defaultWorkMem || appName == "first client" || listening+advisory+prepared+temp != 0 {
		t.Errorf("the first client's session state reached the second: work_mem %s (default %s), application_name %q, "+
			"%d channels listened to, %d advisory locks, %d prepared statements, %d temporary tables",
			workMem, defaultWorkMem, appName, listening, advisory, prepared, temp)
	}
	if got := p.Stats(); got.Started != 1 || got.Reused != 1 {
		t.Errorf("stats %+v, want one session started and reused once", got)
	}
}

func TestASessionLeftInATransactionIsClosedNotHandedOn(t *testing.T) {
	t.Parallel()
	p := startPool(t)
	ctx := context.Background()

	first := connect(t, p.URL)
	firstPID := pid(t, first)
	if _, err := first.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Exec(ctx, "CREATE TABLE pgpool_uncommitted (x int)"); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the session left in a transaction to end", func() bool { return !alive(t, firstPID) })

	second := connect(t, p.URL)
	defer second.Close(ctx)
	if got := pid(t, second); got == firstPID {
		t.Fatalf("the second client was given the session left in a transaction")
	}
	var exists bool
	if err := second.QueryRow(ctx, "SELECT to_regclass('pgpool_uncommitted') IS NOT NULL").Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Error("the table created in the abandoned transaction exists: it was committed")
	}
}

func TestAClientThatVanishesMidQueryLeavesTheSessionOnceItHasAnswered(t *testing.T) {
	t.Parallel()
	p := startPool(t)
	ctx := context.Background()

	first := connect(t, p.URL)
	firstPID := pid(t, first)
	// Send a query and drop the connection without waiting for the answer.
	raw := first.PgConn()
	results := raw.Exec(ctx, "SELECT pg_sleep(0.3)")
	_ = results // never read
	if err := raw.Conn().Close(); err != nil {
		t.Fatal(err)
	}

	// Once the sleep is over the session owes nothing and is idle: kept.
	waitFor(t, "the pool to keep the session once it has answered", func() bool { return p.Idle() == 1 })
	second := connect(t, p.URL)
	defer second.Close(ctx)
	if got := pid(t, second); got != firstPID {
		t.Fatalf("the second client got server process %d, want the first's %d kept", got, firstPID)
	}
	// The answer the first client never read must not reach the second.
	var n int
	if err := second.QueryRow(ctx, "SELECT 41 + 1").Scan(&n); err != nil || n != 42 {
		t.Fatalf("the next client's query: %d, %v", n, err)
	}
}

func TestASessionTheServerEndedIsNotHandedOut(t *testing.T) {
	t.Parallel()
	p := startPool(t)
	ctx := context.Background()

	first := connect(t, p.URL)
	firstPID := pid(t, first)
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pool to keep the session", func() bool { return p.Idle() == 1 })
	admin := connect(t, serverURL(t))
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend($1)", firstPID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the idle session to be ended", func() bool { return !alive(t, firstPID) })

	second := connect(t, p.URL)
	defer second.Close(ctx)
	if got := pid(t, second); got == firstPID {
		t.Fatal("the ended session was handed out")
	}
}

func TestAClientWhoseSessionIsEndedSeesTheServersError(t *testing.T) {
	t.Parallel()
	p := startPool(t)
	ctx := context.Background()

	conn := connect(t, p.URL)
	defer conn.Close(ctx)
	victim := pid(t, conn)
	admin := connect(t, serverURL(t))
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend($1)", victim); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the session to be ended", func() bool { return !alive(t, victim) })
	_, err := conn.Exec(ctx, "SELECT 1")
	var pgErr *pgconn.PgError
	if err == nil {
		t.Fatal("a query on an ended session succeeded")
	}
	if errors.As(err, &pgErr) && pgErr.Code != "57P01" {
		t.Errorf("the error is %s, want the server's admin_shutdown (57P01) or a closed connection", pgErr.Code)
	}
}

func TestACancelReachesTheSessionRunningTheQuery(t *testing.T) {
	t.Parallel()
	p := startPool(t)
	conn := connect(t, p.URL)
	defer conn.Close(context.Background())
	victim := pid(t, conn)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := conn.Exec(ctx, "SELECT pg_sleep(60)")
	if err == nil {
		t.Fatal("a query cancelled after 200 ms ran its 60 seconds")
	}
	// The cancel request reached the server process only if it stops
	// sleeping long before its minute is up.
	waitFor(t, "the cancelled query to stop on the server", func() bool {
		admin := connect(t, serverURL(t))
		defer admin.Close(context.Background())
		var running bool
		if err := admin.QueryRow(context.Background(),
			"SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active')", victim).Scan(&running); err != nil {
			t.Fatal(err)
		}
		return !running
	})
}

func TestForgetClosesTheSessionsOfADatabaseSoItCanBeDropped(t *testing.T) {
	t.Parallel()
	p := startPool(t)
	ctx := context.Background()
	admin := connect(t, serverURL(t))
	defer admin.Close(ctx)
	name := fmt.Sprintf("pgpool_forget_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = name
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	kept := pid(t, conn)
	if err := conn.Close(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pool to keep the session", func() bool { return p.Idle() == 1 })
	p.Forget(name)
	waitFor(t, "the forgotten session to end", func() bool { return !alive(t, kept) })
	if _, err := admin.Exec(ctx, "DROP DATABASE "+name); err != nil {
		t.Fatalf("drop the database after Forget: %v", err)
	}
}

func TestManyClientsAtOnceEachGetASessionOfTheirOwn(t *testing.T) {
	t.Parallel()
	p := startPool(t)
	const clients, rounds = 12, 8
	var wg sync.WaitGroup
	errs := make(chan error, clients*rounds)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				ctx := context.Background()
				conn, err := pgx.Connect(ctx, p.URL)
				if err != nil {
					errs <- err
					return
				}
				// Each client sets a value and reads it back after other
				// clients have run: a shared session would show another's.
				want := fmt.Sprintf("client%d-round%d", c, r)
				if _, err := conn.Exec(ctx, "SELECT set_config('pgpool.test', $1, false)", want); err != nil {
					errs <- err
				}
				time.Sleep(time.Millisecond)
				var got string
				if err := conn.QueryRow(ctx, "SELECT current_setting('pgpool.test')").Scan(&got); err != nil {
					errs <- err
				} else if got != want {
					errs <- fmt.Errorf("client read %q, want its own %q", got, want)
				}
				_ = conn.Close(ctx)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// A connection closes while the next opens, so how many find a kept
	// session depends on the machine's load; every connection was given
	// one, started or kept, and some were kept.
	stats := p.Stats()
	if stats.Started+stats.Reused != clients*rounds || stats.Reused == 0 {
		t.Errorf("stats %+v for %d connections from %d clients at once: want each given a session, some kept ones",
			stats, clients*rounds, clients)
	}
}

func TestStartRemovesTheSocketDirectoriesOfPoolsThatAreGone(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	old := time.Now().Add(-time.Hour)
	gone := filepath.Join(tmp, "pgpool-gone")
	fresh := filepath.Join(tmp, "pgpool-fresh")
	other := filepath.Join(tmp, "not-a-pool")
	for _, dir := range []string{gone, fresh, other} {
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{gone, other} {
		if err := os.Chtimes(dir, old, old); err != nil {
			t.Fatal(err)
		}
	}
	// A pool still listening keeps its directory however old it is.
	live := filepath.Join(tmp, "pgpool-live")
	if err := os.Mkdir(live, 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", filepath.Join(live, ".s.PGSQL.5432"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := os.Chtimes(live, old, old); err != nil {
		t.Fatal(err)
	}

	pgpool.RemoveAbandoned(tmp)
	for dir, want := range map[string]bool{gone: false, fresh: true, other: true, live: true} {
		_, err := os.Stat(dir)
		if exists := err == nil; exists != want {
			t.Errorf("%s exists: %v, want %v", filepath.Base(dir), exists, want)
		}
	}
}

func TestAClientIsToldWhenTheServerCannotBeReached(t *testing.T) {
	t.Parallel()
	// A directory where no server listens.
	p, err := pgpool.Start("postgres://postgres@/slabot?host=" + t.TempDir() + "&sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, err = pgx.Connect(context.Background(), p.URL)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "08006" || !strings.Contains(pgErr.Message, "cannot reach the PostgreSQL server") {
		t.Fatalf("connecting with no server behind the pool: %v; want the pool's 08006 saying it cannot reach the server", err)
	}
}
