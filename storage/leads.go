package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

const leadColumns = `id, external_id, source, segment, score, contact, company, context, crm_url,
	value::float8, owner_email, team, rule, state, handed_off_at, received_at, assigned_at,
	first_touch_due, acknowledged_at, first_touch_at, snoozed_until, closed_at, reassignments,
	return_reason, amount::float8, updated_at`

func scanLead(row pgx.Row) (*engine.Lead, error) {
	var (
		l                                                 engine.Lead
		contact, company, leadCtx                         []byte
		state                                             string
		assigned, due, acked, firstTouch, snoozed, closed *time.Time
	)
	err := row.Scan(&l.ID, &l.ExternalID, &l.Source, &l.Segment, &l.Score, &contact, &company, &leadCtx,
		&l.CRMURL, &l.Value, &l.OwnerEmail, &l.Team, &l.Rule, &state, &l.HandedOffAt, &l.ReceivedAt,
		&assigned, &due, &acked, &firstTouch, &snoozed, &closed, &l.Reassignments, &l.ReturnReason,
		&l.Amount, &l.UpdatedAt)
	if err != nil {
		return nil, err
	}
	l.State = engine.LeadState(state)
	l.AssignedAt, l.FirstTouchDue, l.AcknowledgedAt = timeOrZero(assigned), timeOrZero(due), timeOrZero(acked)
	l.FirstTouchAt, l.SnoozedUntil, l.ClosedAt = timeOrZero(firstTouch), timeOrZero(snoozed), timeOrZero(closed)
	if err := unmarshalJSON(contact, &l.Contact); err != nil {
		return nil, fmt.Errorf("lead %d contact: %w", l.ID, err)
	}
	if err := unmarshalJSON(company, &l.Company); err != nil {
		return nil, fmt.Errorf("lead %d company: %w", l.ID, err)
	}
	if err := unmarshalJSON(leadCtx, &l.Context); err != nil {
		return nil, fmt.Errorf("lead %d context: %w", l.ID, err)
	}
	return &l, nil
}

func unmarshalJSON(b []byte, v any) error {
	if len(b) == 0 {
		return nil
	}
	return json.Unmarshal(b, v)
}

// LeadByID reads one lead.
func (q *queries) LeadByID(ctx context.Context, id int64) (*engine.Lead, error) {
	l, err := scanLead(q.db.QueryRow(ctx, `SELECT `+leadColumns+` FROM leads WHERE id = $1`, id))
	return l, mapError(err, "find lead %d", id)
}

// LockLead reads one lead and locks its row until the transaction ends.
func (q *queries) LockLead(ctx context.Context, id int64) (*engine.Lead, error) {
	l, err := scanLead(q.db.QueryRow(ctx, `SELECT `+leadColumns+` FROM leads WHERE id = $1 FOR UPDATE`, id))
	return l, mapError(err, "find lead %d", id)
}

// LeadByExternalID finds a lead by its own external id or a linked one.
func (q *queries) LeadByExternalID(ctx context.Context, externalID string) (*engine.Lead, error) {
	l, err := scanLead(q.db.QueryRow(ctx, `SELECT `+leadColumns+` FROM leads
		WHERE id = COALESCE(
			(SELECT id FROM leads WHERE external_id = $1),
			(SELECT lead_id FROM lead_aliases WHERE external_id = $1))`, externalID))
	return l, mapError(err, "find lead %q", externalID)
}

// OpenLeadByContactEmail finds the oldest open lead of a contact.
func (q *queries) OpenLeadByContactEmail(ctx context.Context, email string) (*engine.Lead, error) {
	l, err := scanLead(q.db.QueryRow(ctx, `SELECT `+leadColumns+` FROM leads
		WHERE contact_email = lower($1)
		  AND state IN ('new', 'notified', 'acknowledged', 'working', 'snoozed', 'reassigned')
		ORDER BY id LIMIT 1`, email))
	return l, mapError(err, "find an open lead for this contact")
}

// LastReturnedLeadByContactEmail finds the contact's lead that went back
// to Marketing last.
func (q *queries) LastReturnedLeadByContactEmail(ctx context.Context, email string) (*engine.Lead, error) {
	l, err := scanLead(q.db.QueryRow(ctx, `SELECT `+leadColumns+` FROM leads
		WHERE contact_email = lower($1) AND state = 'returned_to_marketing'
		ORDER BY closed_at DESC NULLS LAST, id DESC LIMIT 1`, email))
	return l, mapError(err, "find a returned lead of this contact")
}

func leadArgs(l *engine.Lead) ([]any, error) {
	contact, err := json.Marshal(l.Contact)
	if err != nil {
		return nil, err
	}
	company, err := json.Marshal(l.Company)
	if err != nil {
		return nil, err
	}
	leadCtx, err := json.Marshal(l.Context)
	if err != nil {
		return nil, err
	}
	return []any{l.ExternalID, l.Source, l.Segment, l.Score, contact, company, leadCtx, l.CRMURL,
		l.Value, l.OwnerEmail, l.Team, l.Rule, string(l.State), l.HandedOffAt, l.ReceivedAt,
		nullTime(l.AssignedAt), nullTime(l.FirstTouchDue), nullTime(l.AcknowledgedAt),
		nullTime(l.FirstTouchAt), nullTime(l.SnoozedUntil), nullTime(l.ClosedAt), l.Reassignments,
		l.ReturnReason, l.Amount}, nil
}

const insertLead = `INSERT INTO leads (external_id, source, segment, score, contact, company, context,
	crm_url, value, owner_email, team, rule, state, handed_off_at, received_at, assigned_at,
	first_touch_due, acknowledged_at, first_touch_at, snoozed_until, closed_at, reassignments,
	return_reason, amount)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
	        $20, $21, $22, $23, $24)`

// CreateLead inserts a lead; a duplicate external id is an ECONFLICT error.
func (q *queries) CreateLead(ctx context.Context, l *engine.Lead) error {
	args, err := leadArgs(l)
	if err != nil {
		return fmt.Errorf("storage: unable to encode lead %q: %w", l.ExternalID, err)
	}
	err = q.db.QueryRow(ctx, insertLead+` RETURNING id, updated_at`, args...).Scan(&l.ID, &l.UpdatedAt)
	return mapError(err, "create lead %q", l.ExternalID)
}

// InsertLeadIfNew inserts a lead unless its external id is taken. Under
// concurrency the unique index makes later callers wait for the first
// transaction and then insert nothing.
func (q *queries) InsertLeadIfNew(ctx context.Context, l *engine.Lead) (bool, error) {
	args, err := leadArgs(l)
	if err != nil {
		return false, fmt.Errorf("storage: unable to encode lead %q: %w", l.ExternalID, err)
	}
	err = q.db.QueryRow(ctx, insertLead+` ON CONFLICT (external_id) DO NOTHING RETURNING id, updated_at`,
		args...).Scan(&l.ID, &l.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, mapError(err, "create lead %q", l.ExternalID)
	}
	return true, nil
}

// UpdateLead writes every field of the lead back.
func (q *queries) UpdateLead(ctx context.Context, l *engine.Lead) error {
	args, err := leadArgs(l)
	if err != nil {
		return fmt.Errorf("storage: unable to encode lead %q: %w", l.ExternalID, err)
	}
	args = append(args, l.ID)
	err = q.db.QueryRow(ctx, `UPDATE leads SET (external_id, source, segment, score, contact, company,
		context, crm_url, value, owner_email, team, rule, state, handed_off_at, received_at,
		assigned_at, first_touch_due, acknowledged_at, first_touch_at, snoozed_until, closed_at,
		reassignments, return_reason, amount, updated_at) =
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
		 $20, $21, $22, $23, $24, now())
		WHERE id = $25 RETURNING updated_at`, args...).Scan(&l.UpdatedAt)
	return mapError(err, "update lead %d", l.ID)
}

// LinkExternalID records another external id for a lead.
func (q *queries) LinkExternalID(ctx context.Context, externalID string, leadID int64) (bool, error) {
	tag, err := q.db.Exec(ctx, `INSERT INTO lead_aliases (external_id, lead_id)
		SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM leads WHERE external_id = $1)
		ON CONFLICT (external_id) DO NOTHING`, externalID, leadID)
	if err != nil {
		return false, mapError(err, "link %q to lead %d", externalID, leadID)
	}
	return tag.RowsAffected() == 1, nil
}

// AddTouch records a touch unless its key was seen before.
func (q *queries) AddTouch(ctx context.Context, t *engine.Touch) (bool, error) {
	var key any
	if t.Key != "" {
		key = t.Key
	}
	err := q.db.QueryRow(ctx, `INSERT INTO touches (lead_id, kind, at, by_email, note, origin, key)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING RETURNING id`,
		t.LeadID, string(t.Kind), t.At, t.ByEmail, t.Note, t.Origin, key).Scan(&t.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, mapError(err, "log a touch on lead %d", t.LeadID)
	}
	return true, nil
}

// Touches lists a lead's touches in the order they happened.
func (q *queries) Touches(ctx context.Context, leadID int64) ([]engine.Touch, error) {
	rows, err := q.db.Query(ctx, `SELECT id, lead_id, kind, at, by_email, note, origin, COALESCE(key, '')
		FROM touches WHERE lead_id = $1 ORDER BY at, id`, leadID)
	if err != nil {
		return nil, mapError(err, "list touches of lead %d", leadID)
	}
	touches, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (engine.Touch, error) {
		var t engine.Touch
		var kind string
		err := row.Scan(&t.ID, &t.LeadID, &kind, &t.At, &t.ByEmail, &t.Note, &t.Origin, &t.Key)
		t.Kind = engine.TouchKind(kind)
		return t, err
	})
	return touches, mapError(err, "list touches of lead %d", leadID)
}

// AppendEvent adds an entry to a lead's history.
func (q *queries) AppendEvent(ctx context.Context, e *engine.Event) error {
	data := e.Data
	if data == nil {
		data = map[string]any{}
	}
	err := q.db.QueryRow(ctx, `INSERT INTO lead_events (lead_id, at, kind, actor, data)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, e.LeadID, e.At, e.Kind, e.Actor, data).Scan(&e.ID)
	return mapError(err, "record %s on lead %d", e.Kind, e.LeadID)
}

// Events lists a lead's history in order.
func (q *queries) Events(ctx context.Context, leadID int64) ([]engine.Event, error) {
	rows, err := q.db.Query(ctx, `SELECT id, lead_id, at, kind, actor, data FROM lead_events
		WHERE lead_id = $1 ORDER BY id`, leadID)
	if err != nil {
		return nil, mapError(err, "list events of lead %d", leadID)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (engine.Event, error) {
		var e engine.Event
		err := row.Scan(&e.ID, &e.LeadID, &e.At, &e.Kind, &e.Actor, &e.Data)
		return e, err
	})
	return events, mapError(err, "list events of lead %d", leadID)
}

// AddMQL records a marketing-qualified lead once per external id.
func (q *queries) AddMQL(ctx context.Context, m *engine.MQL) (bool, error) {
	err := q.db.QueryRow(ctx, `INSERT INTO mqls (external_id, source, segment, at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (external_id) DO NOTHING RETURNING id`, m.ExternalID, m.Source, m.Segment, m.At).Scan(&m.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, mapError(err, "record MQL %q", m.ExternalID)
	}
	return true, nil
}
