package bottest

import (
	"context"
	"fmt"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

// CommandsPolicy is the agreement of the /sla tests, to be reviewed by
// reviewBy (YYYY-MM-DD): monthly targets, one team of two reps and a
// #sales-ops channel, a 15-minute rule for demo requests and a 4-hour one
// for the rest.
func CommandsPolicy(reviewBy string) string {
	return `
timezone: UTC
review_by: "` + reviewBy + `"
report: {channel: "#smarketing"}
targets:
  mqls: 60
  mql_to_sql: 0.25
  sql_to_won: 0.2
  deal_size: 1000
  first_touch_on_time: 0.9
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "#sales-ops"
    reps: [ana@example.com, bo@example.com]
rules:
  - name: demo-request
    match: {source: demo_request}
    first_touch: 15m
    touches: {count: 8, within: 15d}
    on_breach: [notify_manager]
  - name: default
    first_touch: 4h
    touches: {count: 6, within: 14d}
    on_breach: [notify_manager]
`
}

// CommandsNow is when the figures of SeedCommands are read in year: noon
// UTC on Wednesday 18 November, of ISO week 47 (Nov 16–22), in a year
// whose November has that calendar (2026, 2037).
func CommandsNow(year int) time.Time { return time.Date(year, 11, 18, 12, 0, 0, 0, time.UTC) }

type seedLead struct {
	id, owner, rule string
	state           engine.LeadState
	day, hour       int
	touch           time.Duration // after assignment; 0 for none
	closedDay       int           // at 09:00 on the day (l5), 15:00 (l6)
	amount          float64
	reason          string
	breach          bool // a first-touch breach at the deadline
}

// SeedCommands stores the fixed data set of the /sla tests in year's
// November, as rows (no hand-off, so no timers), under policy p
// (CommandsPolicy), and returns its leads by id (l1…l7).
//
// Hand-computed figures, as of CommandsNow(year):
//
//	ana, week 47: SQLs l1–l5 = 5; on time l1 (5 min) and l3 (1 h), late l2
//	  (45 min, breached), waiting l4, closed before due l5 → 2 of 3 = 67%
//	  against 90%. Times [5 min, 45 min, 1 h]: median (rank 2) 45 min, p90
//	  (rank 3) 1 h. Cadence: none decided; running l1–l4 = 4 (l5 closed).
//	  Breaches 1 (first touch). Open l1–l4 = 4. Returned 1 (No budget).
//	team sdr-east, week 47: SQLs l1–l6 = 6; on time l1, l3, l6 (10 min) →
//	  3 of 4 = 75%. Times [5, 10, 45, 60 min]: median (rank 2) 10 min, p90
//	  (rank 4) 1 h. Running: ana's 4 + l7 = 5 (l6 won). Open 5. Won 1
//	  ($5,000). By rep: ana 67%, 4 open, 1 breach; bo 100%, 1 open.
//	funnel, November (day 18 of 30): MQLs 20 (Nov 1–18; two in October and
//	  one on Nov 19 do not count); SQLs l1–l7 = 7; won 1. Monthly targets
//	  60 MQLs, 15 SQLs (60 × 0.25), 3 won (15 × 0.2). Pace: MQLs 20 ÷ (60 ×
//	  18/30 = 36) = 0.556 → 44% behind; SQLs 7 ÷ 9 = 0.778 → 22% behind.
//	  MQL→SQL 7/20 = 35% (target 25%); SQL→won 1/7 = 14% (target 20%).
//	  Open SQLs l1–l4, l7 = 5 → 5 × 0.2 × 1,000 = $1,000 expected.
func SeedCommands(ctx context.Context, db *storage.DB, p *engine.Policy, year int) (map[string]*engine.Lead, error) {
	at := func(day, hour, min int) time.Time { return time.Date(year, 11, day, hour, min, 0, 0, time.UTC) }
	leads := []seedLead{
		{id: "l1", owner: "ana@example.com", rule: "demo-request", state: engine.StateWorking, day: 16, hour: 10, touch: 5 * time.Minute},
		{id: "l2", owner: "ana@example.com", rule: "demo-request", state: engine.StateWorking, day: 16, hour: 11, touch: 45 * time.Minute, breach: true},
		{id: "l3", owner: "ana@example.com", rule: "default", state: engine.StateWorking, day: 17, hour: 9, touch: time.Hour},
		{id: "l4", owner: "ana@example.com", rule: "default", state: engine.StateNotified, day: 18, hour: 11},
		{id: "l5", owner: "ana@example.com", rule: "default", state: engine.StateReturned, day: 17, hour: 8, closedDay: 17, reason: "No budget"},
		{id: "l6", owner: "bo@example.com", rule: "demo-request", state: engine.StateWon, day: 16, hour: 9, touch: 10 * time.Minute, closedDay: 17, amount: 5000},
		{id: "l7", owner: "bo@example.com", rule: "default", state: engine.StateWorking, day: 10, hour: 9, touch: 30 * time.Minute},
	}
	out := map[string]*engine.Lead{}
	err := db.InTx(ctx, func(tx engine.Tx) error {
		for _, s := range leads {
			assigned := at(s.day, s.hour, 0)
			l := &engine.Lead{ExternalID: s.id, Source: map[string]string{"demo-request": "demo_request", "default": "webinar"}[s.rule],
				Contact: engine.Contact{Name: "Contact " + s.id, Email: s.id + "@buyer.test"}, Company: engine.Company{Name: "Co " + s.id},
				OwnerEmail: s.owner, Team: "sdr-east", Rule: s.rule, State: s.state,
				HandedOffAt: assigned, ReceivedAt: assigned, AssignedAt: assigned,
				FirstTouchDue: assigned.Add(p.Rule(s.rule).FirstTouch), Amount: s.amount, ReturnReason: s.reason}
			switch {
			case s.closedDay != 0 && s.state == engine.StateWon:
				l.ClosedAt = at(s.closedDay, 15, 0)
			case s.closedDay != 0:
				l.ClosedAt = at(s.closedDay, 9, 0)
			}
			if s.touch > 0 {
				l.FirstTouchAt = assigned.Add(s.touch)
			}
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
			if s.touch > 0 {
				if _, err := tx.AddTouch(ctx, &engine.Touch{LeadID: l.ID, Kind: engine.TouchCall, At: l.FirstTouchAt, ByEmail: s.owner}); err != nil {
					return err
				}
			}
			if s.breach {
				if err := tx.AppendEvent(ctx, engine.BreachEvent(engine.Breach{LeadID: l.ID, Kind: engine.BreachFirstTouch, Rule: s.rule,
					RepEmail: s.owner, Team: "sdr-east", Due: l.FirstTouchDue, At: l.FirstTouchDue})); err != nil {
					return err
				}
			}
			out[s.id] = l
		}
		mqlTimes := []time.Time{time.Date(year, 10, 30, 9, 0, 0, 0, time.UTC), time.Date(year, 10, 31, 23, 59, 0, 0, time.UTC), at(19, 9, 0)}
		for i := range 20 {
			mqlTimes = append(mqlTimes, at(1+i%18, 10, i))
		}
		for i, t := range mqlTimes {
			if _, err := tx.AddMQL(ctx, &engine.MQL{ExternalID: fmt.Sprintf("mql-%d", i), At: t}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("seeding the /sla data set: %w", err)
	}
	return out, nil
}

// DemoLead is the hand-off of a demo request for Ana, under the external
// id id: Dana Ruiz, VP Ops at Acme Corp, with two form answers and some
// activity.
func DemoLead(id string) engine.HandOff {
	return engine.HandOff{ExternalID: id, Source: "demo_request", Segment: "enterprise", Score: 87, OwnerEmail: "ana@example.com",
		Contact: engine.Contact{Name: "Dana Ruiz", Email: id + "@acme.test", Title: "VP Ops", Phone: "+1 555 0100"},
		Company: engine.Company{Name: "Acme Corp", Domain: "acme.test", Employees: 1200, Industry: "Manufacturing", Country: "US"},
		Context: engine.LeadContext{Form: map[string]string{"Budget": "$50k", "Timeline": "Q1"},
			Activity: engine.Activity{Visits: 7, Pages: []string{"/pricing", "/case-studies/x"}, Downloads: []string{"ROI guide"}}},
		CRMURL: "https://crm.example/leads/" + id, Value: 25000}
}
