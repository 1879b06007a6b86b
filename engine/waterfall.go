package engine

import "time"

// WaterfallDay is one day of a "chart the finish line" waterfall: the
// cumulative target and, up to the day being reported on, the cumulative
// actual.
type WaterfallDay struct {
	// Date is midnight starting the day in the chart's zone.
	Date time.Time
	// Target is goal × d / n for day d of a month of n days.
	Target float64
	// Actual is the running total through this day; meaningful only when
	// HasActual is true. Days after the reporting day have HasActual false
	// and Actual 0, so a chart draws the actual line only as far as it goes.
	Actual    float64
	HasActual bool
}

// Waterfall lays out a month for the waterfall chart: for every day of the
// month that contains month (read in loc), the cumulative share of goal
// (goal × d / n, n the days in the month) and, for the days up to and
// including the day of through (in loc), the cumulative actual from
// actualPerDay, which maps a day of the month (1–31) to that day's count.
// Days of the month after through's day have no actual; when through is
// before the month, no day has one, and when it is after, every day does.
// A nil loc means UTC.
func Waterfall(goal float64, month time.Time, loc *time.Location, actualPerDay map[int]int, through time.Time) []WaterfallDay {
	if loc == nil {
		loc = time.UTC
	}
	y, m, _ := month.In(loc).Date()
	n := time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
	last := DateOf(through.In(loc))
	days := make([]WaterfallDay, n)
	sum := 0
	for d := 1; d <= n; d++ {
		date := CalendarDate{y, m, d}
		wd := WaterfallDay{Date: date.In(loc), Target: goal * float64(d) / float64(n)}
		if !last.Before(date) {
			sum += actualPerDay[d]
			wd.Actual, wd.HasActual = float64(sum), true
		}
		days[d-1] = wd
	}
	return days
}
