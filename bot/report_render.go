package bot

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/engine"
)

// This file renders the weekly report as Block Kit and as plain text.
//
// The message is read on phones: one section per side of the agreement,
// short lines, the number first and the target after it, and a coloured
// dot that says at a glance whether it is on track.

// maxReportListLines caps each list in the report (reasons, reps), so a
// bad week cannot push a section past Slack's 3,000 characters.
const maxReportListLines = 8

// RenderReport renders the report as Block Kit (at most a dozen blocks)
// and the notification text.
func RenderReport(v ReportView) ([]slack.Block, string) {
	r := v.Report
	loc := r.Week.Start.Location()
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(clip("Smarketing report · "+r.Week.Label, maxHeader))),
		slack.NewContextBlock("", mrkdwn(esc(fmt.Sprintf("Month to date: %s · figures as of %s (%s)",
			r.Month.Label, r.GeneratedAt.In(loc).Format("Mon Jan 2, 3:04 PM"), loc.String())))),
	}
	section := func(text string) {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(clipBytes(text, maxSectionText)), nil, nil))
	}
	if r.ReviewReminder != "" {
		section(":spiral_calendar_pad: *The agreement*\n" + esc(r.ReviewReminder))
	}
	blocks = append(blocks, slack.NewDividerBlock())
	section(marketingText(r))
	blocks = append(blocks, slack.NewDividerBlock())
	section(salesText(v))
	blocks = append(blocks, slack.NewDividerBlock())
	section(peopleText(v))
	if r.PreviousMonth != nil && r.PreviousMonthFunnel != nil {
		blocks = append(blocks, slack.NewDividerBlock())
		section(previousMonthText(*r.PreviousMonth, *r.PreviousMonthFunnel))
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(
		"Targets are monthly, spread evenly over the days; while a period runs, % compares with the target of its days so far. "+
			"Leads count in the week they came in; breaches, returns and wins in the week they happened.")))

	w, m := r.Marketing.WeekFunnel, r.Sales.Week
	fallback := fmt.Sprintf("Smarketing report, %s: %s, %s; first touch on time %s (target %s); %s.",
		r.Week.Label, countOf(w.MQLs, "MQL", "MQLs"), countOf(w.SQLs, "SQL", "SQLs"),
		onTimeShare(m), pct(m.OnTimeTarget), countOf(m.Breaches, "breach", "breaches"))
	return blocks, clipBytes(fallback, maxFallback)
}

// ReportText is the report as plain text, for `slabot report --dry-run`.
func ReportText(blocks []slack.Block) string {
	var out []string
	for _, bl := range blocks {
		switch v := bl.(type) {
		case *slack.HeaderBlock:
			out = append(out, strings.ToUpper(v.Text.Text))
		case *slack.SectionBlock:
			if v.Text != nil {
				out = append(out, v.Text.Text)
			}
		case *slack.ContextBlock:
			for _, el := range v.ContextElements.Elements {
				if t, ok := el.(*slack.TextBlockObject); ok {
					out = append(out, t.Text)
				}
			}
		case *slack.DividerBlock:
			out = append(out, strings.Repeat("─", 40))
		}
	}
	text := strings.Join(out, "\n\n")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if len(l) > 2 && strings.HasPrefix(l, "_") && strings.HasSuffix(l, "_") {
			lines[i] = l[1 : len(l)-1]
		}
	}
	text = strings.Join(lines, "\n")
	return strings.NewReplacer("*", "", "&amp;", "&", "&lt;", "<", "&gt;", ">",
		":large_green_circle:", "●", ":large_yellow_circle:", "◐", ":red_circle:", "○",
		":mega:", "»", ":handshake:", "»", ":busts_in_silhouette:", "»", ":spiral_calendar_pad:", "»",
		":calendar:", "»", ":white_check_mark:", "✓", ":warning:", "!").Replace(text) + "\n"
}

// dot is the traffic light of an actual against its target: green at or
// above it, amber within 10% below, red further behind; none without a
// target.
func dot(actual, target float64) string {
	switch {
	case target <= 0:
		return ""
	case actual >= target:
		return " :large_green_circle:"
	case actual >= 0.9*target:
		return " :large_yellow_circle:"
	}
	return " :red_circle:"
}

// countOf writes "1 lead", "2 leads", "1,200 leads".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}

// againstTarget writes "*40* / 420 · 10% 🔴": the count, its target for
// the whole period, and how far along it is. For a period that is over
// that is actual ÷ the target shown, the sum a reader (and the chart)
// does; for one still running it is the pace, actual ÷ the target of the
// days so far.
func againstTarget(f engine.Funnel, actual, target int, pace float64) string {
	if target <= 0 {
		return fmt.Sprintf("*%s* (no target set)", thousands(actual))
	}
	if f.DaysElapsed >= f.DaysInPeriod {
		pace = float64(actual) / float64(target)
	}
	return fmt.Sprintf("*%s* / %s · %s%s", thousands(actual), thousands(target), pct(pace), dot(pace, 1))
}

func rateAgainst(actual, target float64) string {
	if target <= 0 {
		return pct(actual)
	}
	return fmt.Sprintf("%s (target %s)%s", pct(actual), pct(target), dot(actual, target))
}

func marketingText(r engine.WeeklyReport) string {
	w, m := r.Marketing.WeekFunnel, r.Marketing.MonthFunnel
	lines := []string{
		"*:mega: Marketing*",
		"*MQLs*",
		"This week: " + againstTarget(w, w.MQLs, w.MQLTarget, w.MQLPace),
		"Month to date: " + againstTarget(m, m.MQLs, m.MQLTarget, m.MQLPace),
		"*SQLs*",
		"This week: " + againstTarget(w, w.SQLs, w.SQLTarget, w.SQLPace),
		"Month to date: " + againstTarget(m, m.SQLs, m.SQLTarget, m.SQLPace),
		"*MQL → SQL*",
	}
	if w.MQLs > 0 {
		lines = append(lines, "This week: "+rateAgainst(w.MQLToSQL, w.MQLToSQLTarget))
	} else {
		lines = append(lines, "This week: no MQLs, so no rate")
	}
	if m.MQLs > 0 {
		lines = append(lines, "Month to date: "+rateAgainst(m.MQLToSQL, m.MQLToSQLTarget))
	}
	returns := r.Marketing.ReturnsByReason
	total := 0
	for _, n := range returns {
		total += n
	}
	if total == 0 {
		lines = append(lines, "*Returned to Marketing:* none this week")
	} else {
		lines = append(lines, fmt.Sprintf("*Returned to Marketing:* %s this week", countOf(total, "lead", "leads")))
		lines = append(lines, rankedLines(returns, func(reason string) string { return esc(clip(reason, 120)) })...)
	}
	return strings.Join(lines, "\n")
}

// rankedLines lists counts as bullets, largest first (ties by name), at
// most maxReportListLines of them.
func rankedLines[K ~string](counts map[K]int, name func(K) string) []string {
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
	var lines []string
	for i, k := range keys {
		if i == maxReportListLines {
			rest := 0
			for _, k := range keys[i:] {
				rest += counts[k]
			}
			lines = append(lines, fmt.Sprintf("• %d others: %d", len(keys)-i, rest))
			break
		}
		lines = append(lines, fmt.Sprintf("• %s: %d", name(k), counts[k]))
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
}

func salesText(v ReportView) string {
	r := v.Report
	w, m := r.Sales.Week, r.Sales.MonthToDate
	lines := []string{"*:handshake: Sales*", "*First touch on time*"}
	if w.HasOnTimeData {
		lines = append(lines, fmt.Sprintf("This week: *%s* (%d of %d) · target %s%s", pct(w.OnTimeShare),
			w.FirstTouchOnTime, w.FirstTouchOnTime+w.FirstTouchLate, pct(w.OnTimeTarget), dot(w.OnTimeShare, w.OnTimeTarget)))
	} else {
		lines = append(lines, "This week: no lead was due yet")
	}
	if m.HasOnTimeData {
		lines = append(lines, fmt.Sprintf("Month to date: %s (%d of %d)%s", pct(m.OnTimeShare),
			m.FirstTouchOnTime, m.FirstTouchOnTime+m.FirstTouchLate, dot(m.OnTimeShare, m.OnTimeTarget)))
	}
	var aside []string
	if w.FirstTouchPending > 0 {
		aside = append(aside, fmt.Sprintf("%d not due yet or unassigned", w.FirstTouchPending))
	}
	if w.FirstTouchClosed > 0 {
		aside = append(aside, fmt.Sprintf("%d closed before the deadline", w.FirstTouchClosed))
	}
	if len(aside) > 0 {
		lines = append(lines, "_Not counted: "+strings.Join(aside, ", ")+"_")
	}

	lines = append(lines, "*Time to first touch*")
	if st := w.TimeToFirstTouchBusiness; st.Count > 0 {
		clock := ""
		if v.Policy != nil && v.Policy.Calendar != nil {
			clock = " (business hours)"
		}
		lines = append(lines, fmt.Sprintf("Median %s · 9 in 10 within %s%s", durationText(st.Median), durationText(st.P90), clock))
	} else {
		lines = append(lines, "No lead of this week touched yet")
	}

	lines = append(lines, "*Cadence*")
	switch {
	case w.HasCadenceData:
		line := fmt.Sprintf("%d of %d met (%s)", w.CadenceMet, w.CadenceMet+w.CadenceMissed, pct(w.CadenceShare))
		if w.CadenceRunning > 0 {
			line += fmt.Sprintf(" · %d still running", w.CadenceRunning)
		}
		lines = append(lines, line)
	case w.CadenceRunning > 0:
		lines = append(lines, fmt.Sprintf("None ended this week · %d still running", w.CadenceRunning))
	default:
		lines = append(lines, "None ended this week")
	}

	if w.Breaches == 0 {
		lines = append(lines, "*Breaches:* none this week :white_check_mark:")
	} else {
		lines = append(lines, fmt.Sprintf("*Breaches:* %d this week", w.Breaches), "_By rep_")
		lines = append(lines, rankedLines(w.BreachesByRep, func(email string) string { return esc(v.name(email)) })...)
		lines = append(lines, "_By reason_")
		lines = append(lines, rankedLines(w.BreachesByKind, func(k engine.BreachKind) string {
			if s, ok := breachReasons[k]; ok {
				return s
			}
			return esc(strings.ReplaceAll(string(k), "_", " "))
		})...)
	}

	wf, mf := r.Marketing.WeekFunnel, r.Marketing.MonthFunnel
	lines = append(lines, "*SQL → won*")
	won := fmt.Sprintf("This week: %s (%s", rateAgainst(wf.SQLToWon, wf.SQLToWonTarget), countOf(wf.Won, "won", "won"))
	if w.WonAmount > 0 {
		won += ", " + money(w.WonAmount)
	}
	lines = append(lines, won+")")
	if wf.SQLs == 0 {
		lines[len(lines)-1] = fmt.Sprintf("This week: no SQLs, %s", countOf(wf.Won, "deal won", "deals won"))
	}
	if mf.SQLs > 0 {
		lines = append(lines, fmt.Sprintf("Month to date: %s (%d won)", rateAgainst(mf.SQLToWon, mf.SQLToWonTarget), mf.Won))
	}
	return strings.Join(lines, "\n")
}

func peopleText(v ReportView) string {
	r := v.Report
	lines := []string{"*:busts_in_silhouette: People*"}
	repLine := func(l engine.RepLine) string {
		return fmt.Sprintf("• %s: %s (%d of %d)", esc(v.name(l.Email)), pct(l.OnTimeShare),
			int(math.Round(l.OnTimeShare*float64(l.Decided))), l.Decided)
	}
	if len(r.Best) == 0 {
		lines = append(lines, fmt.Sprintf("_Nobody had %d leads due this week, so nobody is ranked._", engine.MinDecidedForRanking))
	} else {
		lines = append(lines, "*Most on time*")
		for _, l := range r.Best {
			lines = append(lines, repLine(l))
		}
		if len(r.Worst) > 0 {
			lines = append(lines, "*Least on time*")
			for _, l := range r.Worst {
				lines = append(lines, repLine(l))
			}
		}
	}
	if away := awayText(v); away == "" {
		lines = append(lines, "*Away:* nobody")
	} else {
		lines = append(lines, "*Away:* "+away)
	}
	if r.Unrouted == 0 {
		lines = append(lines, "*Reached nobody:* none, every lead this week has a rep :white_check_mark:")
	} else {
		lines = append(lines, fmt.Sprintf("*Reached nobody:* %s this week %s no rep :warning: Assign %s in your CRM.",
			countOf(r.Unrouted, "lead", "leads"), map[bool]string{true: "has", false: "have"}[r.Unrouted == 1],
			map[bool]string{true: "it", false: "them"}[r.Unrouted == 1]))
	}
	return strings.Join(lines, "\n")
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
		names = append(names, esc(v.name(email))+" ("+strings.Join(spells[email], "; ")+")")
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

func previousMonthText(a engine.Attainment, f engine.Funnel) string {
	lines := []string{
		fmt.Sprintf("*:calendar: %s, final figures*", esc(f.Period.Label)),
		"MQLs: " + againstTarget(f, f.MQLs, f.MQLTarget, f.MQLPace),
		"SQLs: " + againstTarget(f, f.SQLs, f.SQLTarget, f.SQLPace),
	}
	if f.WonTarget > 0 {
		lines = append(lines, fmt.Sprintf("Won: *%s* / %s%s", thousands(f.Won), thousands(f.WonTarget), dot(float64(f.Won), float64(f.WonTarget))))
	} else {
		lines = append(lines, fmt.Sprintf("Won: *%s*", thousands(f.Won)))
	}
	if f.MQLs > 0 {
		lines = append(lines, "MQL → SQL: "+rateAgainst(f.MQLToSQL, f.MQLToSQLTarget))
	}
	if f.SQLs > 0 {
		lines = append(lines, "SQL → won: "+rateAgainst(f.SQLToWon, f.SQLToWonTarget))
	}
	if a.HasOnTimeData {
		lines = append(lines, fmt.Sprintf("First touch on time: %s (target %s)%s", pct(a.OnTimeShare),
			pct(a.OnTimeTarget), dot(a.OnTimeShare, a.OnTimeTarget)))
	}
	if a.Breaches > 0 {
		lines = append(lines, "Breaches: "+thousands(a.Breaches))
	}
	return strings.Join(lines, "\n")
}
