package storage

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/slabot/slabot/engine"
)

func TestMapErrorSpeaksForPeople(t *testing.T) {
	t.Parallel()
	pgErr := func(code string) error {
		return &pgconn.PgError{Severity: "ERROR", Code: code, Message: "internal words from PostgreSQL"}
	}
	cases := []struct {
		name string
		err  error
		what string
		code string
	}{
		{"NoRowsOfALead", pgx.ErrNoRows, "find lead 42", engine.ENOTFOUND},
		{"NoRowsOfARep", pgx.ErrNoRows, `find rep "lead@example.com"`, engine.ENOTFOUND},
		{"AUniqueViolation", pgErr("23505"), "create lead \"x\"", engine.ECONFLICT},
		{"AForeignKeyViolation", pgErr("23503"), "log a touch on lead 1", engine.EINVALID},
		{"ANUL", pgErr("22021"), "create lead \"x\"", engine.EINVALID},
		{"ANULInJSON", pgErr("22P05"), "create lead \"x\"", engine.EINVALID},
		{"ANumberTooLarge", pgErr("22003"), "update lead 1", engine.EINVALID},
		{"AnIndexRowTooLarge", pgErr("54000"), "log a touch on lead 1", engine.EINVALID},
		{"AdminShutdown", pgErr("57P01"), "find lead 1", engine.EUNAVAILABLE},
		{"CannotConnectNow", pgErr("57P03"), "find lead 1", engine.EUNAVAILABLE},
		{"ConnectionFailure", pgErr("08006"), "find lead 1", engine.EUNAVAILABLE},
		{"AStatementTimeout", pgErr("57014"), "find lead 1", engine.EUNAVAILABLE},
		{"ADeadline", fmt.Errorf("acquire: %w", context.DeadlineExceeded), "run a transaction", engine.EUNAVAILABLE},
		{"AClosedConnection", fmt.Errorf("query: %w", pgconn.ErrConnClosed), "find lead 1", engine.EUNAVAILABLE},
		{"ARefusedDial", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, "find lead 1", engine.EUNAVAILABLE},
		{"ASyntaxError", pgErr("42601"), "find lead 1", engine.EINTERNAL},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := mapError(c.err, "%s", c.what)
			if got := engine.ErrorCode(err); got != c.code {
				t.Fatalf("code %q, want %q (%v)", got, c.code, err)
			}
			if !strings.Contains(err.Error(), c.what) {
				t.Errorf("%q does not say, for the logs, what storage was doing", err.Error())
			}
			if c.code == engine.EINTERNAL {
				return
			}
			msg := engine.ErrorMessage(err)
			if strings.Contains(msg, "PostgreSQL") || strings.Contains(msg, c.what) || strings.Contains(msg, "storage") {
				t.Errorf("message %q quotes storage or the driver", msg)
			}
		})
	}
	if msg := engine.ErrorMessage(mapError(pgx.ErrNoRows, "find lead 42")); msg != "That lead was not found — it may have been merged or deleted." {
		t.Errorf("a missing lead reads %q", msg)
	}
	if msg := engine.ErrorMessage(mapError(pgx.ErrNoRows, `find rep "lead@example.com"`)); strings.Contains(msg, "lead") {
		t.Errorf("a missing rep reads %q", msg)
	}
	coded := engine.Errorf(engine.ENOTFOUND, "no such thing")
	if got := mapError(coded, "run a transaction"); got != error(coded) {
		t.Errorf("an error that has its code was changed: %v", got)
	}
}

// TestMapErrorOfARealOutage checks the errors the driver really returns
// when the server refuses a connection or ends one.
func TestMapErrorOfARealOutage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = pgx.Connect(ctx, "postgres://slabot@"+addr+"/slabot?sslmode=disable")
	if code := engine.ErrorCode(mapError(err, "connect")); code != engine.EUNAVAILABLE {
		t.Errorf("a refused connection maps to %q (%v)", code, err)
	}

	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		t.Fatal("TEST_DATABASE_URL is not set: run `make test`, which starts a throwaway PostgreSQL")
	}
	victim, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close(ctx)
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, victim.PgConn().PID()); err != nil {
		t.Fatal(err)
	}
	// The backend ends a moment after the call returns: poll until the
	// server no longer lists it. (This package's own tests cannot use
	// storagetest.WaitFor: storagetest imports storage.)
	for deadline := time.Now().Add(10 * time.Second); ; {
		var alive bool
		if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)`,
			victim.PgConn().PID()).Scan(&alive); err != nil {
			t.Fatal(err)
		}
		if !alive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the terminated backend is still there after 10 s")
		}
	}
	_, err = victim.Exec(ctx, `SELECT 1`)
	if code := engine.ErrorCode(mapError(err, "find lead 1")); code != engine.EUNAVAILABLE {
		t.Errorf("a connection ended by the server maps to %q (%v)", code, err)
	}
}
