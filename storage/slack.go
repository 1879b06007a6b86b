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
}

// SaveLeadMessage records a posted message; posting the same one twice is a no-op.
func (db *DB) SaveLeadMessage(ctx context.Context, m *LeadMessage) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO lead_messages (lead_id, kind, recipient, channel, ts, assigned_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel, ts) DO NOTHING`,
		m.LeadID, m.Kind, m.Recipient, m.Channel, m.TS, nullTime(m.AssignedAt))
	return mapError(err, "record the Slack message of lead %d", m.LeadID)
}

// LeadMessages lists the messages of one kind about a lead, oldest first.
func (db *DB) LeadMessages(ctx context.Context, leadID int64, kind string) ([]LeadMessage, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, lead_id, kind, recipient, channel, ts, assigned_at
		FROM lead_messages WHERE lead_id = $1 AND kind = $2 ORDER BY id`, leadID, kind)
	if err != nil {
		return nil, mapError(err, "list Slack messages of lead %d", leadID)
	}
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (LeadMessage, error) {
		var m LeadMessage
		var assigned *time.Time
		err := row.Scan(&m.ID, &m.LeadID, &m.Kind, &m.Recipient, &m.Channel, &m.TS, &assigned)
		m.AssignedAt = timeOrZero(assigned)
		return m, err
	})
	return msgs, mapError(err, "list Slack messages of lead %d", leadID)
}
