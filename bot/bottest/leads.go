// Package bottest holds what tests of the bot and of its platform adapters
// share: leads as big as a hand-off can leave them.
package bottest

import (
	"fmt"
	"strings"
	"time"

	"github.com/slabot/slabot/engine"
)

// HugeLead is a lead as big as a hand-off can leave it: every text at its
// limit in characters of several bytes, every list full, and more of each
// left in the CRM.
func HugeLead() *engine.Lead {
	long := strings.Repeat("Ü&", 100)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	l := &engine.Lead{ID: 42, ExternalID: strings.Repeat("é", 200), Source: long, Segment: long, Score: 87,
		Contact: engine.Contact{Name: long, Email: "dana@acme.test", Title: long, Phone: long},
		Company: engine.Company{Name: long, Domain: "acme.test", Employees: 1200, Industry: long, Country: long},
		CRMURL:  "https://crm.example/leads/" + strings.Repeat("x", 1900), Value: 25000,
		OwnerEmail: "ana@example.com", State: engine.StateNotified, AssignedAt: now, FirstTouchDue: now.Add(time.Hour)}
	l.Context.Form = map[string]string{}
	for i := range engine.MaxFormAnswers {
		l.Context.Form[fmt.Sprintf("Question %02d %s", i, strings.Repeat("?", 180))] = strings.Repeat("<answer> ", 111)
	}
	for i := range engine.MaxListItems {
		l.Context.Activity.Pages = append(l.Context.Activity.Pages, fmt.Sprintf("/a/very/long/page/path/%d/%s", i, strings.Repeat("p", 470)))
		l.Context.Activity.Downloads = append(l.Context.Activity.Downloads, fmt.Sprintf("Guide %d %s", i, strings.Repeat("d", 490)))
	}
	l.Context.Omitted = engine.Omitted{FormAnswers: 10, Pages: 150, Downloads: 3}
	return l
}
