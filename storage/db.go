// Package storage is slabot's PostgreSQL adapter: it implements the engine's
// store on pgx/v5, runs the embedded migrations, and keeps the durable job
// queue that carries every message and timer.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/slabot/slabot/engine"
)

// DB is a connection pool to slabot's database.
type DB struct {
	queries
	pool   *pgxpool.Pool
	logger *slog.Logger
	schema string
	// catchingUp is set while a background refresh of the leads' figures
	// runs (see freshFigures).
	catchingUp atomic.Bool
}

// Options tune Open. The zero value is fine.
type Options struct {
	Logger *slog.Logger
	// Schema, when set, puts every table in that schema (tests use one
	// schema each so they can commit without seeing each other).
	Schema string
	// MaxConns caps the pool; 0 takes pool_max_conns from the URL, else 20.
	MaxConns int32
}

// Open connects to the database at url. It does not wait for the server:
// Ping tells when it answers.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("storage: DATABASE_URL is not a valid PostgreSQL URL: %w", err)
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	} else if !strings.Contains(url, "pool_max_conns") {
		// pgx's default (4 on this kind of machine) is too few: the job
		// worker holds a listening connection and polls four queues while
		// the intake and the bot work.
		cfg.MaxConns = 20
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("storage: unable to create connection pool: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db := &DB{pool: pool, logger: logger, schema: opts.Schema}
	jobs, err := newInsertClient(db, opts.Schema)
	if err != nil {
		pool.Close()
		return nil, err
	}
	db.queries = queries{db: pool, jobs: jobs}
	return db, nil
}

// Close closes every connection.
func (db *DB) Close() { db.pool.Close() }

// Pool exposes the pool to the storage package's own helpers (job queue, locks).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("storage: database does not answer: %w", err)
	}
	return nil
}

// InTx runs fn in one transaction, committing when fn returns nil and rolling
// back otherwise. Everything fn does through the Tx commits or vanishes together.
func (db *DB) InTx(ctx context.Context, fn func(engine.Tx) error) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		return fn(&Tx{queries: queries{db: tx, jobs: db.jobs}})
	})
	// Beginning and committing reach the database too: an unreachable one
	// must read as such, not as an internal error.
	return mapError(err, "run a transaction")
}

// Begin starts a transaction that the caller ends with rollback (or lets
// end with its connection). InTx is how slabot runs one; Begin serves a
// caller that must hold one open across calls of its own, such as a test
// that rolls back everything it did (storagetest.Tx).
func (db *DB) Begin(ctx context.Context) (tx *Tx, rollback func(context.Context) error, err error) {
	pgTx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, nil, mapError(err, "begin a transaction")
	}
	return &Tx{queries: queries{db: pgTx, jobs: db.jobs}}, pgTx.Rollback, nil
}

// Tx is one transaction of the store.
type Tx struct {
	queries
}

// dbtx is what both a pool and a transaction can do.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// queries holds every statement; it runs on a pool or inside a transaction.
type queries struct {
	db   dbtx
	jobs *river.Client[pgx.Tx] // queues jobs; runs none
}

// mapError turns driver errors into the engine's error codes. The storage
// verb and the driver's own words go into the wrapped cause, for the logs;
// the message is for the person who asked, whoever they are, so it never
// quotes PostgreSQL. An error that already carries a code is kept as it is.
func mapError(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var coded *engine.Error
	if errors.As(err, &coded) {
		return err
	}
	what := fmt.Sprintf(format, args...)
	cause := fmt.Errorf("storage: unable to %s: %w", what, err)
	if errors.Is(err, pgx.ErrNoRows) {
		return &engine.Error{Code: engine.ENOTFOUND, Message: notFoundMessage(what), Err: cause}
	}
	if unavailable(err) {
		return &engine.Error{Code: engine.EUNAVAILABLE, Err: cause,
			Message: "slabot's database is not answering right now; please try again in a few seconds."}
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return cause
	}
	invalid := func(message string) error {
		return &engine.Error{Code: engine.EINVALID, Message: message, Err: cause}
	}
	switch code := pgErr.Code; {
	case code == "23505": // unique_violation
		return &engine.Error{Code: engine.ECONFLICT, Err: cause,
			Message: "That was already recorded a moment ago, perhaps by someone else; nothing more was changed."}
	case code == "23503": // foreign_key_violation
		return invalid("That refers to something that is no longer there — it may have been merged or deleted.")
	case code == "22021", code == "22P05": // character_not_in_repertoire, untranslatable_character
		return invalid("Some text has characters that cannot be stored (such as NUL); remove them and try again.")
	case code == "22001", code == "54000": // string_data_right_truncation, program_limit_exceeded
		return invalid("Some text is too long to store; shorten it and try again.")
	case code == "22003": // numeric_value_out_of_range
		return invalid("A number is too large to store; check it and try again.")
	case code == "22007", code == "22008": // invalid_datetime_format, datetime_field_overflow
		return invalid("A date or time is out of range; check it and try again.")
	case strings.HasPrefix(code, "22"), strings.HasPrefix(code, "23"): // data exception, integrity constraint
		return invalid("A value is not one slabot can store as given; check it and try again.")
	}
	return cause
}

// notFoundMessage says what was not found in words for people, from what
// the storage layer was looking for.
func notFoundMessage(what string) string {
	for _, word := range strings.Fields(what) {
		switch word {
		case "lead", "leads":
			return "That lead was not found — it may have been merged or deleted."
		case "rep", "reps", "user":
			return "That person is not a rep slabot knows — they may have left the team in the policy file."
		case "team":
			return "That team is not in the agreement — it may have been renamed or removed from the policy file."
		case "job", "jobs":
			return "That piece of work is no longer queued — it may have been done already."
		}
	}
	return "That was not found — it may have been deleted."
}

// unavailable reports errors that mean the database could not be reached or
// did not answer in time, rather than that it refused what was asked: the
// same request may succeed a few seconds later.
func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return true
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", "57P02", "57P03", // admin_shutdown, crash_shutdown, cannot_connect_now
			"57014",          // query_canceled (a statement timeout)
			"53300",          // too_many_connections
			"40001", "40P01": // serialization_failure, deadlock_detected: worth a retry
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection_exception
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// nullTime stores a zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// timeOrZero reads a nullable timestamp back into a zero time.
func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// LockKey takes a transaction-scoped advisory lock on key.
func (q *queries) LockKey(ctx context.Context, key string) error {
	_, err := q.db.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, key)
	return mapError(err, "lock %q", key)
}

// WithLock runs fn while holding a session-level advisory lock on key, so
// that work on one thing (redrawing one lead's cards) happens one at a time
// across workers and replicas, in the order the lock is taken.
func (db *DB) WithLock(ctx context.Context, key string, fn func(ctx context.Context) error) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return mapError(err, "connect to lock %q", key)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended($1, 1))`, key); err != nil {
		return mapError(err, "lock %q", key)
	}
	defer func() {
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(unlockCtx, `SELECT pg_advisory_unlock(hashtextextended($1, 1))`, key); err != nil {
			// A connection that may still hold the lock must not go back to the pool.
			_ = conn.Conn().Close(unlockCtx)
		}
	}()
	return fn(ctx)
}
