package engine

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// The weekly smarketing report as data: both sides' commitments against
// actuals, for the chat adapter to render and the chart package to draw.

// RepLine is one rep's week, for the best and worst lists.
type RepLine struct {
	Email string
	// SQLs counts the leads the rep holds that came in this week; Decided
	// those whose first touch is on time or late.
	SQLs, Decided int
	// OnTimeShare is on time ÷ decided.
	OnTimeShare float64
	// Breaches counts the rep's breaches this week.
	Breaches int
}

// MarketingReport is Marketing's side of the report.
type MarketingReport struct {
	// WeekFunnel is the week against its share of the monthly targets;
	// MonthFunnel the month to date (WeeklyReport.Month) against the
	// targets of its days so far.
	WeekFunnel, MonthFunnel Funnel
	// ReturnsByReason counts the leads Sales sent back this week, by reason:
	// Marketing's feedback on lead quality.
	ReturnsByReason map[string]int
}

// SalesReport is Sales' side of the report, for everyone.
type SalesReport struct {
	Week, MonthToDate Attainment
}

// WeeklyReport is the weekly smarketing status report as data.
type WeeklyReport struct {
	Week Period
	// Month runs from the 1st of the month of the week's last day to the
	// end of the week: the month to date, labelled "November 1–22, 2026",
	// "November 1, 2026", or just "November 2026" when the week ends the
	// month.
	Month     Period
	Marketing MarketingReport
	Sales     SalesReport
	// Best and Worst rank reps by this week's on-time share among those
	// with at least MinDecidedForRanking decided leads; see RankReps.
	Best, Worst []RepLine
	// Away lists the reps who were away or inactive at some time during
	// the week, by email, with the dates of each absence (see RepAbsences):
	// a rep away from Tuesday to Thursday is listed though back since.
	Away []Absence
	// Unrouted counts this week's leads that have no owner.
	Unrouted int
	// ReviewReminder says in plain words that the agreement's review date
	// is within ReviewReminderDays or past; "" otherwise.
	ReviewReminder string
	// PreviousMonth and PreviousMonthFunnel are last month's final figures
	// on the first report of a month: when the week holds a 1st, or the
	// report runs in the first 7 days of a month. nil otherwise.
	PreviousMonth       *Attainment
	PreviousMonthFunnel *Funnel
	// Waterfall is this month's SQLs by day: the cumulative target (the
	// monthly SQL target, see MonthlyTargets) and the cumulative actual
	// through the week's last day.
	Waterfall []WaterfallDay
	// GeneratedAt is the now the report was built at.
	GeneratedAt time.Time
	// Scorecards are the week's leads by source, last month's on the
	// first report of a month, and "slower on better leads" over the
	// month to date.
	Scorecards ReportScorecards
}

// MinDecidedForRanking is how many decided leads a rep needs in the week to
// be ranked: with one or two, a single lead swings the share from 0 to 100%.
const MinDecidedForRanking = 3

// ReviewReminderDays is how close the review date must be for the report
// to remind everyone of it.
const ReviewReminderDays = 30

// ReportData is what a weekly report is made from.
type ReportData struct {
	// Facts are the leads that can count in the week, its month and the
	// month before; MQLs those of the same span.
	Facts []LeadFacts
	MQLs  []MQL
	Reps  []Rep
	// RepHistory is the reps' availability history that bears on the week
	// (Tx.RepEvents up to the later of the week's end and now), from which
	// the away list comes.
	RepHistory []RepEvent
}

// BuildWeeklyReport is BuildReport without the reps' availability
// history, so its away list is empty.
func BuildWeeklyReport(p *Policy, facts []LeadFacts, mqls []MQL, reps []Rep, week Period, now time.Time) WeeklyReport {
	return BuildReport(p, ReportData{Facts: facts, MQLs: mqls, Reps: reps}, week, now)
}

// BuildReport assembles the report for week as of now. Dates are read in
// the week's location; the numbers follow ComputeAttainment and
// ComputeFunnel, the away list RepAbsences.
func BuildReport(p *Policy, d ReportData, week Period, now time.Time) WeeklyReport {
	spans := ReportSpansOf(week, now)
	return AssembleReport(p, ComputeReportFigures(p, d, spans, now), d.RepHistory, spans, now)
}

// ReportSpansOf works out the periods the report of week as of now
// counts: the week, its month to date and, on the first report of a
// month, the month before.
func ReportSpansOf(week Period, now time.Time) ReportSpans {
	loc := week.Start.Location()
	days := week.dates()
	last := DateOf(week.Start.In(loc))
	if len(days) > 0 {
		last = days[len(days)-1]
	}
	// A report made while its week still runs counts the month to today,
	// not to days that have not happened yet.
	if today := DateOf(now.In(loc)); today.Before(last) && len(days) > 0 && !today.Before(days[0]) {
		last = today
	}
	spans := ReportSpans{Week: week, Month: monthToDate(last, loc)}
	spans.PreviousMonth, spans.HasPreviousMonth = previousMonth(days, now, loc)
	return spans
}

// ComputeReportFigures counts the report's figures in Go over d's leads
// and MQLs.
func ComputeReportFigures(p *Policy, d ReportData, spans ReportSpans, now time.Time) ReportFigures {
	facts, mqls := d.Facts, d.MQLs
	all := Scope{Kind: ScopeAll}
	fig := ReportFigures{
		Week:        ComputeAttainment(p, facts, all, spans.Week, now),
		MonthToDate: ComputeAttainment(p, facts, all, spans.Month, now),
		WeekFunnel:  ComputeFunnel(p, facts, mqls, spans.Week, now),
		MonthFunnel: ComputeFunnel(p, facts, mqls, spans.Month, now),
		RepLines:    repLines(p, facts, d.Reps, spans.Week, now),
		SQLsByDay:   sqlsByDay(facts, spans.Month, now),
		Scorecards:  ComputeReportScorecards(p, facts, mqls, spans, now),
	}
	if spans.HasPreviousMonth {
		a := ComputeAttainment(p, facts, all, spans.PreviousMonth, now)
		f := ComputeFunnel(p, facts, mqls, spans.PreviousMonth, now)
		fig.PreviousMonth, fig.PreviousMonthFunnel = &a, &f
	}
	return fig
}

// AssembleReport makes the report of spans.Week as of now from its
// figures, however they were counted, and the reps' availability history.
func AssembleReport(p *Policy, fig ReportFigures, history []RepEvent, spans ReportSpans, now time.Time) WeeklyReport {
	r := WeeklyReport{Week: spans.Week, Month: spans.Month, GeneratedAt: now}
	r.Sales.Week, r.Sales.MonthToDate = fig.Week, fig.MonthToDate
	r.Marketing.WeekFunnel, r.Marketing.MonthFunnel = fig.WeekFunnel, fig.MonthFunnel
	r.Marketing.ReturnsByReason = maps.Clone(r.Sales.Week.ReturnsByReason)
	r.Unrouted = r.Sales.Week.Unrouted

	r.Best, r.Worst = RankReps(fig.RepLines, r.Sales.Week.OnTimeTarget)

	r.Away = RepAbsences(history, spans.Week, now)

	if p != nil {
		r.ReviewReminder = reviewReminder(p.ReviewBy, now, orUTC(p.Location))
	}
	r.PreviousMonth, r.PreviousMonthFunnel = fig.PreviousMonth, fig.PreviousMonthFunnel
	r.Waterfall = sqlWaterfall(p, fig.SQLsByDay, spans.Month, now)
	r.Scorecards = fig.Scorecards
	return r
}

// monthToDate is the month of day last, from its 1st to the end of last.
func monthToDate(last CalendarDate, loc *time.Location) Period {
	whole := MonthPeriod(last.Year, last.Month, loc)
	end := last.AddDays(1).In(loc)
	if !end.Before(whole.End) {
		return whole
	}
	label := fmt.Sprintf("%s 1–%d, %d", last.Month, last.Day, last.Year)
	if last.Day == 1 {
		label = fmt.Sprintf("%s 1, %d", last.Month, last.Year)
	}
	return Period{Start: whole.Start, End: end, Label: label}
}

// previousMonth is last month on the first report of a month: the month
// before the 1st the week holds, else before now's month when now is in
// its first 7 days.
func previousMonth(days []CalendarDate, now time.Time, loc *time.Location) (Period, bool) {
	anchor, ok := CalendarDate{}, false
	for _, d := range days {
		if d.Day == 1 {
			anchor, ok = d, true
		}
	}
	if today := DateOf(now.In(loc)); !ok && today.Day <= 7 {
		anchor, ok = today, true
	}
	if !ok {
		return Period{}, false
	}
	prev := DateOf(time.Date(anchor.Year, anchor.Month-1, 1, 12, 0, 0, 0, time.UTC))
	return MonthPeriod(prev.Year, prev.Month, loc), true
}

// repLines works out this week's line for every rep: those listed and
// those who hold a lead that came in this week.
func repLines(p *Policy, facts []LeadFacts, reps []Rep, week Period, now time.Time) []RepLine {
	var emails []string
	for _, rep := range reps {
		emails = append(emails, strings.ToLower(strings.TrimSpace(rep.Email)))
	}
	for i := range facts {
		if l := &facts[i].Lead; l.OwnerEmail != "" && week.Contains(l.ReceivedAt) {
			emails = append(emails, strings.ToLower(strings.TrimSpace(l.OwnerEmail)))
		}
	}
	slices.Sort(emails)
	emails = slices.Compact(emails)
	// Each rep's figures come from the leads they own and the breaches
	// recorded against them: index those once, rather than give every rep
	// the whole history (500 reps × a year of leads).
	mine := make(map[string][]int, len(emails))
	for i := range facts {
		f := &facts[i]
		owner := strings.ToLower(strings.TrimSpace(f.Lead.OwnerEmail))
		if owner != "" {
			mine[owner] = append(mine[owner], i)
		}
		for _, b := range f.Breaches {
			if rep := strings.TrimSpace(breachRep(b, &f.Lead)); rep != "" && rep != owner {
				if idx := mine[rep]; len(idx) == 0 || idx[len(idx)-1] != i {
					mine[rep] = append(idx, i)
				}
			}
		}
	}
	var lines []RepLine
	for _, email := range emails {
		if email == "" {
			continue
		}
		subset := make([]LeadFacts, 0, len(mine[email]))
		for _, i := range mine[email] {
			subset = append(subset, facts[i])
		}
		a := ComputeAttainment(p, subset, Scope{Kind: ScopeRep, Rep: email}, week, now)
		lines = append(lines, RepLine{Email: email, SQLs: a.SQLs, Decided: a.FirstTouchOnTime + a.FirstTouchLate,
			OnTimeShare: a.OnTimeShare, Breaches: a.Breaches})
	}
	return lines
}

// RankReps picks the best and worst reps by on-time share among lines with
// at least MinDecidedForRanking decided leads; equal shares go by email.
// So that nobody appears on both lists, the best take the top half
// (rounded up, at most 3) and the worst up to 3 of the rest from the
// bottom, leaving out reps at or above target: meeting the agreement is
// not a reason to be named among the worst.
func RankReps(lines []RepLine, target float64) (best, worst []RepLine) {
	var ranked []RepLine
	for _, l := range lines {
		if l.Decided >= MinDecidedForRanking {
			ranked = append(ranked, l)
		}
	}
	slices.SortFunc(ranked, func(a, b RepLine) int {
		return cmp.Or(cmp.Compare(b.OnTimeShare, a.OnTimeShare), strings.Compare(a.Email, b.Email))
	})
	nBest := min(3, (len(ranked)+1)/2)
	best = slices.Clone(ranked[:nBest])
	rest := slices.Clone(ranked[nBest:])
	slices.SortFunc(rest, func(a, b RepLine) int {
		return cmp.Or(cmp.Compare(a.OnTimeShare, b.OnTimeShare), strings.Compare(a.Email, b.Email))
	})
	for _, l := range rest {
		if len(worst) == 3 || l.OnTimeShare >= target {
			break
		}
		worst = append(worst, l)
	}
	return best, worst
}

// reviewReminder says when the agreement is due for review, if that is
// within ReviewReminderDays of now or past; dates are read in loc.
func reviewReminder(reviewBy, now time.Time, loc *time.Location) string {
	if reviewBy.IsZero() {
		return ""
	}
	due, today := DateOf(reviewBy.In(loc)), DateOf(now.In(loc))
	days := int(time.Date(due.Year, due.Month, due.Day, 12, 0, 0, 0, time.UTC).
		Sub(time.Date(today.Year, today.Month, today.Day, 12, 0, 0, 0, time.UTC)).Hours() / 24)
	when := time.Date(due.Year, due.Month, due.Day, 12, 0, 0, 0, time.UTC).Format("Monday 2 January 2006")
	switch {
	case days < 0:
		return fmt.Sprintf("The agreement was due for review on %s, %s ago. Sales and Marketing should review it together and update the policy file.", when, countNoun(int64(-days), "day"))
	case days == 0:
		return fmt.Sprintf("The agreement is due for review today, %s. Sales and Marketing should review it together and update the policy file.", when)
	case days <= ReviewPostDays:
		return fmt.Sprintf("The agreement is due for review on %s, in %s: the review pack went to the report channel %d days before the date.", when, countNoun(int64(days), "day"), ReviewPostDays)
	case days <= ReviewReminderDays:
		return fmt.Sprintf("The agreement is due for review on %s, in %s: time to book the review with Sales and Marketing. The review pack comes to the report channel %d days before the date.", when, countNoun(int64(days), "day"), ReviewPostDays)
	}
	return ""
}

// sqlsByDay counts the SQLs received each day of month (by day of the
// month in its zone) up to now.
func sqlsByDay(facts []LeadFacts, month Period, now time.Time) map[int]int {
	loc := month.Start.Location()
	perDay := map[int]int{}
	for i := range facts {
		if at := facts[i].Lead.ReceivedAt; month.Contains(at) && !at.After(now) {
			perDay[at.In(loc).Day()]++
		}
	}
	return perDay
}

// sqlWaterfall lays out the month of month.Start with the SQLs received
// each day (perDay) up to the end of month (the month to date) and now.
func sqlWaterfall(p *Policy, perDay map[int]int, month Period, now time.Time) []WaterfallDay {
	loc := month.Start.Location()
	through := month.End.Add(-time.Nanosecond)
	if now.Before(through) {
		through = now
	}
	_, sqls, _ := MonthlyTargets(p)
	return Waterfall(float64(sqls), month.Start, loc, perDay, through)
}
