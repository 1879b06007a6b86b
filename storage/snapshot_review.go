package storage

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// The review pack's parts are counted at once on a few connections, each
// in a read-only transaction that imports the snapshot the pack's first
// transaction exported (pg_export_snapshot, SET TRANSACTION SNAPSHOT): one
// consistent reading, its parts on as many cores as PostgreSQL has free.

// reviewAcquireWait is how long a part waits for a free connection of the
// pool before it is counted on the pack's first transaction after the
// others instead: many reviews at once never wait for each other's
// connections.
const reviewAcquireWait = 50 * time.Millisecond

// reviewSnapshotID is what pg_export_snapshot returns: hexadecimal digits
// and dashes, checked before it is written into SET TRANSACTION SNAPSHOT
// (which takes no parameters).
var reviewSnapshotID = regexp.MustCompile(`^[0-9A-Fa-f-]+$`)

// reviewTxSettings are the settings of every transaction of the pack:
// its queries scan and group half a year of leads in a few passes; JIT
// compiling costs more than it saves on them, and a little more sort
// memory keeps their hashes off disk.
const reviewTxSettings = `SET LOCAL jit = off; SET LOCAL work_mem = '32MB'`

// reviewPart is one part of the pack, counted in the transaction given.
type reviewPart func(ctx context.Context, tx pgx.Tx) error

// runReviewParts runs parts at once, each on a connection of its own that
// sees snapshot; the parts that found no free connection soon enough run
// after, one by one, on first (the transaction that exported snapshot).
// It returns the first error.
func (db *DB) runReviewParts(ctx context.Context, first pgx.Tx, snapshot string, parts []reviewPart) error {
	if !reviewSnapshotID.MatchString(snapshot) {
		return fmt.Errorf("an exported snapshot named %q", snapshot)
	}
	var (
		wg   sync.WaitGroup
		errs = make([]error, len(parts))
		left []reviewPart
	)
	for i, part := range parts {
		waitCtx, cancel := context.WithTimeout(ctx, reviewAcquireWait)
		conn, err := db.pool.Acquire(waitCtx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			left = append(left, part)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Release()
			errs[i] = func() error {
				tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
				if err != nil {
					return err
				}
				defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
				if _, err := tx.Exec(ctx, `SET TRANSACTION SNAPSHOT '`+snapshot+`'`); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, reviewTxSettings); err != nil {
					return err
				}
				return part(ctx, tx)
			}()
		}()
	}
	var leftErr error
	for _, part := range left {
		if leftErr = part(ctx, first); leftErr != nil {
			break
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return leftErr
}
