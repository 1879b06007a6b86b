package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file answers /sla funnel: Marketing's funnel against its targets.

// funnelPeriod is the period a funnel command asks for: this week, month
// or quarter, or a named month (the latest one that has begun).
func funnelPeriod(c command, now time.Time, loc *time.Location) (engine.Period, error) {
	if c.Month != 0 {
		y := c.Year
		if y == 0 {
			lt := now.In(loc)
			y = lt.Year()
			if c.Month > lt.Month() {
				y--
			}
		}
		p := engine.MonthPeriod(y, c.Month, loc)
		if !p.Start.Before(now) {
			return engine.Period{}, engine.Errorf(engine.EINVALID, "%s has not begun yet: its funnel is empty.", p.Label)
		}
		return p, nil
	}
	kind := c.Period
	if kind == "" {
		kind = "month"
	}
	return engine.PeriodContaining(kind, now, loc)
}

func (b *Bot) cmdFunnel(ctx context.Context, c command) (reply, error) {
	q := b.store
	policy, now := b.service.Policy(), b.service.Now()
	period, err := funnelPeriod(c, now, policy.Location)
	if err != nil {
		return reply{}, err
	}
	f, err := q.Funnel(ctx, policy, period, now)
	if err != nil {
		return reply{}, err
	}
	blocks := []view.Block{
		view.Heading{Text: "Funnel: " + period.Label},
		view.Context{Lines: []view.Text{view.T(fmt.Sprintf("Day %d of %d · targets are monthly, pro-rated by day", f.DaysElapsed, f.DaysInPeriod))}},
		view.Section{Lines: funnelLines(f)},
	}
	summary := fmt.Sprintf("Funnel, %s: %d MQLs, %d SQLs, %d won", period.Label, f.MQLs, f.SQLs, f.Won)
	return reply{Message: view.Message{Summary: summary, Blocks: blocks}}, nil
}

// paceText says whether a count keeps pace with its pro-rated target.
func paceText(pace float64, target int) view.Text {
	switch {
	case target == 0:
		return nil
	case pace == 0:
		return view.T(" · no pace yet")
	case pace >= 1:
		return view.T(" · ", view.Done, fmt.Sprintf(" on pace (%s)", pct(pace)))
	}
	return view.T(" · ", view.Warning, fmt.Sprintf(" %s behind pace", pct(1-pace)))
}

func targetText(n int) string {
	if n == 0 {
		return "no target set"
	}
	return "target " + thousands(n)
}

func rateText(actual, target float64) string {
	s := pct(actual)
	if target > 0 {
		s += " (target " + pct(target) + ")"
	}
	return s
}

func funnelLines(f engine.Funnel) []view.Text {
	open := " " + plural(f.OpenSQLs, "SQL", "SQLs")
	if f.ExpectedPipeline > 0 {
		open += " ≈ " + money(f.ExpectedPipeline) + " expected at the agreed win rate and deal size"
	}
	return []view.Text{
		view.T(view.B("MQLs:"), " "+thousands(f.MQLs)+" · "+targetText(f.MQLTarget), paceText(f.MQLPace, f.MQLTarget)),
		view.T(view.B("SQLs:"), " "+thousands(f.SQLs)+" · "+targetText(f.SQLTarget), paceText(f.SQLPace, f.SQLTarget)),
		view.T(view.B("Won:"), " "+thousands(f.Won)+" · "+targetText(f.WonTarget)),
		view.T(view.B("MQL → SQL:"), " "+rateText(f.MQLToSQL, f.MQLToSQLTarget)),
		view.T(view.B("SQL → won:"), " "+rateText(f.SQLToWon, f.SQLToWonTarget)),
		view.T(view.B("Open pipeline:"), open),
	}
}
