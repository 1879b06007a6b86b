package pgtemp_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/storage/pgtemp"
)

func TestStartServesADatabaseAndStopRemovesEverything(t *testing.T) {
	ctx := context.Background()
	srv, err := pgtemp.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, srv.URL)
	if err != nil {
		srv.Stop()
		t.Fatal(err)
	}
	var db string
	err = conn.QueryRow(ctx, `SELECT current_database()`).Scan(&db)
	if err != nil || db != "slabot" {
		t.Errorf("current_database() = %q, %v", db, err)
	}
	// A throwaway server does not wait for the disk.
	for _, setting := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
		var value string
		if err := conn.QueryRow(ctx, `SELECT current_setting($1)`, setting).Scan(&value); err != nil || value != "off" {
			t.Errorf("%s = %q, %v; want off", setting, value, err)
		}
	}
	conn.Close(ctx)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(srv.Dir); !os.IsNotExist(err) {
		t.Errorf("%s is still there after Stop", srv.Dir)
	}
}
