package storage

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// This file holds what the slash commands and the App Home read about one
// rep: their availability and the leads they still hold.

// openStateList is the SQL list of the states in which a lead is still
// with Sales (engine.LeadState.Open).
const openStateList = `('new', 'notified', 'acknowledged', 'working', 'snoozed', 'reassigned')`

// LockRep reads a rep by email, in any case, and locks the rep's row until
// the transaction ends.
func (q *queries) LockRep(ctx context.Context, email string) (*engine.Rep, error) {
	r, err := scanRep(q.db.QueryRow(ctx, `SELECT `+repColumns+` FROM reps WHERE email = lower($1) FOR UPDATE`, email))
	if err != nil {
		return nil, mapError(err, "find rep %q", email)
	}
	return &r, nil
}

// SetRepAvailability stores a rep's status and return date (zero for none).
func (q *queries) SetRepAvailability(ctx context.Context, email string, status engine.RepStatus, until time.Time) error {
	tag, err := q.db.Exec(ctx, `UPDATE reps SET status = $2, away_until = $3, updated_at = now() WHERE email = lower($1)`,
		email, string(status), nullTime(until))
	if err != nil {
		return mapError(err, "set the availability of rep %q", email)
	}
	if tag.RowsAffected() == 0 {
		return engine.Errorf(engine.ENOTFOUND, "%s is not a rep in any team of the policy file", email)
	}
	return nil
}

// CountOpenLeads counts the leads a rep owns that are still with Sales.
func (q *queries) CountOpenLeads(ctx context.Context, ownerEmail string) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, `SELECT count(*) FROM leads WHERE owner_email = lower($1) AND state IN `+openStateList,
		ownerEmail).Scan(&n)
	return n, mapError(err, "count the open leads of %q", ownerEmail)
}

// OpenLeadsOf lists the leads a rep owns that are still with Sales, with
// their touches, untouched leads first by first-touch deadline, then the
// rest by assignment (oldest first, whose cadence window closes first).
// The caller orders them finely by the policy's next deadline.
func (q *queries) OpenLeadsOf(ctx context.Context, ownerEmail string) ([]engine.LeadFacts, error) {
	rows, err := q.db.Query(ctx, `SELECT `+leadColumns+` FROM leads
		WHERE owner_email = lower($1) AND state IN `+openStateList+`
		ORDER BY (first_touch_at IS NOT NULL), first_touch_due NULLS LAST, assigned_at NULLS LAST, id`, ownerEmail)
	if err != nil {
		return nil, mapError(err, "list the open leads of %q", ownerEmail)
	}
	leads, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*engine.Lead, error) { return scanLead(row) })
	if err != nil {
		return nil, mapError(err, "list the open leads of %q", ownerEmail)
	}
	facts, _, _, err := q.withTouches(ctx, leads)
	if err != nil {
		return nil, err
	}
	return facts, nil
}
