package storage

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// Outbound webhook deliveries (crm/webhook sends them) and the ordering of
// CRM events per subject.

const deliveryColumns = `id, endpoint, subject, event_id, event_type, msg_id, body, state, attempts, redeliveries,
	created_at, retry_from, next_attempt_at, last_attempt_at, COALESCE(last_status, 0), last_error, delivered_at, parked_at`

func scanDelivery(row pgx.Row) (*engine.WebhookDelivery, error) {
	var d engine.WebhookDelivery
	var next, last, delivered, parked *time.Time
	err := row.Scan(&d.ID, &d.Endpoint, &d.Subject, &d.EventID, &d.EventType, &d.MsgID, &d.Body, &d.State,
		&d.Attempts, &d.Redeliveries, &d.CreatedAt, &d.RetryFrom, &next, &last, &d.LastStatus, &d.LastError, &delivered, &parked)
	if err != nil {
		return nil, err
	}
	for _, p := range []struct {
		src *time.Time
		dst *time.Time
	}{{next, &d.NextAttemptAt}, {last, &d.LastAttemptAt}, {delivered, &d.DeliveredAt}, {parked, &d.ParkedAt}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	return &d, nil
}

// EarlierCRMEventPending reports whether a CRM event of the same subject
// queued before the job jobID has not been fanned out yet. Events of one
// subject are queued in the order they happen (each holds its lead, or
// rep, locked), so job ids give that order.
func (db *DB) EarlierCRMEventPending(ctx context.Context, subject string, jobID int64) (bool, error) {
	var pending bool
	// The kind is written into the query, not passed, so that the partial
	// index river_job_crm_subject applies to every plan.
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM river_job
		WHERE kind = '`+engine.JobCRMEvent+`' AND args->'args'->>'subject' = $1 AND id < $2
		  AND state NOT IN ('completed', 'cancelled', 'discarded'))`, subject, jobID).Scan(&pending)
	return pending, mapError(err, "look for earlier events of %s", subject)
}

// AddWebhookDeliveries records deliveries (a repeat of an endpoint and
// webhook-id is ignored), queues job(id) for each one recorded and queues
// extra, all in one transaction.
func (db *DB) AddWebhookDeliveries(ctx context.Context, deliveries []engine.WebhookDelivery, job func(id int64) engine.Job, extra []engine.Job) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		q := queries{db: tx, jobs: db.jobs}
		jobs := append([]engine.Job(nil), extra...)
		for _, d := range deliveries {
			var id int64
			err := tx.QueryRow(ctx, `INSERT INTO webhook_deliveries
				(endpoint, subject, event_id, event_type, msg_id, body, created_at, retry_from)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
				ON CONFLICT (endpoint, msg_id) DO NOTHING RETURNING id`,
				d.Endpoint, d.Subject, d.EventID, d.EventType, d.MsgID, d.Body, d.CreatedAt).Scan(&id)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			jobs = append(jobs, job(id))
		}
		return q.EnqueueAll(ctx, jobs)
	})
	return mapError(err, "record %d webhook deliveries", len(deliveries))
}

// WebhookDeliveryByID reads one delivery; ENOTFOUND when there is none.
func (db *DB) WebhookDeliveryByID(ctx context.Context, id int64) (*engine.WebhookDelivery, error) {
	d, err := scanDelivery(db.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, engine.Errorf(engine.ENOTFOUND, "there is no webhook delivery %d", id)
	}
	return d, mapError(err, "read webhook delivery %d", id)
}

// EarlierWebhookDelivery returns the first pending delivery of d's subject
// to d's endpoint that was queued before d, or nil when d is first in line.
func (db *DB) EarlierWebhookDelivery(ctx context.Context, d *engine.WebhookDelivery) (*engine.WebhookDelivery, error) {
	e, err := scanDelivery(db.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE endpoint = $1 AND subject = $2 AND state = 'pending' AND (event_id, id) < ($3, $4)
		ORDER BY event_id, id LIMIT 1`, d.Endpoint, d.Subject, d.EventID, d.ID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return e, mapError(err, "look for earlier deliveries of %s", d.Subject)
}

// RecordWebhookAttempt records an attempt on a pending delivery.
func (db *DB) RecordWebhookAttempt(ctx context.Context, id int64, a engine.WebhookAttempt) error {
	_, err := db.pool.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $2::timestamptz,
		last_status = NULLIF($3::integer, 0), last_error = $4, state = $5::text, next_attempt_at = $6,
		delivered_at = CASE WHEN $5::text = 'delivered' THEN $2::timestamptz END,
		parked_at = CASE WHEN $5::text = 'parked' THEN $2::timestamptz END
		WHERE id = $1 AND state = 'pending'`, id, a.At, a.Status, errorText(a.Error, 1000), a.State, nullTime(a.NextAt))
	return mapError(err, "record an attempt of webhook delivery %d", id)
}

// WebhookFilter selects deliveries to list.
type WebhookFilter struct {
	// States: pending, delivered, parked; none means pending and parked.
	States []string
	Limit  int
}

// ListWebhookDeliveries lists deliveries, oldest first.
func (db *DB) ListWebhookDeliveries(ctx context.Context, f WebhookFilter) ([]engine.WebhookDelivery, error) {
	states := f.States
	if len(states) == 0 {
		states = []string{engine.DeliveryPending, engine.DeliveryParked}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE state = ANY($1) ORDER BY id LIMIT $2`, states, limit)
	if err != nil {
		return nil, mapError(err, "list webhook deliveries")
	}
	defer rows.Close()
	var out []engine.WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, mapError(err, "list webhook deliveries")
		}
		out = append(out, *d)
	}
	return out, mapError(rows.Err(), "list webhook deliveries")
}

// RedeliverWebhook puts a delivery back in line with a fresh retry window
// from now and queues job (build it with the delivery's new redelivery
// count): the operator fixed the endpoint.
func (db *DB) RedeliverWebhook(ctx context.Context, id int64, now time.Time, job func(id int64, redelivery int) engine.Job) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var n int
		var state string
		err := tx.QueryRow(ctx, `SELECT state FROM webhook_deliveries WHERE id = $1 FOR UPDATE`, id).Scan(&state)
		if errors.Is(err, pgx.ErrNoRows) {
			return engine.Errorf(engine.ENOTFOUND, "there is no webhook delivery %d (slabot webhooks lists them)", id)
		}
		if err != nil {
			return err
		}
		if state == engine.DeliveryPending {
			// Its own job is still trying it: a second one would send it twice at once.
			return engine.Errorf(engine.ECONFLICT, "delivery %d is still being retried; wait for it to be delivered or parked", id)
		}
		err = tx.QueryRow(ctx, `UPDATE webhook_deliveries SET state = 'pending', retry_from = $2, attempts = 0,
			redeliveries = redeliveries + 1, next_attempt_at = $2, parked_at = NULL, delivered_at = NULL
			WHERE id = $1 RETURNING redeliveries`, id, now).Scan(&n)
		if err != nil {
			return err
		}
		q := queries{db: tx, jobs: db.jobs}
		_, err = q.Enqueue(ctx, job(id, n))
		return err
	})
	if c := engine.ErrorCode(err); c == engine.ENOTFOUND || c == engine.ECONFLICT {
		return err
	}
	return mapError(err, "redeliver webhook delivery %d", id)
}

// PruneCRM deletes what the CRM loop no longer needs: deliveries delivered
// before before, deliveries parked before parkedBefore (the policy's
// crm.parked_webhook_retention), and HubSpot writes finished before
// before (their jobs, and so any retry of them, are long gone by then).
func (db *DB) PruneCRM(ctx context.Context, before, parkedBefore time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM webhook_deliveries
		WHERE (state = 'delivered' AND delivered_at < $1) OR (state = 'parked' AND parked_at < $2)`, before, parkedBefore)
	if err != nil {
		return 0, mapError(err, "prune webhook deliveries")
	}
	n := tag.RowsAffected()
	tag, err = db.pool.Exec(ctx, `DELETE FROM hubspot_writes WHERE done_at < $1`, before)
	if err != nil {
		return n, mapError(err, "prune HubSpot writes")
	}
	return n + tag.RowsAffected(), nil
}

// ParkedFilter selects parked deliveries to send again.
type ParkedFilter struct {
	// Host, when set, keeps deliveries to endpoints on this host (with or
	// without its port), compared in lower case.
	Host string
	// Since, when set, keeps deliveries parked at or after it.
	Since time.Time
}

// ParkedWebhookDeliveries lists the parked deliveries f selects, in the
// order they must go out again: per lead (subject) and endpoint, in the
// order of their events.
func (db *DB) ParkedWebhookDeliveries(ctx context.Context, f ParkedFilter) ([]engine.WebhookDelivery, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE state = 'parked' AND ($1::timestamptz IS NULL OR parked_at >= $1)
		ORDER BY event_id, id`, nullTime(f.Since))
	if err != nil {
		return nil, mapError(err, "list parked webhook deliveries")
	}
	defer rows.Close()
	var out []engine.WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, mapError(err, "list parked webhook deliveries")
		}
		if f.Host != "" && !sameHost(d.Endpoint, f.Host) {
			continue
		}
		out = append(out, *d)
	}
	return out, mapError(rows.Err(), "list parked webhook deliveries")
}

// sameHost reports whether endpoint is on host ("hooks.example.com" or
// "hooks.example.com:8443").
func sameHost(endpoint, host string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host = strings.ToLower(strings.TrimSpace(host))
	return strings.EqualFold(u.Host, host) || strings.EqualFold(u.Hostname(), host)
}
