package storage

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// QualityFacts loads the leads received in [from, to), with the
// rejections recorded on them in the order they happened, for
// engine.ComputeQuality.
func (db *DB) QualityFacts(ctx context.Context, from, to time.Time) ([]engine.QualityFacts, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+factColumns+` FROM leads
		WHERE received_at >= $1 AND received_at < $2 ORDER BY id`, from, to)
	if err != nil {
		return nil, mapError(err, "load leads for lead quality")
	}
	leads, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*engine.Lead, error) { return scanLead(row) })
	if err != nil {
		return nil, mapError(err, "load leads for lead quality")
	}
	facts := make([]engine.QualityFacts, len(leads))
	index := make(map[int64]int, len(leads))
	ids := make([]int64, len(leads))
	for i, l := range leads {
		facts[i].Lead = *l
		index[l.ID] = i
		ids[i] = l.ID
	}
	rows, err = db.pool.Query(ctx, `SELECT lead_id, coalesce(data->>'category', ''), coalesce(data->>'detail', '')
		FROM lead_events WHERE kind = $2 AND lead_id = ANY($1) ORDER BY lead_id, at, id`, ids, engine.EventRejected)
	if err != nil {
		return nil, mapError(err, "load rejections for lead quality")
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id               int64
			category, detail string
		)
		if err := rows.Scan(&id, &category, &detail); err != nil {
			return nil, mapError(err, "load rejections for lead quality")
		}
		if i, ok := index[id]; ok {
			facts[i].Rejections = append(facts[i].Rejections, engine.RejectionFact{Category: engine.RejectCategory(category), Detail: detail})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err, "load rejections for lead quality")
	}
	return facts, nil
}
