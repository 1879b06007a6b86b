package storage

import (
	"context"
	"strconv"
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
	// The events that bear on quality, in order: rejections, the
	// contests on them and their decisions, and the card's feedback.
	rows, err = db.pool.Query(ctx, `SELECT id, lead_id, kind, coalesce(data->>'category', ''), coalesce(data->>'detail', ''),
			coalesce(data->>'rejection', ''), coalesce(data->>'decision', ''), coalesce(data->>'answer', '')
		FROM lead_events WHERE kind = ANY($2) AND lead_id = ANY($1) ORDER BY lead_id, at, id`, ids,
		[]string{engine.EventRejected, engine.EventContested, engine.EventContestDecided, engine.EventCardFeedback})
	if err != nil {
		return nil, mapError(err, "load rejections for lead quality")
	}
	defer rows.Close()
	for rows.Next() {
		var (
			eventID, leadID                                  int64
			kind, category, detail, rejection, decision, ans string
		)
		if err := rows.Scan(&eventID, &leadID, &kind, &category, &detail, &rejection, &decision, &ans); err != nil {
			return nil, mapError(err, "load rejections for lead quality")
		}
		i, ok := index[leadID]
		if !ok {
			continue
		}
		f := &facts[i]
		switch kind {
		case engine.EventRejected:
			f.Rejections = append(f.Rejections, engine.RejectionFact{EventID: eventID, Category: engine.RejectCategory(category), Detail: detail})
		case engine.EventContested, engine.EventContestDecided:
			if kind == engine.EventContested {
				decision = engine.ContestPending
			}
			for j := range f.Rejections {
				if strconv.FormatInt(f.Rejections[j].EventID, 10) == rejection {
					f.Rejections[j].Contest = decision
				}
			}
		case engine.EventCardFeedback:
			if f.Feedback == "" {
				f.Feedback = ans
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, mapError(err, "load rejections for lead quality")
	}
	return facts, nil
}
