package storage

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// LeadMessage is a Slack message slabot posted about a lead.
type LeadMessage struct {
	ID         int64
	LeadID     int64
	Kind       string
	Recipient  string
	Channel    string
	TS         string
	AssignedAt time.Time
	// EventID is the event an escalation is about (0 for other kinds).
	EventID int64
	// QuietAt is when the message lost its buttons because its lead moved
	// on (zero while it has them).
	QuietAt time.Time
}

// SaveLeadMessage records a posted message; posting the same one twice is a no-op.
func (db *DB) SaveLeadMessage(ctx context.Context, m *LeadMessage) error {
	var event any
	if m.EventID != 0 {
		event = m.EventID
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO lead_messages (lead_id, kind, recipient, channel, ts, assigned_at, event_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (channel, ts) DO NOTHING`,
		m.LeadID, m.Kind, m.Recipient, m.Channel, m.TS, nullTime(m.AssignedAt), event)
	return mapError(err, "record the Slack message of lead %d", m.LeadID)
}

// LeadMessages lists the messages of one kind about a lead, oldest first.
func (db *DB) LeadMessages(ctx context.Context, leadID int64, kind string) ([]LeadMessage, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, lead_id, kind, recipient, channel, ts, assigned_at,
			COALESCE(event_id, 0), quiet_at
		FROM lead_messages WHERE lead_id = $1 AND kind = $2 ORDER BY id`, leadID, kind)
	if err != nil {
		return nil, mapError(err, "list Slack messages of lead %d", leadID)
	}
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (LeadMessage, error) {
		var m LeadMessage
		var assigned, quiet *time.Time
		err := row.Scan(&m.ID, &m.LeadID, &m.Kind, &m.Recipient, &m.Channel, &m.TS, &assigned, &m.EventID, &quiet)
		m.AssignedAt, m.QuietAt = timeOrZero(assigned), timeOrZero(quiet)
		return m, err
	})
	return msgs, mapError(err, "list Slack messages of lead %d", leadID)
}

// QuietLeadMessage records that a message lost its buttons.
func (db *DB) QuietLeadMessage(ctx context.Context, id int64, at time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE lead_messages SET quiet_at = $2 WHERE id = $1 AND quiet_at IS NULL`, id, at)
	return mapError(err, "record that message %d lost its buttons", id)
}
