package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file answers /sla sources: the scorecard of a period's leads by
// source, segment, rule or score band, for the people who own the
// agreement: which leads, handled how fast, turn into pipeline.

// maxSourceRows is the most groups /sla sources lists, "others" included.
const maxSourceRows = 8

// parseScorecard reads the words after sources or speed: a period (checked
// against the clock when answered), "by X", "rule NAME" and "pooled".
func (c *command) parseScorecard(args []string) error {
	for i := 0; i < len(args); i++ {
		w := strings.ToLower(args[i])
		switch {
		case w == "by" && c.Kind == cmdSources:
			if i+1 >= len(args) {
				return usageError(c.Kind, "Say what to group by: ", view.C("by source"), ", ", view.C("by segment"), ", ", view.C("by rule"), " or ", view.C("by score"), ".")
			}
			by, err := engine.ParseGroupBy(args[i+1])
			if err != nil {
				return usageError(c.Kind, engine.ErrorMessage(err)+".")
			}
			c.By, i = by, i+1
		case w == "rule" && c.Kind == cmdSpeed:
			if i+1 >= len(args) {
				return usageError(c.Kind, "Name the rule, like ", view.C("rule demo-request"), ".")
			}
			c.Rule, i = args[i+1], i+1
		case w == "pooled" && c.Kind == cmdSpeed:
			c.Pooled = true
		default:
			c.Words = append(c.Words, w)
		}
	}
	if c.Kind == cmdSources && c.By == "" {
		c.By = engine.BySource
	}
	return nil
}

// scorecardAccess refuses who may not see the scorecard: it is for the
// managers, who own the agreement with Marketing.
func (b *Bot) scorecardAccess(who asker, what, name string) error {
	if len(who.Manages) > 0 {
		return nil
	}
	return refuse(engine.EFORBIDDEN, what+" is for the managers who own the agreement. Ask yours, or see how you are doing with ",
		commandExample(name, "status"), ".")
}

// scorecardSpanOf resolves the command's period.
func (b *Bot) scorecardSpanOf(c command) (engine.ScorecardSpan, error) {
	policy, now := b.service.Policy(), b.service.Now()
	return engine.ResolveScorecardSpan(c.Words, now, policy.Location)
}

func (b *Bot) cmdSources(ctx context.Context, who asker, c command, name string) (reply, error) {
	if err := b.scorecardAccess(who, "The scorecard", name); err != nil {
		return reply{}, err
	}
	span, err := b.scorecardSpanOf(c)
	if err != nil {
		return reply{}, err
	}
	policy := b.service.Policy()
	sc, findings, err := b.store.ScorecardWithFindings(ctx, policy, c.By, span.Period, span.AsOf, maxSourceRows)
	if err != nil {
		return reply{}, err
	}
	blocks := []view.Block{
		view.Heading{Text: fmt.Sprintf("Scorecard by %s: %s", c.By, span.Period.Label)},
		view.Context{Lines: []view.Text{view.T(scorecardAsOfText(policy, span, sc))}},
	}
	if sc.All.SQLs == 0 {
		blocks = append(blocks, view.Section{Lines: []view.Text{view.T(view.Calendar, " No leads came in over "+span.Period.Label+".")}})
		return reply{Message: view.Message{Summary: "Scorecard, " + span.Period.Label + ": no leads", Blocks: blocks}}, nil
	}
	var lines []view.Text
	for _, r := range sc.Rows {
		lines = append(lines, scorecardLine(r, false))
	}
	blocks = append(blocks, view.Section{Lines: lines}, view.Divider{}, view.Section{Lines: []view.Text{scorecardLine(sc.All, true)}})
	if len(findings) > 0 {
		var fl []view.Text
		for _, f := range findings {
			fl = append(fl, view.T(view.Warning, " "+f.String()))
		}
		blocks = append(blocks, view.Section{Lines: fl})
	}
	blocks = append(blocks, view.Context{Lines: []view.Text{view.T(
		"On time and first-touch times are in business hours, as ", view.C(name+" status"), " counts them. Opportunity and won are shares of the group's leads; "+
			"a share of a few leads says little. Other views: ", view.C(name+" sources by segment"), ", ", view.C("by rule"), ", ", view.C("by score"),
		"; the file: ", view.C("slabot report --month 2026-05 --csv FILE"), ".")}})
	summary := fmt.Sprintf("Scorecard by %s, %s: %s SQLs in %s", c.By, span.Period.Label, thousands(sc.All.SQLs), plural(len(sc.Rows), "group", "groups"))
	return reply{Message: view.Message{Summary: summary, Blocks: blocks}}, nil
}

// scorecardAsOfText says which leads and when their outcomes were counted,
// and how young the youngest are.
func scorecardAsOfText(p *engine.Policy, span engine.ScorecardSpan, sc engine.Scorecard) string {
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	lead := "Leads received in " + span.Period.Label
	if span.Window > 0 {
		// A cohort's label already says whose leads: "leads of May 2026,
		// judged over 180 days".
		lead = "The " + span.Period.Label
	}
	s := lead + ", outcomes as of " + span.AsOf.In(loc).Format("Mon Jan 2, 3:04 PM") + " (" + zoneName(p) + ")"
	if span.Window > 0 && !span.WindowOver {
		s += fmt.Sprintf(" · the %d-day window is not over yet", span.Window)
	}
	if sc.All.SQLs > 0 && sc.Young > 0 {
		days := int(span.AsOf.Sub(sc.Newest).Hours() / 24)
		s += fmt.Sprintf(" · %s under 30 days old (the newest %s), and leads that young have had little time to close",
			plural(sc.Young, "lead is", "leads are"), plural(days, "day", "days"))
		s = strings.Replace(s, " old (the newest 0 days)", " old (the newest came today)", 1)
	}
	return s + "."
}

// scorecardLine is one group's figures in a line.
func scorecardLine(r engine.ScorecardRow, all bool) view.Text {
	name := r.Group
	if all {
		name = "All leads"
	}
	parts := []string{plural(r.SQLs, "SQL", "SQLs")}
	if r.HasMQLs && r.MQLs > 0 {
		parts = append(parts, "MQL→SQL "+engine.FormatPercent(float64(r.SQLs)/float64(r.MQLs), engine.PercentShare))
	}
	if decided := r.OnTime + r.Late; decided > 0 {
		parts = append(parts, fmt.Sprintf("on time %s (%s of %s)", pct(float64(r.OnTime)/float64(decided)), thousands(r.OnTime), thousands(decided)))
	}
	if r.TimeToFirstTouch.Count > 0 {
		parts = append(parts, fmt.Sprintf("first touch %s median, %s p90", durationText(r.TimeToFirstTouch.Median), durationText(r.TimeToFirstTouch.P90)))
	}
	if owed := r.CadenceMet + r.CadenceMissed; owed > 0 {
		parts = append(parts, "cadence met "+pct(float64(r.CadenceMet)/float64(owed)))
	}
	if r.Returned > 0 {
		reason, _ := r.TopReturnReason()
		parts = append(parts, fmt.Sprintf("returned %s (mostly %s)", pct(float64(r.Returned)/float64(r.SQLs)), reason))
	}
	parts = append(parts, "opportunity "+pct(float64(r.Opportunities)/float64(r.SQLs)), "won "+pct(float64(r.Won)/float64(r.SQLs)))
	if r.WonAmount > 0 {
		parts = append(parts, money(r.WonAmount))
	}
	return view.T(view.B(name), " · "+strings.Join(parts, " · "))
}
