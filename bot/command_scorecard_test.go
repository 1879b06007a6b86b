package bot

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/engine"
)

func TestParseScorecardCommands(t *testing.T) {
	for text, want := range map[string]command{
		"sources":                              {Kind: cmdSources, By: engine.BySource},
		"sources quarter by segment share":     {Kind: cmdSources, By: engine.BySegment, Words: []string{"quarter"}, Share: true},
		"scorecard cohort 2026-05 window 180d": {Kind: cmdSources, By: engine.BySource, Words: []string{"cohort", "2026-05", "window", "180d"}},
		"sources last 90d by Scores":           {Kind: cmdSources, By: engine.ByScore, Words: []string{"last", "90d"}},
		"speed":                                {Kind: cmdSpeed},
		"speed month rule demo-request":        {Kind: cmdSpeed, Words: []string{"month"}, Rule: "demo-request"},
		"speed 2026-05 pooled":                 {Kind: cmdSpeed, Words: []string{"2026-05"}, Pooled: true},
	} {
		got, err := parseCommand(text)
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", text, diff)
		}
	}
	for _, bad := range []string{"sources by", "sources by colour", "speed rule"} {
		if _, err := parseCommand(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}
