package bot

import (
	"context"
	"strings"
	"time"

	"github.com/slabot/slabot/engine"
)

// This file loads the weekly report's data from the store and builds it.

// ReportStore is what the report reads; *storage.DB has all of it. The
// reps' availability history is read in a transaction (Tx.RepEvents).
type ReportStore interface {
	LeadFacts(ctx context.Context, from, to time.Time) ([]engine.LeadFacts, error)
	MQLs(ctx context.Context, from, to time.Time) ([]engine.MQL, error)
	Reps(ctx context.Context) ([]engine.Rep, error)
	InTx(ctx context.Context, fn func(engine.Tx) error) error
}

// LoadReport builds the report of week as of now from the store: every
// lead that can count in the week, its month and the month before, the
// MQLs of that span, the reps, and their availability history up to the
// later of the week's end and now.
func LoadReport(ctx context.Context, store ReportStore, p *engine.Policy, week engine.Period, now time.Time) (ReportView, error) {
	loc := week.Start.Location()
	// The previous month is the one before the week's, or before now's on
	// the first report of a month; load from the earlier of the two.
	earliest := week.Start
	if now.Before(earliest) {
		earliest = now
	}
	y, m, _ := earliest.In(loc).Date()
	from := time.Date(y, m-1, 1, 0, 0, 0, 0, loc)
	to := week.End
	if now.After(to) {
		to = now
	}
	facts, err := store.LeadFacts(ctx, from, to)
	if err != nil {
		return ReportView{}, err
	}
	mqls, err := store.MQLs(ctx, from, to)
	if err != nil {
		return ReportView{}, err
	}
	reps, err := store.Reps(ctx)
	if err != nil {
		return ReportView{}, err
	}
	var history []engine.RepEvent
	err = store.InTx(ctx, func(tx engine.Tx) error {
		var err error
		history, err = tx.RepEvents(ctx, week.Start, to)
		return err
	})
	if err != nil {
		return ReportView{}, err
	}
	names := map[string]string{}
	for _, r := range reps {
		if r.Name != "" {
			names[strings.ToLower(r.Email)] = r.Name
		}
	}
	data := engine.ReportData{Facts: facts, MQLs: mqls, Reps: reps, RepHistory: history}
	return ReportView{Report: engine.BuildReport(p, data, week, now), Policy: p, Names: names}, nil
}

// WeeklyReport builds the report of week as of now.
func (b *Bot) WeeklyReport(ctx context.Context, week engine.Period) (ReportView, error) {
	return LoadReport(ctx, b.store, b.service.Policy(), week, b.service.Now())
}
