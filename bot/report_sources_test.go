package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

func TestTheReportCarriesTheBySourceBlock(t *testing.T) {
	week := engine.WeekPeriod(2026, 47, time.UTC)
	r := engine.WeeklyReport{Week: week, Month: engine.MonthPeriod(2026, time.November, time.UTC),
		Scorecards: engine.ReportScorecards{
			Week: engine.Scorecard{Period: week, All: engine.ScorecardRow{SQLs: 12}, Rows: []engine.ScorecardRow{
				{Group: "webinar", SQLs: 8, OnTime: 6, Late: 2, Returned: 2, Opportunities: 1},
				{Group: engine.OthersGroup, SQLs: 4, OnTime: 4}}},
			Slower: []engine.SlowerFinding{{By: engine.ByScore, Better: "score 80+", Worse: "score under 50",
				BetterMedian: 2 * time.Hour, WorseMedian: 10 * time.Minute, BetterLeads: 25, WorseLeads: 40}},
		}}
	var text []string
	for _, b := range ReportFigures(ReportView{Report: r}).Blocks {
		if s, ok := b.(view.Section); ok {
			text = append(text, view.Lines(s.Lines))
		}
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"By source: this week's leads", "• webinar: 8 SQLs · on time 75% · returned 25% · opportunity 13%",
		"• (others): 4 SQLs · on time 100% · opportunity 0%", "Slower on better leads: score 80+ leads wait 2 h for a first touch (median of 25), score under 50 leads 10 min (median of 40)."} {
		if !strings.Contains(all, want) {
			t.Errorf("the report lacks %q:\n%s", want, all)
		}
	}
}
