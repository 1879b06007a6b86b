package bot

import (
	"context"
	"strings"
	"time"

	"github.com/slabot/slabot/engine"
)

// This file loads the weekly report's data from the store and builds it.

// ReportStore is what the report reads; *storage.DB has all of it: the
// report's figures, counted where the leads are, and the reps' names.
type ReportStore interface {
	WeeklyReport(ctx context.Context, p *engine.Policy, week engine.Period, now time.Time) (engine.WeeklyReport, error)
	Reps(ctx context.Context) ([]engine.Rep, error)
	QualityFacts(ctx context.Context, from, to time.Time) ([]engine.QualityFacts, error)
}

// LoadReport builds the report of week as of now: every figure of the
// week, its month and the month before, with the reps' availability.
func LoadReport(ctx context.Context, store ReportStore, p *engine.Policy, week engine.Period, now time.Time) (ReportView, error) {
	report, err := store.WeeklyReport(ctx, p, week, now)
	if err != nil {
		return ReportView{}, err
	}
	reps, err := store.Reps(ctx)
	if err != nil {
		return ReportView{}, err
	}
	names := map[string]string{}
	for _, r := range reps {
		if r.Name != "" {
			names[strings.ToLower(r.Email)] = r.Name
		}
	}
	// The week's hand-offs as Sales received them, as /sla quality counts.
	facts, err := store.QualityFacts(ctx, week.Start, week.End)
	if err != nil {
		return ReportView{}, err
	}
	q := engine.ComputeQuality(facts, false, p.Targets.Accepted)
	return ReportView{Report: report, Policy: p, Names: names, Quality: q.All, QualityTarget: q.Target}, nil
}

// WeeklyReport builds the report of week as of now.
func (b *Bot) WeeklyReport(ctx context.Context, week engine.Period) (ReportView, error) {
	return LoadReport(ctx, b.store, b.service.Policy(), week, b.service.Now())
}
