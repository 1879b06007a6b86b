package benchgen_test

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/slabot/slabot/engine"
)

// BenchmarkScaleScorecard times the scorecard's storage side on the
// generated history: a quarter by source (what /sla sources counts), the
// last month by source with every group (what `slabot report --month
// --csv` writes), and speed to lead over a quarter within each rule.
func BenchmarkScaleScorecard(b *testing.B) {
	db, info := openBench(b)
	ctx := context.Background()
	p, now := info.Policy, info.Config.Now
	ps := periodsAt(p, now)
	lastMonth, _ := engine.PeriodContaining("month", ps.month.Start.Add(-1), p.Location)
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS(b)
	answer := func(name string, ask func() (int, error)) {
		b.Run("scorecard/"+name, func(b *testing.B) {
			for b.Loop() {
				n, err := ask()
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					b.Fatal("nothing counted")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/answer")
		})
	}
	answer("sources-quarter", func() (int, error) {
		sc, err := db.Scorecard(ctx, p, engine.BySource, ps.quarter, now, 8)
		return sc.All.SQLs, err
	})
	answer("csv-last-month-by-source", func() (int, error) {
		sc, err := db.Scorecard(ctx, p, engine.BySource, lastMonth, now, 0)
		return sc.All.SQLs, err
	})
	answer("speed-quarter-within-rules", func() (int, error) {
		s, err := db.Speed(ctx, p, ps.quarter, now, "", false)
		return len(s.Tables), err
	})
	if rss := peakRSS(b); rss > 0 {
		b.Run("scorecard/peak-rss", func(b *testing.B) {
			for b.Loop() {
			}
			b.ReportMetric(rss/(1<<20), "MB-peak-RSS")
		})
	}
}
