package slack

import (
	"testing"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/view"
)

// TestAMentionReachesTheCoreAsAPersonToken: whatever form Slack gives a
// person in a command, the core's grammar receives its one person token,
// and nobody can type a token's marks.
func TestAMentionReachesTheCoreAsAPersonToken(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, typed, want string }{
		{"a mention with its name", "status <@U123|ana>", "status " + bot.PersonToken("U123", "ana")},
		{"a mention without one", "away <@W0BO> until monday", "away " + bot.PersonToken("W0BO", "") + " until monday"},
		{"a name with spaces and an escape", "back <@U9|Bo &amp; Co>", "back " + bot.PersonToken("U9", "Bo & Co")},
		{"an email Slack made a link of", "status <mailto:Ana@Example.com|Ana@Example.com> week", "status Ana@Example.com week"},
		{"a bare @handle stays text", "status @nobody", "status @nobody"},
		{"typed marks are scrubbed", "status \uFDD0U123\uFDD1ana\uFDD2", "status U123ana"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CommandText(tt.typed); got != tt.want {
				t.Errorf("CommandText(%q) = %q, want %q", tt.typed, got, tt.want)
			}
		})
	}
	if got, want := DMCommandText("<@UBOT|slabot> sla status <@U0BO>", "UBOT"), "status "+bot.PersonToken("U0BO", ""); got != want {
		t.Errorf("a DM's command reads %q, want %q", got, want)
	}
}

// TestACodeSpanIsCodeOnSlack: a command to type is set in backticks by
// the renderer, its text escaped inside them.
func TestACodeSpanIsCodeOnSlack(t *testing.T) {
	t.Parallel()
	got := Mrkdwn(view.T("Try: ", view.C("/sla status team <east>"), "."))
	if want := "Try: `/sla status team &lt;east&gt;`."; got != want {
		t.Errorf("Mrkdwn = %q, want %q", got, want)
	}
}
