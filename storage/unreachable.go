package storage

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// MarkUnreachable records that the person with userID must not be written
// to (they blocked slabot) until ClearUnreachable; true when they were
// not marked before.
func (db *DB) MarkUnreachable(ctx context.Context, platform, userID, reason string, at time.Time) (bool, error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO chat_unreachable (platform, user_id, reason, since) VALUES ($1, $2, $3, $4)
		ON CONFLICT (platform, user_id) DO NOTHING`, platform, userID, reason, at)
	if err != nil {
		return false, mapError(err, "record that user %s cannot be written to", userID)
	}
	return tag.RowsAffected() == 1, nil
}

// UnreachableReason says why the person with userID must not be written
// to; "" when nothing stops it.
func (db *DB) UnreachableReason(ctx context.Context, platform, userID string) (string, error) {
	var reason string
	err := db.pool.QueryRow(ctx, `SELECT reason FROM chat_unreachable WHERE platform = $1 AND user_id = $2`,
		platform, userID).Scan(&reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return reason, mapError(err, "find whether user %s can be written to", userID)
}

// ClearUnreachable lets slabot write to the person again; true when they
// were marked.
func (db *DB) ClearUnreachable(ctx context.Context, platform, userID string) (bool, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM chat_unreachable WHERE platform = $1 AND user_id = $2`, platform, userID)
	if err != nil {
		return false, mapError(err, "record that user %s can be written to again", userID)
	}
	return tag.RowsAffected() == 1, nil
}
