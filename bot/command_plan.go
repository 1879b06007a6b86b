package bot

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/engine"
)

// This file answers /sla plan: the monthly funnel worked out from a revenue goal.

const planUsageExample = "`/sla plan revenue=5000 deal=100 win=0.5 mql_to_sql=0.25`"

func cmdPlanReply(c command, name string) (reply, error) {
	mql := 0.0
	if c.HasMQLToSQL {
		mql = c.MQLToSQL
	}
	plan, err := engine.PlanFromRevenue(c.Revenue, c.Deal, c.Win, mql)
	if err != nil {
		msg := engine.ErrorMessage(err)
		return textReply(":warning: " + esc(msg) + ".\nTry: " + withCommandName(planUsageExample, name)), nil
	}
	var lines []string
	for _, line := range strings.Split(plan.String(), "\n") {
		lines = append(lines, esc(line))
	}
	body := "*" + lines[0] + "*"
	if len(lines) > 1 {
		body = strings.Join(lines[:len(lines)-1], "\n")
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain("Monthly plan from the revenue goal")),
		slack.NewSectionBlock(mrkdwn(clipBytes(body, maxSectionText)), nil, nil),
		slack.NewContextBlock("", mrkdwn(esc(lines[len(lines)-1]))),
	}
	text := fmt.Sprintf("Plan: %d deals, %d SQLs", plan.Deals, plan.SQLs)
	if plan.MQLs > 0 {
		text += fmt.Sprintf(", %d MQLs", plan.MQLs)
	}
	return reply{Text: text + " a month", Blocks: blocks}, nil
}
