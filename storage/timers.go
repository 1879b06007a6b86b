package storage

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// HasBreach reports whether the lead has a breach event of this kind for
// this deadline. The deadline is compared as a time, not as text, since the
// event stores it in whatever zone it was written.
func (q *queries) HasBreach(ctx context.Context, leadID int64, kind string, due time.Time) (bool, error) {
	var seen bool
	err := q.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM lead_events
		WHERE lead_id = $1 AND kind = $2 AND data ->> 'kind' = $3
		  AND (data ->> 'due')::timestamptz = $4)`, leadID, engine.EventBreach, kind, due).Scan(&seen)
	return seen, mapError(err, "look for breaches of lead %d", leadID)
}

// DeactivateRep marks a rep inactive (their chat account was deactivated)
// and records it in the reps' history at the time given (the engine's
// clock), in one statement; it reports whether this call did it.
func (q *queries) DeactivateRep(ctx context.Context, email string, at time.Time) (bool, error) {
	tag, err := q.db.Exec(ctx, `WITH gone AS (
			UPDATE reps SET status = 'inactive', away_until = NULL, updated_at = now()
			WHERE email = lower($1) AND status <> 'inactive' RETURNING email
		)
		INSERT INTO rep_events (rep_email, kind, actor, at, note)
		SELECT email, 'deactivated', $2, $3, 'the chat account was deactivated' FROM gone`,
		email, directoryActor, at)
	if err != nil {
		return false, mapError(err, "deactivate rep %q", email)
	}
	return tag.RowsAffected() == 1, nil
}

// OpenLeadIDsOfRep lists the open leads a rep owns, oldest first.
func (q *queries) OpenLeadIDsOfRep(ctx context.Context, email string) ([]int64, error) {
	rows, err := q.db.Query(ctx, `SELECT id FROM leads WHERE owner_email = lower($1)
		AND state IN ('new', 'notified', 'acknowledged', 'working', 'snoozed', 'reassigned') ORDER BY id`, email)
	if err != nil {
		return nil, mapError(err, "list open leads of %q", email)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, mapError(err, "list open leads of %q", email)
}
