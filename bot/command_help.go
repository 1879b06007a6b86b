package bot

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// This file answers /sla help, and an unknown command, with what each does.

// helpLines describe each command in a line a phone shows whole.
var helpLines = []struct{ kind, text string }{
	{cmdStatus, "how you (or your team) are doing against the SLA"},
	{cmdLeads, "your open leads, next deadline first, with their buttons"},
	{cmdFunnel, "Marketing's funnel: MQLs → SQLs → won against targets"},
	{cmdPlan, "work out the monthly funnel from a revenue goal"},
	{cmdPolicy, "the agreement in plain words"},
	{cmdAway, "stop new leads while you are out (managers: for a rep)"},
	{cmdBack, "take leads again"},
	{cmdReport, "managers: post the weekly report now"},
}

func helpReply(name string, pe *parseError) reply {
	var b strings.Builder
	var text string
	if pe != nil {
		if pe.Suggest != "" {
			fmt.Fprintf(&b, ":thinking_face: I don't know %s. Did you mean `%s %s`?\n\n", esc(quote(pe.Unknown)), name, commandUsage[pe.Suggest])
			text = fmt.Sprintf("I don't know %s. Did you mean %s %s?", quote(pe.Unknown), name, pe.Suggest)
		} else {
			fmt.Fprintf(&b, ":thinking_face: I don't know %s. Here is what I can do:\n\n", esc(quote(pe.Unknown)))
			text = fmt.Sprintf("I don't know %s. Type %s help for the commands.", quote(pe.Unknown), name)
		}
	}
	b.WriteString("*slabot keeps the Sales–Marketing SLA.* New leads arrive in your DMs with buttons to acknowledge, log touches, snooze or return them.\n")
	for _, h := range helpLines {
		fmt.Fprintf(&b, "\n`%s %s`\n%s", name, commandUsage[h.kind], h.text)
	}
	b.WriteString("\n\nAnswers are private; add `share` to post one in the channel.")
	if text == "" {
		text = "slabot: " + name + " status, leads, funnel, plan, policy, away, back, report"
	}
	return reply{Text: text, Blocks: []slack.Block{slack.NewSectionBlock(mrkdwn(clipBytes(b.String(), maxSectionText)), nil, nil)}}
}
