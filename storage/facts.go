package storage

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// factColumns are leadColumns without the lead's context (who, company,
// form answers, web activity): figures never show it, and decoding it was
// most of the cost of an answer.
var factColumns = strings.Replace(leadColumns, "contact, company, context,", "'{}'::jsonb, '{}'::jsonb, '{}'::jsonb,", 1)

// LeadFacts loads every lead that can count in the period [from, to): those
// received before its end that were still open at, or closed after, its
// start; with their touches, breaches and return reasons.
func (db *DB) LeadFacts(ctx context.Context, from, to time.Time) ([]engine.LeadFacts, error) {
	return db.LeadFactsFor(ctx, from, to, engine.Scope{}, nil)
}

// LeadFactsFor loads what LeadFacts loads, but for a rep's or a team's
// figures only the leads that can count for them: those they own (by the
// lead's team, or its owner among emails, the team's reps), and those with
// a breach recorded against them. The set may hold more leads than the
// scope's figures use; ComputeAttainment picks exactly. emails are
// lower-case; ScopeAll loads every lead of the period.
func (db *DB) LeadFactsFor(ctx context.Context, from, to time.Time, scope engine.Scope, emails []string) ([]engine.LeadFacts, error) {
	var (
		rows pgx.Rows
		err  error
	)
	switch scope.Kind {
	case engine.ScopeRep, engine.ScopeTeam:
		team := ""
		if scope.Kind == engine.ScopeTeam {
			team = strings.TrimSpace(scope.Team)
		} else {
			emails = engine.ScopeReps(nil, scope)
		}
		// Each way in is an index: the owners', the team's, the breaches'.
		rows, err = db.pool.Query(ctx, `SELECT `+factColumns+` FROM leads
			WHERE id = ANY(ARRAY(
				SELECT id FROM leads WHERE lower(owner_email) = ANY($3) AND received_at < $2
				UNION SELECT id FROM leads WHERE $4 <> '' AND lower(team) = lower($4) AND received_at < $2
				UNION SELECT e.lead_id FROM unnest($3::text[]) AS r(email), LATERAL (
					SELECT lead_id FROM lead_events WHERE kind = 'breach' AND lower(data->>'rep') = r.email OFFSET 0) e
				UNION SELECT lead_id FROM lead_events WHERE kind = 'breach' AND $4 <> '' AND lower(data->>'team') = lower($4)))
			  AND received_at < $2 AND (closed_at IS NULL OR closed_at >= $1 OR received_at >= $1)
			ORDER BY id`, from, to, emails, team)
	default:
		rows, err = db.pool.Query(ctx, `SELECT `+factColumns+` FROM leads
			WHERE received_at < $2 AND (closed_at IS NULL OR closed_at >= $1 OR received_at >= $1)
			ORDER BY id`, from, to)
	}
	if err != nil {
		return nil, mapError(err, "load leads for a report")
	}
	leads, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*engine.Lead, error) { return scanLead(row) })
	if err != nil {
		return nil, mapError(err, "load leads for a report")
	}
	return db.factsOf(ctx, leads)
}

// leadFactsByID loads the facts of the leads with these ids, in id order;
// ids that name no lead are left out.
func (q *queries) leadFactsByID(ctx context.Context, ids []int64) ([]engine.LeadFacts, error) {
	rows, err := q.db.Query(ctx, `SELECT `+factColumns+` FROM leads WHERE id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return nil, mapError(err, "load leads by id")
	}
	leads, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*engine.Lead, error) { return scanLead(row) })
	if err != nil {
		return nil, mapError(err, "load leads by id")
	}
	return q.factsOf(ctx, leads)
}

// factsOf adds to leads their touches, breaches and return reasons.
func (q *queries) factsOf(ctx context.Context, leads []*engine.Lead) ([]engine.LeadFacts, error) {
	facts, index, ids, err := q.withTouches(ctx, leads)
	if err != nil {
		return nil, err
	}
	for i := range facts {
		if l := &facts[i].Lead; l.State == engine.StateReturned {
			facts[i].ReturnedReason = l.ReturnReason
		}
	}
	erows, err := q.db.Query(ctx, `SELECT id, lead_id, at, kind, actor, data FROM lead_events
		WHERE lead_id = ANY($1) AND kind = $2 ORDER BY id`, ids, engine.EventBreach)
	if err != nil {
		return nil, mapError(err, "load breaches for a report")
	}
	events, err := pgx.CollectRows(erows, func(row pgx.CollectableRow) (engine.Event, error) {
		var e engine.Event
		err := row.Scan(&e.ID, &e.LeadID, &e.At, &e.Kind, &e.Actor, &e.Data)
		return e, err
	})
	if err != nil {
		return nil, mapError(err, "load breaches for a report")
	}
	for _, e := range events {
		if b, ok := engine.BreachFromEvent(e); ok {
			f := &facts[index[e.LeadID]]
			f.Breaches = append(f.Breaches, b)
		}
	}
	if err := q.withOpportunities(ctx, facts, index, ids); err != nil {
		return nil, err
	}
	return facts, nil
}

// MQLs lists the marketing-qualified leads of [from, to).
func (db *DB) MQLs(ctx context.Context, from, to time.Time) ([]engine.MQL, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, external_id, source, segment, at FROM mqls
		WHERE at >= $1 AND at < $2 ORDER BY at, id`, from, to)
	if err != nil {
		return nil, mapError(err, "load MQLs")
	}
	mqls, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (engine.MQL, error) {
		var m engine.MQL
		err := row.Scan(&m.ID, &m.ExternalID, &m.Source, &m.Segment, &m.At)
		return m, err
	})
	return mqls, mapError(err, "load MQLs")
}

// withTouches pairs leads with the times of their touches, in one query. It
// also returns each lead's index by id and the ids, for further loading.
func (q *queries) withTouches(ctx context.Context, leads []*engine.Lead) ([]engine.LeadFacts, map[int64]int, []int64, error) {
	facts := make([]engine.LeadFacts, len(leads))
	index := make(map[int64]int, len(leads))
	ids := make([]int64, len(leads))
	for i, l := range leads {
		facts[i] = engine.LeadFacts{Lead: *l}
		index[l.ID] = i
		ids[i] = l.ID
	}
	if len(ids) == 0 {
		return facts, index, ids, nil
	}
	rows, err := q.db.Query(ctx, `SELECT lead_id, at FROM touches WHERE lead_id = ANY($1) ORDER BY lead_id, at`, ids)
	if err != nil {
		return nil, nil, nil, mapError(err, "load touches")
	}
	var leadID int64
	var at time.Time
	if _, err := pgx.ForEachRow(rows, []any{&leadID, &at}, func() error {
		facts[index[leadID]].Touches = append(facts[index[leadID]].Touches, at)
		return nil
	}); err != nil {
		return nil, nil, nil, mapError(err, "load touches")
	}
	return facts, index, ids, nil
}
