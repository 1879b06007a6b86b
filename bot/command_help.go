package bot

import (
	"fmt"

	"github.com/slabot/slabot/bot/view"
)

// This file answers /sla help, and an unknown command, with what each does.

// helpLines describe each command in a line a phone shows whole.
var helpLines = []struct{ kind, text string }{
	{cmdStatus, "how you (or your team) are doing against the SLA"},
	{cmdLeads, "your open leads, next deadline first, with their buttons"},
	{cmdFunnel, "Marketing's funnel: MQLs → SQLs → won against targets"},
	{cmdSources, "managers: which sources, segments, rules and scores pay off"},
	{cmdSpeed, "managers: how fast first touches were, and what each speed won"},
	{cmdQuality, "managers and Marketing: how Sales received the leads, accepted, rejected or contested and why"},
	{cmdReview, "managers and owners: the agreement's review, month by month, breaches by cause"},
	{cmdPlan, "work out the monthly funnel from a revenue goal"},
	{cmdPolicy, "the agreement in plain words"},
	{cmdAway, "stop new leads while you are out (managers: for a rep)"},
	{cmdBack, "take leads again"},
	{cmdReport, "managers: post the weekly report now"},
	{cmdHome, "your dashboard: open leads and this week's figures"},
}

// helpReply lists the commands; for an unknown word pe, it first says so
// and suggests the closest command, if any.
func helpReply(name string, pe *parseError) reply {
	var lines []view.Text
	summary := "slabot: " + name + " status, leads, funnel, sources, speed, quality, review, plan, policy, away, back, report, home"
	if pe != nil {
		unknown := said(pe.Unknown)
		if pe.Suggest != "" {
			lines = append(lines, view.T(view.Unsure, " I don't know "+unknown+". Did you mean ", commandExample(name, commandUsage[pe.Suggest]), "?"))
			summary = fmt.Sprintf("I don't know %s. Did you mean %s %s?", unknown, name, pe.Suggest)
		} else {
			lines = append(lines, view.T(view.Unsure, " I don't know "+unknown+". Here is what I can do:"))
			summary = fmt.Sprintf("I don't know %s. Type %s help for the commands.", unknown, name)
		}
		lines = append(lines, nil)
	}
	lines = append(lines, view.T(view.B("slabot keeps the Sales–Marketing SLA."),
		" New leads arrive in your DMs with buttons to accept, log touches, snooze or return them."), nil)
	for _, h := range helpLines {
		lines = append(lines, view.T(commandExample(name, commandUsage[h.kind])), view.T(h.text))
	}
	lines = append(lines, nil, view.T("Answers are private; add ", view.C("share"), " to post one in the channel."))
	return reply{Message: view.Message{Summary: summary, Blocks: []view.Block{view.Section{Lines: lines}}}}
}
