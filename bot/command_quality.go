package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file answers /sla quality: how Sales received what Marketing handed
// off, accepted or rejected and why, for managers.

func (c *command) parseQuality(args []string) error {
	var period []string
	for i := 0; i < len(args); i++ {
		w := strings.ToLower(args[i])
		switch {
		case w == "by" && i+1 < len(args) && strings.EqualFold(args[i+1], "source"):
			c.BySource = true
			i++
		case w == "by-source" || w == "source" || w == "sources":
			c.BySource = true
		default:
			period = append(period, args[i])
		}
	}
	if len(period) > 1 {
		return usageError(cmdQuality, view.C(cmdQuality), " takes one period at most, but got "+said(period...)+".")
	}
	if err := c.parseFunnel(period); err != nil {
		var pe *parseError
		if errors.As(err, &pe) {
			return usageError(cmdQuality, pe.Msg)
		}
		return err
	}
	return nil
}

// rejectCategoryLabels name the categories as a manager says them.
var rejectCategoryLabels = []struct {
	Category engine.RejectCategory
	Label    string
}{
	{engine.RejectBadData, "bad data"},
	{engine.RejectNotOurBuyer, "not our buyer"},
	{engine.RejectDuplicate, "duplicate"},
}

func (b *Bot) cmdQuality(ctx context.Context, who asker, c command) (reply, error) {
	policy, now := b.service.Policy(), b.service.Now()
	if len(who.Manages) == 0 && !slices.Contains(policy.Quality.Contesters, strings.ToLower(who.Email)) {
		return textReply(view.T(view.Refused, " Lead quality is for the teams' managers and Marketing's contesters: ask your manager.")), nil
	}
	period, err := funnelPeriod(c, now, policy.Location)
	if err != nil {
		return reply{}, err
	}
	facts, err := b.store.QualityFacts(ctx, period.Start, period.End)
	if err != nil {
		return reply{}, err
	}
	q := engine.ComputeQuality(facts, c.BySource, policy.Targets.Accepted)
	blocks := []view.Block{
		view.Heading{Text: "Lead quality: " + period.Label},
		view.Section{Lines: qualityLines(q.All, q.Target)},
	}
	for _, g := range q.Groups {
		lines := append([]view.Text{view.T(view.B("Source: " + strings.ReplaceAll(g.Group, "_", " ")))}, qualityLines(g, q.Target)...)
		blocks = append(blocks, view.Section{Lines: lines})
	}
	summary := fmt.Sprintf("Lead quality, %s: %d handed off, %d accepted, %d rejected", period.Label, q.All.SQLs, q.All.Accepted, q.All.Rejected)
	return reply{Message: view.Message{Summary: summary, Blocks: blocks}}, nil
}

// qualityLines are one group's figures.
func qualityLines(g engine.QualityFigures, target float64) []view.Text {
	accepted := view.T(view.B("Accepted:"), fmt.Sprintf(" %d", g.Accepted))
	if g.Decided {
		mark := view.Done
		if g.AcceptedShare < target {
			mark = view.Warning
		}
		accepted = view.T(mark, " ", view.B("Accepted: "+pct(g.AcceptedShare)),
			fmt.Sprintf(" (%d of %d decided) · target %s", g.Accepted, g.Accepted+g.Rejected, pct(target)))
	}
	lines := []view.Text{
		view.T(view.B("Handed off:"), fmt.Sprintf(" %d · %d awaiting a decision · %d closed before one", g.SQLs, g.Awaiting, g.ClosedUndecided)),
		accepted,
	}
	rejected := fmt.Sprintf(" %d", g.Rejected)
	var parts []string
	for _, c := range rejectCategoryLabels {
		if n := g.ByCategory[c.Category]; n > 0 {
			part := fmt.Sprintf("%d %s", n, c.Label)
			if d := g.TopDetail[c.Category]; d != "" && c.Category != engine.RejectDuplicate {
				part += " (mostly " + strings.ReplaceAll(d, "_", " ") + ")"
			}
			parts = append(parts, part)
		}
	}
	if len(parts) > 0 {
		rejected += " — " + strings.Join(parts, ", ")
	}
	lines = append(lines, view.T(view.B("Rejected:"), rejected),
		view.T(view.B("Unable to reach:"), fmt.Sprintf(" %d", g.Unreachable)))
	misroutes := fmt.Sprintf(" %d", g.Misroutes)
	if g.Misroutes > 0 {
		var rules []string
		for _, r := range sortedKeys(g.MisroutesByRule) {
			rules = append(rules, fmt.Sprintf("%d by rule %s", g.MisroutesByRule[r], r))
		}
		misroutes += " — " + strings.Join(rules, ", ")
	}
	lines = append(lines, view.T(view.B("Misroutes:"), misroutes))
	contested := fmt.Sprintf(" %d", g.Contested)
	if g.Contested > 0 {
		contested += fmt.Sprintf(" — %d upheld, %d overturned, %d awaiting the manager", g.Upheld, g.Overturned, g.ContestPending)
	}
	lines = append(lines, view.T(view.B("Contested:"), contested))
	feedback := fmt.Sprintf(" %d had what the rep needed · %d card missing", g.FeedbackYes, g.CardMissing)
	if g.CardMissing > 0 {
		var parts []string
		for _, what := range engine.FeedbackMissing {
			if n := g.MissingByWhat[what]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", what, n))
			}
		}
		feedback += " (" + strings.Join(parts, ", ") + ")"
	}
	return append(lines, view.T(view.B("Card feedback:"), feedback))
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
