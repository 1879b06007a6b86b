package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/slabot/slabot/engine"
)

// The weekly smarketing report (engine.WeeklyReport) goes to the report
// channel as one message followed by its chart: on demand
// (PostWeeklyReport, `/sla report`, `slabot report`) or as the durable job
// a scheduled slot queues (see schedule.go). This file holds its data and
// names its week; report_build.go loads it, report_render.go draws it as a
// view (figures and chart), report_slack.go renders that as Block Kit and
// report_post.go posts it on Slack.

// ReportView is a weekly report with what its rendering needs besides the
// numbers.
type ReportView struct {
	Report engine.WeeklyReport
	Policy *engine.Policy
	// Names maps reps' emails (lower case) to their names, where known.
	Names map[string]string
	// Quality is how Sales received the week's hand-offs, against
	// QualityTarget (targets.accepted).
	Quality       engine.QualityFigures
	QualityTarget float64
}

// name is how the report names a rep: their name when known, else email.
func (v ReportView) name(email string) string {
	if n := v.Names[strings.ToLower(email)]; n != "" {
		return n
	}
	return email
}

// ISOWeek names a week the way `slabot report --week` takes it: "2026-W47".
func ISOWeek(week engine.Period) string {
	y, w := week.Start.In(week.Start.Location()).ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// ReportWeek is the week a report made at t covers, read in loc: the week
// holding the day three days before t. A report on Monday to Wednesday
// covers the week before, which has just ended (the usual Monday morning
// report); from Thursday on it covers the current week, most of whose
// working days have passed.
func ReportWeek(t time.Time, loc *time.Location) engine.Period {
	if loc == nil {
		loc = time.UTC
	}
	p, _ := engine.PeriodContaining("week", t.In(loc).AddDate(0, 0, -3), loc)
	return p
}
