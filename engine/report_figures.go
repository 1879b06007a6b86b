package engine

import "time"

// The weekly report split in two, so that its figures can be counted
// where the leads are (storage, in SQL) and the report assembled from
// them the same way as from the leads in Go (BuildReport).

// ReportSpans are the periods a weekly report counts (ReportSpansOf).
type ReportSpans struct {
	Week Period
	// Month is the month to date (WeeklyReport.Month).
	Month Period
	// PreviousMonth is last month, on the first report of a month
	// (HasPreviousMonth).
	PreviousMonth    Period
	HasPreviousMonth bool
}

// LoadSpan is the span of leads and MQLs the report's figures can draw
// on, [from, to): from the 1st of the month before the earlier of the
// week's start and now, to the later of the week's end and now.
func (s ReportSpans) LoadSpan(now time.Time) (from, to time.Time) {
	loc := s.Week.Start.Location()
	earliest := s.Week.Start
	if now.Before(earliest) {
		earliest = now
	}
	y, m, _ := earliest.In(loc).Date()
	from = time.Date(y, m-1, 1, 0, 0, 0, 0, loc)
	to = s.Week.End
	if now.After(to) {
		to = now
	}
	return from, to
}

// ReportFigures are the counted figures of a weekly report.
type ReportFigures struct {
	Week, MonthToDate       Attainment
	WeekFunnel, MonthFunnel Funnel
	// PreviousMonth and PreviousMonthFunnel are last month's, when the
	// spans hold it; nil otherwise.
	PreviousMonth       *Attainment
	PreviousMonthFunnel *Funnel
	// RepLines has the week's line of every rep listed and every owner of
	// a lead received in the week, in any order (RankReps sorts).
	RepLines []RepLine
	// SQLsByDay counts the month to date's SQLs by day of the month.
	SQLsByDay map[int]int
	// Scorecards are the report's "By source" block and its findings.
	Scorecards ReportScorecards
}
