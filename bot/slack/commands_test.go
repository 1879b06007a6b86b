package slack_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slabot/slabot/bot"
	slackui "github.com/slabot/slabot/bot/slack"
	"github.com/slabot/slabot/bot/view"
)

// sectionText is the mrkdwn of an answer's one section, as Slack shows it.
func sectionText(t *testing.T, r bot.Reply) string {
	t.Helper()
	if len(r.Message.Blocks) != 1 {
		t.Fatalf("%d blocks, want one section", len(r.Message.Blocks))
	}
	s, ok := r.Message.Blocks[0].(view.Section)
	if !ok {
		t.Fatalf("the answer is a %T, want a section", r.Message.Blocks[0])
	}
	return slackui.Lines(s.Lines)
}

func TestHelpReadsOnSlackAsItAlwaysHas(t *testing.T) {
	t.Parallel()
	core := bot.New(bot.Config{})
	r := core.Answer(context.Background(), "U1", "/sla", "stauts")
	want := ":thinking_face: I don't know \"stauts\". Did you mean `/sla status [@rep | team | all] [week | month | quarter] [share]`?\n\n" +
		"*slabot keeps the Sales–Marketing SLA.* New leads arrive in your DMs with buttons to accept, log touches, snooze or return them.\n\n" +
		"`/sla status [@rep | team | all] [week | month | quarter] [share]`\nhow you (or your team) are doing against the SLA\n" +
		"`/sla leads`\nyour open leads, next deadline first, with their buttons\n" +
		"`/sla funnel [week | month | quarter | november | 2026-11] [share]`\nMarketing's funnel: MQLs → SQLs → won against targets\n" +
		"`/sla sources [month | 2026-05 | last 90d | cohort 2026-05 window 180d] [by source | segment | rule | score] [share]`\nmanagers: which sources, segments, rules and scores pay off\n" +
		"`/sla speed [month | 2026-05 | last 90d] [rule NAME] [pooled] [share]`\nmanagers: how fast first touches were, and what each speed won\n" +
		"`/sla quality [week | month | quarter | november | 2026-11] [by source] [share]`\nmanagers and Marketing: how Sales received the leads, accepted, rejected or contested and why\n" +
		"`/sla review [months 6] [share]`\nmanagers and owners: the agreement's review, month by month, breaches by cause\n" +
		"`/sla plan revenue=5000 deal=100 win=0.5 [mql_to_sql=0.25] [share]`\nwork out the monthly funnel from a revenue goal\n" +
		"`/sla policy [share]`\nthe agreement in plain words\n" +
		"`/sla away [@rep] [until 2026-12-01 | until monday]`\nstop new leads while you are out (managers: for a rep)\n" +
		"`/sla back [@rep]`\ntake leads again\n" +
		"`/sla report`\nmanagers: post the weekly report now\n" +
		"`/sla home`\nyour dashboard: open leads and this week's figures\n\n" +
		"Answers are private; add `share` to post one in the channel."
	if got := sectionText(t, r); got != want {
		t.Errorf("help reads\n%s\nwant\n%s", got, want)
	}
	if got := sectionText(t, core.Answer(context.Background(), "U1", "/pipeline", "help")); !strings.Contains(got, "\n`/pipeline leads`\n") || strings.Contains(got, "/sla") {
		t.Errorf("help under another command name reads\n%s", got)
	}
}

func TestAnUnknownWordIsEscapedOnlyWhereItIsShown(t *testing.T) {
	t.Parallel()
	r := bot.New(bot.Config{}).Answer(context.Background(), "U1", "/sla", "<@U1>&")
	if got := sectionText(t, r); !strings.Contains(got, "I don't know \"&lt;@U1&gt;&amp;\".") {
		t.Errorf("the unknown word is not escaped on Slack:\n%s", got)
	}
	if !strings.Contains(r.Message.Summary, "\"<@U1>&\"") {
		t.Errorf("the summary %q is escaped already: the renderer escapes it once more", r.Message.Summary)
	}
}
