package storage

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/slabot/slabot/migrations"
)

// Migration is one schema change file.
type Migration struct {
	Version   int
	Name      string
	SQL       string
	AppliedAt time.Time // zero when pending
}

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// loadMigrations reads the embedded migration files in version order.
func loadMigrations(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("storage: unable to list migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		v, _ := strconv.Atoi(m[1])
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("storage: migrations %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("storage: unable to read migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: m[2], SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Migrate applies every pending migration. It holds a PostgreSQL advisory
// lock (scoped to the current schema) while it works, so several replicas
// starting at once apply each migration exactly once: the others wait, then
// find nothing left to do. It returns the migrations it applied.
func (db *DB) Migrate(ctx context.Context) ([]Migration, error) { return db.MigrateTo(ctx, 0) }

// MigrateTo applies the pending migrations up to version (every one when
// version is 0), under the same lock as Migrate: a release's schema, for a
// staged upgrade or an upgrade test. River's own migrations always run.
func (db *DB) MigrateTo(ctx context.Context, version int) ([]Migration, error) {
	all, err := loadMigrations(migrations.FS)
	if err != nil {
		return nil, err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("storage: unable to connect to migrate: %w", err)
	}
	defer conn.Release()

	const lockKey = `hashtext('slabot.migrate.' || current_schema())`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`); err != nil {
		return nil, fmt.Errorf("storage: unable to take the migration lock: %w", err)
	}
	defer func() {
		// A fresh context: the unlock must happen even when ctx is done.
		unlockCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = conn.Exec(unlockCtx, `SELECT pg_advisory_unlock(`+lockKey+`)`)
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    int PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("storage: unable to create schema_migrations: %w", err)
	}
	applied, err := appliedVersions(ctx, conn.Conn())
	if err != nil {
		return nil, err
	}
	// River's own tables first, under the same lock: slabot's migrations
	// from 0004 on refer to them.
	if err := db.migrateRiver(ctx); err != nil {
		return nil, err
	}
	var done []Migration
	for _, m := range all {
		if _, ok := applied[m.Version]; ok || version > 0 && m.Version > version {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if m.Version == riverQueueVersion {
				// The previous queue's waiting jobs move to River in the
				// transaction that drops it.
				if err := carryOverLegacyJobs(ctx, tx, db.jobs, db.logger); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return done, fmt.Errorf("storage: migration %04d_%s failed: %w", m.Version, m.Name, err)
		}
		db.logger.Info("applied migration", "version", m.Version, "name", m.Name)
		done = append(done, m)
	}
	return done, nil
}

// riverQueueVersion is the migration that replaced slabot's own job table
// with River's.
const riverQueueVersion = 4

// migrateRiver applies River's migrations.
func (db *DB) migrateRiver(ctx context.Context) error {
	migrator, err := rivermigrate.New(riverpgxv5.New(db.pool), &rivermigrate.Config{
		Logger: db.logger.With("component", "river"), Schema: db.schema})
	if err != nil {
		return fmt.Errorf("storage: unable to prepare the job queue's migrations: %w", err)
	}
	// Each of River's migrations runs in a transaction of its own (some add
	// enum values, which PostgreSQL will not use in the transaction that
	// added them); the caller's lock keeps other replicas out meanwhile.
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("storage: the job queue's migrations failed: %w", err)
	}
	for _, v := range res.Versions {
		db.logger.Info("applied job queue migration", "version", v.Version, "name", v.Name)
	}
	return nil
}

// MigrationStatus lists every known migration with when it was applied.
func (db *DB) MigrationStatus(ctx context.Context) ([]Migration, error) {
	all, err := loadMigrations(migrations.FS)
	if err != nil {
		return nil, err
	}
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("storage: unable to read migration status: %w", err)
	}
	if !exists {
		return all, nil
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("storage: unable to connect: %w", err)
	}
	defer conn.Release()
	applied, err := appliedVersions(ctx, conn.Conn())
	if err != nil {
		return nil, err
	}
	for i := range all {
		all[i].AppliedAt = applied[all[i].Version]
	}
	return all, nil
}

func appliedVersions(ctx context.Context, conn *pgx.Conn) (map[int]time.Time, error) {
	rows, err := conn.Query(ctx, `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("storage: unable to read applied migrations: %w", err)
	}
	applied := map[int]time.Time{}
	var v int
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&v, &at}, func() error {
		applied[v] = at
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: unable to read applied migrations: %w", err)
	}
	return applied, nil
}
