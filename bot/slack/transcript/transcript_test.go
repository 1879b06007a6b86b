package transcript_test

import (
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot/slack/transcript"
)

func TestBlocksReadAsAPersonSeesThem(t *testing.T) {
	blocks := slack.Blocks{BlockSet: []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "New lead: Dana", false, false)),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, ":alarm_clock: *Due* in 5 min &amp; <https://crm.example/1|Open>", false, false), nil, nil),
		slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, "Acknowledged", false, false)),
		slack.NewActionBlock("lead:1",
			slack.NewButtonBlockElement("lead.ack", "1", slack.NewTextBlockObject(slack.PlainTextType, "Acknowledge", false, false)),
			slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, slack.NewTextBlockObject(slack.PlainTextType, "Log touch…", false, false), "lead.touch")),
	}}
	got := transcript.Style{}.Blocks(blocks, "fallback", "| ")
	want := "| New lead: Dana\n| ⏰ Due in 5 min & Open (https://crm.example/1)\n| Acknowledged\n| [ Acknowledge ] [ Log touch… ▾ ]\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	colored := transcript.Style{Color: true}.Blocks(blocks, "", "")
	if !strings.Contains(colored, "\x1b[1mDue\x1b[0m") {
		t.Errorf("bold text is not bold on a terminal: %q", colored)
	}
	if plain := (transcript.Style{}).Blocks(slack.Blocks{}, "just *text*", ""); plain != "just text\n" {
		t.Errorf("fallback text = %q", plain)
	}
}
