// Package storagetest gives tests a real, migrated PostgreSQL database of
// their own: each call creates a fresh schema, so a test may commit, run
// concurrent transactions and LISTEN without seeing any other test's rows.
package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/storage"
)

// URL returns the test database URL from TEST_DATABASE_URL. A test that needs
// a database fails without one: `make test` starts a throwaway server, and a
// skipped storage test would hide exactly the bugs it exists to find.
func URL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		tb.Fatal("TEST_DATABASE_URL is not set: run `make test`, which starts a throwaway PostgreSQL, " +
			"or point TEST_DATABASE_URL at a database you can drop schemas in")
	}
	return url
}

// NewSchema creates an empty schema with a random name and drops it when the
// test ends. It returns the schema's name.
func NewSchema(tb testing.TB) string {
	tb.Helper()
	url := URL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatalf("connect to the test database: %v", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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

// Open connects to a fresh schema without migrating it.
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

// NewDB returns a migrated database in a fresh schema.
func NewDB(tb testing.TB) *storage.DB {
	tb.Helper()
	db := Open(tb)
	if _, err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate test database: %v", err)
	}
	return db
}
