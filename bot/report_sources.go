package bot

import (
	"fmt"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// The weekly report's "By source" block: the largest sources of the
// week's leads (the same figures as /sla sources week), and the "slower
// on better leads" findings of the month to date.

// bySourceLines are the block's lines under title; none when no lead came
// in and nothing was found.
func bySourceLines(title string, sc engine.Scorecard, slower []engine.SlowerFinding) []view.Text {
	if sc.All.SQLs == 0 && len(slower) == 0 {
		return nil
	}
	lines := []view.Text{view.Bold(view.Team, " "+title)}
	for _, r := range sc.Rows {
		line := fmt.Sprintf("%s: %s", r.Group, plural(r.SQLs, "SQL", "SQLs"))
		if decided := r.OnTime + r.Late; decided > 0 {
			line += " · on time " + pct(float64(r.OnTime)/float64(decided))
		}
		if r.Returned > 0 {
			line += " · returned " + pct(float64(r.Returned)/float64(r.SQLs))
		}
		line += " · opportunity " + pct(float64(r.Opportunities)/float64(r.SQLs))
		lines = append(lines, view.T("• "+line))
	}
	for _, f := range slower {
		lines = append(lines, view.T(view.Warning, " "+f.String()))
	}
	return lines
}
