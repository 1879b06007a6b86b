package slack_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"strings"
	"testing"

	"github.com/slabot/slabot/engine"
)

// /sla sources and /sla speed on Slack, end to end: a manager's answers
// carry the figures the engine computes over the same leads, the speed
// chart reaches the manager's DM as a PNG, and a rep is refused.
func TestScorecardCommandsOnSlack(t *testing.T) {
	t.Parallel()
	e := newEnvAt(t, fixedNow, commandsPolicy)
	e.seed()
	ctx := context.Background()
	policy := e.service.Policy()
	month := engine.MonthPeriod(2026, 11, policy.Location)
	facts, err := e.db.LeadFacts(ctx, month.Start, month.End)
	if err != nil {
		t.Fatal(err)
	}
	mqls, err := e.db.MQLs(ctx, month.Start, month.End)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("SourcesEqualTheEngine", func(t *testing.T) {
		want := engine.ComputeScorecard(policy, facts, mqls, engine.BySource, month, fixedNow, 8)
		if len(want.Rows) != 2 || want.All.SQLs != 7 {
			t.Fatalf("the seed has %d sources and %d SQLs, want 2 and 7", len(want.Rows), want.All.SQLs)
		}
		text := answerText(e.sla(maria, "sources").Body)
		mustSay(t, "maria's sources", text, "Scorecard by source: November 2026", "*All leads* · 7 SQLs")
		for _, r := range want.Rows {
			decided := r.OnTime + r.Late
			mustSay(t, "maria's sources", text, fmt.Sprintf("*%s* · %d SQLs", r.Group, r.SQLs),
				fmt.Sprintf("(%d of %d)", r.OnTime, decided))
		}
		// demo_request: 3 leads, 1 won for $5,000.
		mustSay(t, "maria's sources", text, "*demo_request* · 3 SQLs", "won 33%", "$5,000", "returned 25% (mostly No budget)")
		byRule := answerText(e.sla(maria, "sources 2026-11 by rule").Body)
		mustSay(t, "by rule", byRule, "Scorecard by rule: November 2026", "*demo-request* · 3 SQLs", "*default* · 4 SQLs")
	})

	t.Run("SpeedWithItsChart", func(t *testing.T) {
		before := len(e.fake.Files())
		text := answerText(e.sla(maria, "speed").Body)
		mustSay(t, "maria's speed", text, "Speed to lead: November 2026", "Rule demo-request", "Rule default",
			"too few to judge", "The chart is in your chat with slabot.", "so no band is compared with another")
		// The upload is done when Slack has the whole file (completed).
		e.waitFor("the speed chart", func() bool { fs := e.fake.Files(); return len(fs) > before && fs[before].Completed })
		f := e.fake.Files()[before]
		if !strings.HasPrefix(f.Title, "Speed to lead") || len(f.Channels) != 1 || f.Channels[0] != e.fake.DMChannel(maria) {
			t.Errorf("the upload %q went to %v, want the speed chart in Maria's DM %s", f.Title, f.Channels, e.fake.DMChannel(maria))
		}
		img, err := png.Decode(bytes.NewReader(f.Content))
		if err != nil {
			t.Fatalf("the chart is not a PNG: %v", err)
		}
		if img.Bounds().Dx() > 1200 {
			t.Errorf("the chart is %d px wide", img.Bounds().Dx())
		}
		mustSay(t, "pooled speed", answerText(e.sla(maria, "speed pooled").Body), "All rules pooled", "All leads")
		mustSay(t, "one rule", answerText(e.sla(maria, "speed rule Demo-Request").Body), "Speed to lead: November 2026 · demo-request")
		mustSay(t, "no such rule", answerText(e.sla(maria, "speed rule nope").Body), "There is no rule \"nope\"")
	})

	t.Run("OnlyManagers", func(t *testing.T) {
		mustSay(t, "ana's sources", answerText(e.sla(ana, "sources").Body), "for the managers who own the agreement")
		mustSay(t, "ana's speed", answerText(e.sla(ana, "speed").Body), "for the managers who own the agreement")
	})

	t.Run("Periods", func(t *testing.T) {
		mustSay(t, "last 90 days", answerText(e.sla(maria, "sources last 90d").Body), "the last 90 days", "*All leads* · 7 SQLs")
		mustSay(t, "a cohort", answerText(e.sla(maria, "sources cohort 2026-11 window 30d").Body), "judged over 30 days", "window is not over yet")
		mustSay(t, "an unknown period", answerText(e.sla(maria, "sources fortnight").Body), `I can't read "fortnight" as a period`)
		mustSay(t, "October", answerText(e.sla(maria, "sources 2026-10").Body), "No leads came in over October 2026")
	})
}
