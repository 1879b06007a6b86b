package main

import (
	"context"
	"fmt"
	"io"

	"github.com/slabot/slabot/storage"
)

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	action := "up"
	if len(args) > 0 {
		action = args[0]
	}
	if action != "up" && action != "status" || len(args) > 1 {
		fmt.Fprintln(stderr, "usage: slabot migrate [up|status]")
		return 2
	}
	cfg, ok := databaseConfig("migrate", stderr)
	if !ok {
		return 2
	}
	logger := newLogger(stderr, cfg.LogLevel)
	db, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{Logger: logger})
	if err != nil {
		fmt.Fprintln(stderr, "slabot migrate:", err)
		return 1
	}
	defer db.Close()
	if action == "status" {
		all, err := db.MigrationStatus(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "slabot migrate:", err)
			return 1
		}
		for _, m := range all {
			when := "pending"
			if !m.AppliedAt.IsZero() {
				when = "applied " + m.AppliedAt.Format("2006-01-02 15:04:05 MST")
			}
			fmt.Fprintf(stdout, "%04d_%-30s %s\n", m.Version, m.Name, when)
		}
		return 0
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "slabot migrate:", err)
		return 1
	}
	fmt.Fprintf(stdout, "Database is up to date (%d migration(s) applied now).\n", len(applied))
	return 0
}
