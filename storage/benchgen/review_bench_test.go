package benchgen_test

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/slabot/slabot/engine"
)

// BenchmarkScaleReview times the review pack's storage side on the
// generated history, as /sla review asks for it: the default six full
// months, and three. What it shows is a few rows a month, a few a cause
// and a rule; the cost is a scan of the months' lead figures, the
// breaching reps' assignments sorted rep by rep, and a scan of the span's
// leads grouped into lead quality's classes.
func BenchmarkScaleReview(b *testing.B) {
	db, info := openBench(b)
	ctx := context.Background()
	p, now := info.Policy, info.Config.Now
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS(b)
	for _, months := range []struct {
		name string
		n    int
	}{{"six-months", engine.DefaultReviewMonths}, {"three-months", 3}} {
		b.Run("review/"+months.name, func(b *testing.B) {
			span := engine.ReviewMonthsBefore(months.n, now, p.Location)
			for b.Loop() {
				rv, err := db.Review(ctx, p, span, now)
				if err != nil {
					b.Fatal(err)
				}
				if rv.ByScore.All.SQLs == 0 || rv.Breaches.Total == 0 {
					b.Fatal("nothing counted")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/answer")
		})
	}
	if rss := peakRSS(b); rss > 0 {
		b.Run("review/peak-rss", func(b *testing.B) {
			for b.Loop() {
			}
			b.ReportMetric(rss/(1<<20), "MB-peak-RSS")
		})
	}
}
