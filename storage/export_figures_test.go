package storage

import (
	"context"

	"github.com/slabot/slabot/engine"
)

// RefreshInTwoStepsForTest reads a batch of stale leads, runs between (a
// change committed during the refresh), then writes what it read.
func (db *DB) RefreshInTwoStepsForTest(ctx context.Context, p *engine.Policy, between func()) error {
	read, err := db.readStale(ctx, refreshBatch)
	if err != nil {
		return err
	}
	between()
	return db.writeRefreshed(ctx, p, engine.FiguresFingerprint(p), read)
}
