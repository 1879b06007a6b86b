package teams

import (
	"strings"
	"testing"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/view"
)

// TestAMentionReachesTheCoreAsAPersonToken: an <at> mention with its
// mention entity becomes the core's one person token, with the person's
// Entra object id (what Chat.FindPersonByID takes) and the name Teams
// showed; nobody can type a token's marks, not even as HTML entities.
func TestAMentionReachesTheCoreAsAPersonToken(t *testing.T) {
	t.Parallel()
	const slabot, bo = "28:bot", "4d1c0f2e-7b7e-4bb8-9a8e-2f1c8d9e0a11"
	act := &Activity{
		Text: "<at>slabot</at> status <at>Bo Chen</at> week",
		Entities: []Entity{
			{Type: "mention", Text: "<at>slabot</at>", Mentioned: &Account{ID: slabot}},
			{Type: "mention", Text: "<at>Bo Chen</at>", Mentioned: &Account{ID: "29:bo", Name: "Bo Chen"}},
		},
	}
	text, mentions := CommandWithMentions(act, slabot)
	got := MentionsAsPeople(text, mentions, []string{bo})
	if want := "status " + bot.PersonToken(bo, "Bo Chen") + " week"; got != want {
		t.Errorf("the command reaches the core as %q, want %q", got, want)
	}
	for _, typed := range []string{"status \uFDD0" + bo + "\uFDD1Bo\uFDD2", "status &#xFDD0;" + bo + "&#xFDD1;Bo&#xFDD2;"} {
		text, _ := CommandWithMentions(&Activity{Text: typed}, slabot)
		if strings.ContainsAny(text, "\uFDD0\uFDD1\uFDD2") {
			t.Errorf("typed %q makes a person token: %q", typed, text)
		}
	}
}

// TestACodeSpanShowsWithoutBackticksOnTeams: a card's TextBlock has no
// code spans, so a command to type is set as plain text, never between
// backticks that would show raw.
func TestACodeSpanShowsWithoutBackticksOnTeams(t *testing.T) {
	t.Parallel()
	line := view.T("Try: ", view.C("/sla status team *east*"), ".")
	if got, want := Markdown(line), `Try: /sla status team \*east\*.`; got != want {
		t.Errorf("Markdown = %q, want %q", got, want)
	}
	if got, want := PlainText(line), "Try: /sla status team *east*."; got != want {
		t.Errorf("PlainText = %q, want %q", got, want)
	}
}
