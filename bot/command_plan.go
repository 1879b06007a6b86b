package bot

import (
	"fmt"
	"strings"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file answers /sla plan: the monthly funnel worked out from a revenue goal.

// planUsage is the arguments of a complete /sla plan, to show as an example.
const planUsage = "plan revenue=5000 deal=100 win=0.5 mql_to_sql=0.25"

func cmdPlanReply(c command, name string) (reply, error) {
	mql := 0.0
	if c.HasMQLToSQL {
		mql = c.MQLToSQL
	}
	plan, err := engine.PlanFromRevenue(c.Revenue, c.Deal, c.Win, mql)
	if err != nil {
		return textReply(view.T(view.Warning, " "+engine.ErrorMessage(err)+"."), view.T("Try: ", commandExample(name, planUsage))), nil
	}
	// The plan's last line says where its figures come from: small print.
	// The lines above are the figures, or the one line is the plan itself.
	lines := strings.Split(plan.String(), "\n")
	body := []view.Text{view.T(view.B(lines[0]))}
	if len(lines) > 1 {
		body = body[:0]
		for _, line := range lines[:len(lines)-1] {
			body = append(body, view.T(line))
		}
	}
	blocks := []view.Block{
		view.Heading{Text: "Monthly plan from the revenue goal"},
		view.Section{Lines: body},
		view.Context{Lines: []view.Text{view.T(lines[len(lines)-1])}},
	}
	summary := fmt.Sprintf("Plan: %d deals, %d SQLs", plan.Deals, plan.SQLs)
	if plan.MQLs > 0 {
		summary += fmt.Sprintf(", %d MQLs", plan.MQLs)
	}
	return reply{Message: view.Message{Summary: summary + " a month", Blocks: blocks}}, nil
}
