package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

// A policy that runs 24×7 but has a team on office hours counts that
// team's times to first touch in business hours: /sla status and the
// weekly report say so; a policy with no business hours anywhere does not.
func TestTimeToFirstTouchSaysBusinessHoursWhenATeamHasThem(t *testing.T) {
	const yaml = `
timezone: UTC
teams:
  - name: office
    manager: max@example.com
    reps: [lena@example.com]
%s
rules:
  - name: default
    first_touch: 4h
`
	parse := func(calendar string) *engine.Policy {
		t.Helper()
		p, probs := engine.ParsePolicy([]byte(strings.Replace(yaml, "%s", calendar, 1)), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
		if err := probs.Err(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	around := parse("")
	office := parse(`    calendar: {business_hours: {start: "09:00", end: "17:00"}}`)
	a := engine.Attainment{TimeToFirstTouchBusiness: engine.Stats{Count: 3, Median: time.Hour, P90: 2 * time.Hour}}
	report := engine.WeeklyReport{}
	report.Sales.Week = a
	for _, tc := range []struct {
		name  string
		p     *engine.Policy
		hours bool
	}{{"24×7", around, false}, {"a team on office hours", office, true}} {
		status := firstTouchTimeLine(tc.p, a).Plain()
		if got := strings.Contains(status, "in business hours"); got != tc.hours {
			t.Errorf("%s: /sla status says %q", tc.name, status)
		}
		var lines []string
		for _, l := range firstTouchTimeLines(ReportView{Report: report, Policy: tc.p}) {
			lines = append(lines, l.Plain())
		}
		if got := strings.Contains(strings.Join(lines, "\n"), "(business hours)"); got != tc.hours {
			t.Errorf("%s: the report says %q", tc.name, lines)
		}
	}
}
