package bot

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/chart"
	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file draws the weekly report as a view: its figures, and its chart
// as an image.
//
// The message is read on phones: one section per side of the agreement,
// short lines, the number first and the target after it, and a coloured
// dot that says at a glance whether it is on track.

// maxReportListLines caps each list in the report (reasons, reps), so a
// bad week cannot push a section past what a message holds.
const maxReportListLines = 8

// ReportMessage is the weekly report as a message: its figures (at most a
// dozen blocks) and its chart.
func ReportMessage(v ReportView) (view.Message, error) {
	png, err := chart.WeeklyChart(v.Report)
	if err != nil {
		return view.Message{}, err
	}
	m := ReportFigures(v)
	m.Blocks = append(m.Blocks, view.Image{PNG: png, Alt: chartAltText(v.Report), Title: "SQLs against target, " + v.Report.Month.Label,
		Name: "smarketing-" + ISOWeek(v.Report.Week) + ".png"})
	return m, nil
}

// ReportFigures is the report's text: a section a side of the agreement,
// and a summary for notifications.
func ReportFigures(v ReportView) view.Message {
	r := v.Report
	loc := r.Week.Start.Location()
	blocks := []view.Block{
		view.Heading{Text: "Smarketing report · " + r.Week.Label},
		view.Context{Lines: []view.Text{view.T(fmt.Sprintf("Month to date: %s · figures as of %s (%s)",
			r.Month.Label, r.GeneratedAt.In(loc).Format("Mon Jan 2, 3:04 PM"), loc.String()))}},
	}
	if r.ReviewReminder != "" {
		blocks = append(blocks, view.Section{Lines: []view.Text{view.T(view.Plan, " ", view.B("The agreement")), view.T(r.ReviewReminder)}})
	}
	blocks = append(blocks,
		view.Divider{}, view.Section{Lines: marketingLines(r)},
		view.Divider{}, view.Section{Lines: salesLines(v)},
		view.Divider{}, view.Section{Lines: peopleLines(v)})
	if lines := bySourceLines("By source: this week's leads", r.Scorecards.Week, r.Scorecards.Slower); len(lines) > 0 {
		blocks = append(blocks, view.Divider{}, view.Section{Lines: lines})
	}
	if r.PreviousMonth != nil && r.PreviousMonthFunnel != nil {
		blocks = append(blocks, view.Divider{}, view.Section{Lines: previousMonthLines(*r.PreviousMonth, *r.PreviousMonthFunnel)})
	}
	if prev := r.Scorecards.PreviousMonth; prev != nil {
		if lines := bySourceLines(prev.Period.Label+" by source, outcomes so far", *prev, nil); len(lines) > 0 {
			blocks = append(blocks, view.Section{Lines: lines})
		}
	}
	blocks = append(blocks, view.Context{Lines: []view.Text{view.T(
		"Targets are monthly, spread evenly over the days; while a period runs, % compares with the target of its days so far. " +
			"Leads count in the week they came in; breaches, returns and wins in the week they happened.")}})

	w, m := r.Marketing.WeekFunnel, r.Sales.Week
	summary := fmt.Sprintf("Smarketing report, %s: %s, %s; first touch on time %s (target %s); %s.",
		r.Week.Label, countOf(w.MQLs, "MQL", "MQLs"), countOf(w.SQLs, "SQL", "SQLs"),
		onTimeShare(m), pct(m.OnTimeTarget), countOf(m.Breaches, "breach", "breaches"))
	return view.Message{Summary: summary, Blocks: blocks}
}

// chartAltText says in words what the chart shows, for screen readers.
func chartAltText(r engine.WeeklyReport) string {
	f := r.Marketing.MonthFunnel
	return view.Clip(fmt.Sprintf("Chart for %s: cumulative SQLs against the daily target, and the funnel month to date: "+
		"%s of %s MQLs, %s of %s SQLs, %s of %s won.", r.Month.Label, thousands(f.MQLs), thousands(f.MQLTarget),
		thousands(f.SQLs), thousands(f.SQLTarget), thousands(f.Won), thousands(f.WonTarget)), 1000)
}

// dot is the traffic light of an actual against its target: green at or
// above it, amber within 10% below, red further behind; none without a
// target.
func dot(actual, target float64) view.Text {
	switch {
	case target <= 0:
		return nil
	case actual >= target:
		return view.T(" ", view.OnTarget)
	case actual >= 0.9*target:
		return view.T(" ", view.Near)
	}
	return view.T(" ", view.Behind)
}

// countOf writes "1 lead", "2 leads", "1,200 leads".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}

// againstTarget writes the count (in bold), its target for the whole
// period, and how far along it is: "40 / 420 · 10% 🔴". For a period that
// is over that is actual ÷ the target shown, the sum a reader (and the
// chart) does; for one still running it is the pace, actual ÷ the target
// of the days so far.
func againstTarget(f engine.Funnel, actual, target int, pace float64) view.Text {
	if target <= 0 {
		return view.T(view.B(thousands(actual)), " (no target set)")
	}
	if f.DaysElapsed >= f.DaysInPeriod {
		pace = float64(actual) / float64(target)
	}
	return view.T(view.B(thousands(actual)), " / "+thousands(target)+" · "+pct(pace), dot(pace, 1))
}

func rateAgainst(actual, target float64) view.Text {
	if target <= 0 {
		return view.T(pct(actual))
	}
	return view.T(fmt.Sprintf("%s (target %s)", pct(actual), pct(target)), dot(actual, target))
}

func marketingLines(r engine.WeeklyReport) []view.Text {
	w, m := r.Marketing.WeekFunnel, r.Marketing.MonthFunnel
	lines := []view.Text{
		view.Bold(view.Announce, " Marketing"),
		view.T(view.B("MQLs")),
		view.T("This week: ", againstTarget(w, w.MQLs, w.MQLTarget, w.MQLPace)),
		view.T("Month to date: ", againstTarget(m, m.MQLs, m.MQLTarget, m.MQLPace)),
		view.T(view.B("SQLs")),
		view.T("This week: ", againstTarget(w, w.SQLs, w.SQLTarget, w.SQLPace)),
		view.T("Month to date: ", againstTarget(m, m.SQLs, m.SQLTarget, m.SQLPace)),
		view.T(view.B("MQL → SQL")),
	}
	if w.MQLs > 0 {
		lines = append(lines, view.T("This week: ", rateAgainst(w.MQLToSQL, w.MQLToSQLTarget)))
	} else {
		lines = append(lines, view.T("This week: no MQLs, so no rate"))
	}
	if m.MQLs > 0 {
		lines = append(lines, view.T("Month to date: ", rateAgainst(m.MQLToSQL, m.MQLToSQLTarget)))
	}
	returns := r.Marketing.ReturnsByReason
	total := 0
	for _, n := range returns {
		total += n
	}
	if total == 0 {
		return append(lines, view.T(view.B("Returned to Marketing:"), " none this week"))
	}
	lines = append(lines, view.T(view.B("Returned to Marketing:"), " "+countOf(total, "lead", "leads")+" this week"))
	return append(lines, rankedLines(returns, func(reason string) string { return view.Clip(reason, 120) })...)
}

// rankedLines lists counts as bullets, largest first (ties by name), at
// most maxReportListLines of them.
func rankedLines[K ~string](counts map[K]int, name func(K) string) []view.Text {
	keys := make([]K, 0, len(counts))
	for k, n := range counts {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var lines []view.Text
	for i, k := range keys {
		if i == maxReportListLines {
			rest := 0
			for _, k := range keys[i:] {
				rest += counts[k]
			}
			lines = append(lines, view.T(fmt.Sprintf("• %d others: %d", len(keys)-i, rest)))
			break
		}
		lines = append(lines, view.T(fmt.Sprintf("• %s: %d", name(k), counts[k])))
	}
	return lines
}

func onTimeShare(a engine.Attainment) string {
	if !a.HasOnTimeData {
		return "no lead decided yet"
	}
	return pct(a.OnTimeShare)
}

// breachReasons names the kinds of breach as a sales manager says them.
var breachReasons = map[engine.BreachKind]string{
	engine.BreachFirstTouch: "first touch late",
	engine.BreachCadence:    "too few touches",
	engine.BreachAccept:     "not accepted in time",
}

func salesLines(v ReportView) []view.Text {
	r := v.Report
	w := r.Sales.Week
	lines := []view.Text{view.Bold(view.Deal, " Sales")}
	lines = append(lines, onTimeLines(r.Sales)...)
	lines = append(lines, qualityReportLine(v.Quality, v.QualityTarget))
	lines = append(lines, firstTouchTimeLines(v)...)
	lines = append(lines, cadenceLines(w)...)
	if w.Breaches == 0 {
		lines = append(lines, view.T(view.B("Breaches:"), " none this week ", view.Done))
	} else {
		lines = append(lines, view.T(view.B("Breaches:"), fmt.Sprintf(" %d this week", w.Breaches)), view.T(view.I("By rep")))
		lines = append(lines, rankedLines(w.BreachesByRep, v.name)...)
		lines = append(lines, view.T(view.I("By reason")))
		lines = append(lines, rankedLines(w.BreachesByKind, func(k engine.BreachKind) string {
			if s, ok := breachReasons[k]; ok {
				return s
			}
			return strings.ReplaceAll(string(k), "_", " ")
		})...)
	}
	return append(lines, wonLines(r)...)
}

// onTimeLines are the share of first touches on time, this week and this
// month, and the leads not counted.
func onTimeLines(s engine.SalesReport) []view.Text {
	w, m := s.Week, s.MonthToDate
	lines := []view.Text{view.T(view.B("First touch on time"))}
	if w.HasOnTimeData {
		lines = append(lines, view.T("This week: ", view.B(pct(w.OnTimeShare)), fmt.Sprintf(" (%d of %d) · target %s",
			w.FirstTouchOnTime, w.FirstTouchOnTime+w.FirstTouchLate, pct(w.OnTimeTarget)), dot(w.OnTimeShare, w.OnTimeTarget)))
	} else {
		lines = append(lines, view.T("This week: no lead was due yet"))
	}
	if m.HasOnTimeData {
		lines = append(lines, view.T(fmt.Sprintf("Month to date: %s (%d of %d)", pct(m.OnTimeShare),
			m.FirstTouchOnTime, m.FirstTouchOnTime+m.FirstTouchLate), dot(m.OnTimeShare, m.OnTimeTarget)))
	}
	var aside []string
	if w.FirstTouchPending > 0 {
		aside = append(aside, fmt.Sprintf("%d not due yet or unassigned", w.FirstTouchPending))
	}
	if w.FirstTouchClosed > 0 {
		aside = append(aside, fmt.Sprintf("%d closed before the deadline", w.FirstTouchClosed))
	}
	if len(aside) > 0 {
		lines = append(lines, view.T(view.I("Not counted: "+strings.Join(aside, ", "))))
	}
	return lines
}

func firstTouchTimeLines(v ReportView) []view.Text {
	lines := []view.Text{view.T(view.B("Time to first touch"))}
	st := v.Report.Sales.Week.TimeToFirstTouchBusiness
	if st.Count == 0 {
		return append(lines, view.T("No lead of this week touched yet"))
	}
	hours := ""
	if v.Policy.HasBusinessHours() {
		hours = " (business hours)"
	}
	return append(lines, view.T(fmt.Sprintf("Median %s · 9 in 10 within %s%s", durationText(st.Median), durationText(st.P90), hours)))
}

func cadenceLines(w engine.Attainment) []view.Text {
	lines := []view.Text{view.T(view.B("Cadence"))}
	switch {
	case w.HasCadenceData:
		line := fmt.Sprintf("%d of %d met (%s)", w.CadenceMet, w.CadenceMet+w.CadenceMissed, pct(w.CadenceShare))
		if w.CadenceRunning > 0 {
			line += fmt.Sprintf(" · %d still running", w.CadenceRunning)
		}
		return append(lines, view.T(line))
	case w.CadenceRunning > 0:
		return append(lines, view.T(fmt.Sprintf("None ended this week · %d still running", w.CadenceRunning)))
	}
	return append(lines, view.T("None ended this week"))
}

// wonLines are the SQLs won, this week and this month, against the target rate.
func wonLines(r engine.WeeklyReport) []view.Text {
	wf, mf := r.Marketing.WeekFunnel, r.Marketing.MonthFunnel
	lines := []view.Text{view.T(view.B("SQL → won"))}
	if wf.SQLs == 0 {
		lines = append(lines, view.T(fmt.Sprintf("This week: no SQLs, %s", countOf(wf.Won, "deal won", "deals won"))))
	} else {
		won := countOf(wf.Won, "won", "won")
		if r.Sales.Week.WonAmount > 0 {
			won += ", " + money(r.Sales.Week.WonAmount)
		}
		lines = append(lines, view.T("This week: ", rateAgainst(wf.SQLToWon, wf.SQLToWonTarget), " ("+won+")"))
	}
	if mf.SQLs > 0 {
		lines = append(lines, view.T("Month to date: ", rateAgainst(mf.SQLToWon, mf.SQLToWonTarget), fmt.Sprintf(" (%d won)", mf.Won)))
	}
	return lines
}

func peopleLines(v ReportView) []view.Text {
	r := v.Report
	lines := []view.Text{view.Bold(view.Team, " People")}
	repLine := func(l engine.RepLine) view.Text {
		return view.T(fmt.Sprintf("• %s: %s (%d of %d)", v.name(l.Email), pct(l.OnTimeShare),
			int(math.Round(l.OnTimeShare*float64(l.Decided))), l.Decided))
	}
	if len(r.Best) == 0 {
		lines = append(lines, view.T(view.I(fmt.Sprintf("Nobody had %d leads due this week, so nobody is ranked.", engine.MinDecidedForRanking))))
	} else {
		lines = append(lines, view.T(view.B("Most on time")))
		for _, l := range r.Best {
			lines = append(lines, repLine(l))
		}
		if len(r.Worst) > 0 {
			lines = append(lines, view.T(view.B("Least on time")))
			for _, l := range r.Worst {
				lines = append(lines, repLine(l))
			}
		}
	}
	away := awayText(v)
	if away == "" {
		away = "nobody"
	}
	lines = append(lines, view.T(view.B("Away:"), " "+away))
	if r.Unrouted == 0 {
		return append(lines, view.T(view.B("Reached nobody:"), " none, every lead this week has a rep ", view.Done))
	}
	one := r.Unrouted == 1
	return append(lines, view.T(view.B("Reached nobody:"),
		fmt.Sprintf(" %s this week %s no rep ", countOf(r.Unrouted, "lead", "leads"), map[bool]string{true: "has", false: "have"}[one]),
		view.Warning, fmt.Sprintf(" Assign %s in your CRM.", map[bool]string{true: "it", false: "them"}[one])))
}

// awayText names the reps away or inactive during the week, each with the
// dates of their absences: "Bo Berg (Tue Oct 27 – Thu Oct 29), Cy Chen
// (since Mon Oct 19, back Tue Dec 1), Dee (inactive since Wed Oct 28)".
// At most maxReportListLines reps are named; "" when there are none.
func awayText(v ReportView) string {
	r := v.Report
	loc := r.Week.Start.Location()
	var emails []string
	spells := map[string][]string{}
	for _, ab := range r.Away {
		email := strings.ToLower(ab.Email)
		if _, seen := spells[email]; !seen {
			emails = append(emails, email)
		}
		spells[email] = append(spells[email], absenceDates(ab, loc))
	}
	var names []string
	for i, email := range emails {
		if i == maxReportListLines {
			names = append(names, fmt.Sprintf("and %d more", len(emails)-i))
			break
		}
		names = append(names, v.name(email)+" ("+strings.Join(spells[email], "; ")+")")
	}
	return strings.Join(names, ", ")
}

// absenceDates says when an absence was, by day in loc: "Tue Oct 27 – Thu
// Oct 29" (the last day away, not the day back), "since Mon Oct 19, back
// Tue Dec 1" for one that lasts, with "inactive" before it for a rep who
// was deactivated.
func absenceDates(ab engine.Absence, loc *time.Location) string {
	day := func(t time.Time) string { return t.In(loc).Format("Mon Jan 2") }
	last := ab.To.Add(-time.Nanosecond)
	var text string
	switch {
	case ab.To.IsZero():
		text = "since " + day(ab.From)
		if !ab.Until.IsZero() {
			text += ", back " + day(ab.Until)
		}
	case engine.DateOf(ab.From.In(loc)) == engine.DateOf(last.In(loc)):
		text = day(ab.From)
	default:
		text = day(ab.From) + " – " + day(last)
	}
	if ab.Status == engine.RepInactive {
		text = "inactive " + text
	}
	return text
}

func previousMonthLines(a engine.Attainment, f engine.Funnel) []view.Text {
	lines := []view.Text{
		view.Bold(view.Calendar, " "+f.Period.Label+", final figures"),
		view.T("MQLs: ", againstTarget(f, f.MQLs, f.MQLTarget, f.MQLPace)),
		view.T("SQLs: ", againstTarget(f, f.SQLs, f.SQLTarget, f.SQLPace)),
	}
	if f.WonTarget > 0 {
		lines = append(lines, view.T("Won: ", view.B(thousands(f.Won)), " / "+thousands(f.WonTarget), dot(float64(f.Won), float64(f.WonTarget))))
	} else {
		lines = append(lines, view.T("Won: ", view.B(thousands(f.Won))))
	}
	if f.MQLs > 0 {
		lines = append(lines, view.T("MQL → SQL: ", rateAgainst(f.MQLToSQL, f.MQLToSQLTarget)))
	}
	if f.SQLs > 0 {
		lines = append(lines, view.T("SQL → won: ", rateAgainst(f.SQLToWon, f.SQLToWonTarget)))
	}
	if a.HasOnTimeData {
		lines = append(lines, view.T(fmt.Sprintf("First touch on time: %s (target %s)", pct(a.OnTimeShare), pct(a.OnTimeTarget)),
			dot(a.OnTimeShare, a.OnTimeTarget)))
	}
	if a.Breaches > 0 {
		lines = append(lines, view.T("Breaches: "+thousands(a.Breaches)))
	}
	return lines
}

// qualityReportLine is the week's hand-offs as Sales received them: the
// share accepted against targets.accepted, and the rejection category met
// most often.
func qualityReportLine(q engine.QualityFigures, target float64) view.Text {
	if !q.Decided {
		return view.T(view.B("Accepted:"), fmt.Sprintf(" none decided yet of %s this week", countOf(q.SQLs, "hand-off", "hand-offs")))
	}
	line := view.T(view.B("Accepted: "+pct(q.AcceptedShare)), fmt.Sprintf(" (%d of %d decided) · target %s", q.Accepted, q.Accepted+q.Rejected, pct(target)),
		dot(q.AcceptedShare, target))
	if cat, detail, n := q.TopRejection(); n > 0 {
		top := strings.ReplaceAll(string(cat), "_", " ")
		if detail != "" && cat != engine.RejectDuplicate {
			top += " (mostly " + strings.ReplaceAll(detail, "_", " ") + ")"
		}
		line = view.T(line, fmt.Sprintf(" · top rejection: %s, %d", top, n))
	}
	return line
}
