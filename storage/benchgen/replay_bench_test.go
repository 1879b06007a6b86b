package benchgen_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/engine"
)

// BenchmarkScaleReplay replays the last full quarter of the generated
// history as `slabot policy simulate` does (the live policy on both sides,
// read once), and checks that the replay gives the figures /sla status all
// gives for the quarter. Run it with `-run '^$' -bench ScaleReplay
// -benchtime 1x` and SLABOT_BENCH_LEADS.
func BenchmarkScaleReplay(b *testing.B) {
	db, info := openBench(b)
	ctx := context.Background()
	p, now := info.Policy, info.Config.Now
	this, _ := engine.PeriodContaining("quarter", now, p.Location)
	quarter, _ := engine.PeriodContaining("quarter", this.Start.Add(-1), p.Location)
	want, err := db.Attainment(ctx, p, engine.Scope{Kind: engine.ScopeAll}, quarter, now)
	if err != nil {
		b.Fatal(err)
	}
	resetPeakRSS(b)
	var got engine.ReplayResult
	read := 0
	for b.Loop() {
		results, err := db.Replay(ctx, quarter, now, []*engine.Policy{p, p}, func(done, _ int) { read = done })
		if err != nil {
			b.Fatal(err)
		}
		got = results[1]
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/replay")
	b.ReportMetric(float64(read), "leads-read")
	b.ReportMetric(float64(got.Total.Leads), "leads-in-quarter")
	if rss := peakRSS(b); rss > 0 {
		b.ReportMetric(rss/(1<<20), "MB-peak-RSS")
	}
	type fig struct {
		SQLs, OnTime, Late, Rest, Returns int
		Breaches                          map[engine.BreachKind]int
		FirstTouch                        engine.Stats
	}
	wantFig := fig{want.SQLs, want.FirstTouchOnTime, want.FirstTouchLate, want.FirstTouchPending + want.FirstTouchClosed,
		want.Returns, want.BreachesByKind, want.TimeToFirstTouchBusiness}
	gotFig := fig{got.Total.Leads, got.Total.OnTime, got.Total.Late, got.Total.Pending, got.Total.Returned,
		got.Total.Breaches, got.Total.TimeToFirstTouch}
	if diff := cmp.Diff(wantFig, gotFig); diff != "" {
		b.Errorf("%s: the replay of the live policy differs from /sla status all (-status +replay):\n%s", quarter.Label, diff)
	}
}
