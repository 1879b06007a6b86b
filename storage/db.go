// Package storage is slabot's PostgreSQL adapter: it implements the engine's
// store on pgx/v5, runs the embedded migrations, and keeps the durable job
// queue that carries every message and timer.
package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/slabot/slabot/engine"
)

// DB is a connection pool to slabot's database.
type DB struct {
	queries
	pool   *pgxpool.Pool
	logger *slog.Logger
}

// Options tune Open. The zero value is fine.
type Options struct {
	Logger *slog.Logger
	// Schema, when set, puts every table in that schema (tests use one
	// schema each so they can commit without seeing each other).
	Schema string
	// MaxConns caps the pool; 0 keeps pgx's default.
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
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("storage: unable to create connection pool: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &DB{queries: queries{db: pool}, pool: pool, logger: logger}, nil
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
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		return fn(&Tx{queries: queries{db: tx}})
	})
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
	db dbtx
}

// mapError turns driver errors into the engine's error codes, adding what
// the storage layer was doing.
func mapError(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	if errors.Is(err, pgx.ErrNoRows) {
		return &engine.Error{Code: engine.ENOTFOUND, Message: what + ": not found", Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return &engine.Error{Code: engine.ECONFLICT, Message: what + ": already exists", Err: err}
		case "23503", "23514", "22P02": // foreign key, check, invalid text
			return &engine.Error{Code: engine.EINVALID, Message: what + ": " + pgErr.Message, Err: err}
		}
	}
	return fmt.Errorf("storage: unable to %s: %w", what, err)
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
		return fmt.Errorf("storage: unable to connect to lock %q: %w", key, err)
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
