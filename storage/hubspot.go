package storage

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// The HubSpot writer's memory: which events became which HubSpot object,
// and which missing scopes operators were told about.

// HubSpotWriteFor reads the record of an event's write, making it (with
// objectType and marker) when there is none.
func (db *DB) HubSpotWriteFor(ctx context.Context, key, objectType, marker string) (*engine.HubSpotWrite, error) {
	_, err := db.pool.Exec(ctx, `INSERT INTO hubspot_writes (event_key, object_type, marker) VALUES ($1, $2, $3)
		ON CONFLICT (event_key) DO NOTHING`, key, objectType, marker)
	if err != nil {
		return nil, mapError(err, "record the HubSpot write of %s", key)
	}
	var w engine.HubSpotWrite
	var sent, done *time.Time
	var id *string
	err = db.pool.QueryRow(ctx, `SELECT event_key, object_type, marker, sent_at, searches, object_id, associated, done_at, outcome
		FROM hubspot_writes WHERE event_key = $1`, key).Scan(&w.EventKey, &w.ObjectType, &w.Marker, &sent, &w.Searches, &id,
		&w.Associated, &done, &w.Outcome)
	if err != nil {
		return nil, mapError(err, "read the HubSpot write of %s", key)
	}
	if sent != nil {
		w.SentAt = *sent
	}
	if id != nil {
		w.ObjectID = *id
	}
	w.Done = done != nil
	return &w, nil
}

// MarkHubSpotSent records, before a create is sent, that it may exist
// from now on; at zero it records that it surely does not. Either way no
// search for it has been made yet.
func (db *DB) MarkHubSpotSent(ctx context.Context, key string, at time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE hubspot_writes SET sent_at = $2, searches = 0 WHERE event_key = $1`, key, nullTime(at))
	return mapError(err, "record the HubSpot create of %s", key)
}

// CountHubSpotSearch records one more look for the object of a create
// whose answer was lost, and returns how many were made.
func (db *DB) CountHubSpotSearch(ctx context.Context, key string) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `UPDATE hubspot_writes SET searches = searches + 1 WHERE event_key = $1
		RETURNING searches`, key).Scan(&n)
	return n, mapError(err, "count a HubSpot search of %s", key)
}

// SetHubSpotObject records the object made (or found) for an event.
func (db *DB) SetHubSpotObject(ctx context.Context, key, objectID string) error {
	_, err := db.pool.Exec(ctx, `UPDATE hubspot_writes SET object_id = $2 WHERE event_key = $1`, key, objectID)
	return mapError(err, "record the HubSpot object of %s", key)
}

// FinishHubSpotWrite records that an event's write is over, and how.
func (db *DB) FinishHubSpotWrite(ctx context.Context, key, outcome string, associated bool, at time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE hubspot_writes SET done_at = $2, outcome = $3, associated = $4
		WHERE event_key = $1`, key, at, outcome, associated)
	return mapError(err, "finish the HubSpot write of %s", key)
}

// ReportHubSpotScopeOnce records that operators were told a scope is
// missing and queues alert with it; it reports false (and queues nothing)
// when they were told within the last day. A scope still missing a day
// later is told again: a token revoked months after the first report is
// news.
func (db *DB) ReportHubSpotScopeOnce(ctx context.Context, scope string, at time.Time, alert *engine.Job) (bool, error) {
	var first bool
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var s string
		err := tx.QueryRow(ctx, `INSERT INTO hubspot_scope_reports (scope, reported_at) VALUES ($1, $2)
			ON CONFLICT (scope) DO UPDATE SET reported_at = EXCLUDED.reported_at
				WHERE hubspot_scope_reports.reported_at <= EXCLUDED.reported_at - interval '1 day'
			RETURNING scope`, scope, at).Scan(&s)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		first = true
		if alert == nil {
			return nil
		}
		q := queries{db: tx, jobs: db.jobs}
		_, err = q.Enqueue(ctx, *alert)
		return err
	})
	return first, mapError(err, "record the report of HubSpot scope %s", scope)
}
