package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

const commandsPolicy = `
timezone: UTC
review_by: "2038-06-30"
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

// commandsNow is Wednesday of ISO week 47 (Nov 16–22), day 18 of November
// 2037: the calendar of November 2026, on which the adapters' tests
// worked these figures out by hand, with the clock ahead of the wall's.
var commandsNow = time.Date(2037, 11, 18, 12, 0, 0, 0, time.UTC)

func nov(day, hour, min int) time.Time { return time.Date(2037, 11, day, hour, min, 0, 0, time.UTC) }

type seedLead struct {
	id, owner, rule string
	state           engine.LeadState
	assigned        time.Time
	touch           time.Duration // after assignment; 0 for none
	closed          time.Time
	amount          float64
	reason          string
	breach          bool // a first-touch breach at the deadline
}

// newCommandsCore is the bot at commandsNow over a fixed data set, stored
// as rows (no hand-off, so no timers), and its leads by id.
//
// Hand-computed figures, as of Wed Nov 18 12:00 UTC:
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
func newCommandsCore(t *testing.T) (*core, map[string]*engine.Lead) {
	c := newCore(t, commandsPolicy)
	c.Clock.Set(commandsNow)
	leads := []seedLead{
		{id: "l1", owner: "ana@example.com", rule: "demo-request", state: engine.StateWorking, assigned: nov(16, 10, 0), touch: 5 * time.Minute},
		{id: "l2", owner: "ana@example.com", rule: "demo-request", state: engine.StateWorking, assigned: nov(16, 11, 0), touch: 45 * time.Minute, breach: true},
		{id: "l3", owner: "ana@example.com", rule: "default", state: engine.StateWorking, assigned: nov(17, 9, 0), touch: time.Hour},
		{id: "l4", owner: "ana@example.com", rule: "default", state: engine.StateNotified, assigned: nov(18, 11, 0)},
		{id: "l5", owner: "ana@example.com", rule: "default", state: engine.StateReturned, assigned: nov(17, 8, 0), closed: nov(17, 9, 0), reason: "No budget"},
		{id: "l6", owner: "bo@example.com", rule: "demo-request", state: engine.StateWon, assigned: nov(16, 9, 0), touch: 10 * time.Minute, closed: nov(17, 15, 0), amount: 5000},
		{id: "l7", owner: "bo@example.com", rule: "default", state: engine.StateWorking, assigned: nov(10, 9, 0), touch: 30 * time.Minute},
	}
	policy := c.Service.Policy()
	out := map[string]*engine.Lead{}
	ctx := context.Background()
	err := c.DB.InTx(ctx, func(tx engine.Tx) error {
		for _, s := range leads {
			rule := policy.Rule(s.rule)
			l := &engine.Lead{ExternalID: s.id, Source: map[string]string{"demo-request": "demo_request", "default": "webinar"}[s.rule],
				Contact: engine.Contact{Name: "Contact " + s.id, Email: s.id + "@buyer.test"}, Company: engine.Company{Name: "Co " + s.id},
				OwnerEmail: s.owner, Team: "sdr-east", Rule: s.rule, State: s.state,
				HandedOffAt: s.assigned, ReceivedAt: s.assigned, AssignedAt: s.assigned,
				FirstTouchDue: s.assigned.Add(rule.FirstTouch), ClosedAt: s.closed, Amount: s.amount, ReturnReason: s.reason}
			if s.touch > 0 {
				l.FirstTouchAt = s.assigned.Add(s.touch)
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
		mqlTimes := []time.Time{time.Date(2037, 10, 30, 9, 0, 0, 0, time.UTC), time.Date(2037, 10, 31, 23, 59, 0, 0, time.UTC), nov(19, 9, 0)}
		for i := range 20 {
			mqlTimes = append(mqlTimes, nov(1+i%18, 10, i))
		}
		for i, t := range mqlTimes {
			if _, err := tx.AddMQL(ctx, &engine.MQL{ExternalID: fmt.Sprintf("mql-%d", i), At: t}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, out
}

// names are the people of the flow tests by user id, for golden files.
var names = map[string]string{ana: "ana", bo: "bo", maria: "maria", stranger: "eve", mia: "mia", "U0SAM": "sam"}

// ask answers each command in turn and writes the answers one after the
// other, each under the command and who typed it.
func (c *core) ask(commands ...[2]string) string {
	c.t.Helper()
	var b strings.Builder
	for _, cmd := range commands {
		fmt.Fprintf(&b, "── %s: /sla %s\n%s\n", names[cmd[0]], cmd[1], c.answer(cmd[0], cmd[1]))
	}
	return b.String()
}

// TestEveryCommandAnswers answers every command of the grammar, and its
// refusals, over the fixed data set; testdata/commands.golden is what
// people read. The figures are those worked out by hand above.
func TestEveryCommandAnswers(t *testing.T) {
	c, leads := newCommandsCore(t)
	var posted int
	c.bot.SetReportPoster(func(context.Context) error { posted++; return nil })
	got := c.ask(
		[2]string{ana, ""}, [2]string{ana, "help"}, [2]string{ana, "stauts"},
		[2]string{ana, "status"}, [2]string{maria, "status"}, [2]string{maria, "status team month share"}, [2]string{ana, "status quarter"},
		[2]string{maria, "status <@U0BO|bo>"}, [2]string{ana, "status <@U0BO|bo>"}, [2]string{stranger, "status ana@example.com"},
		[2]string{maria, "status @nobody"}, [2]string{maria, "status <@U0EVE|eve>"}, [2]string{ana, "status team nowhere"}, [2]string{stranger, "status"},
		[2]string{stranger, "funnel"}, [2]string{stranger, "funnel october"}, [2]string{stranger, "funnel yesterday"},
		[2]string{ana, "plan revenue=5000 deal=100 win=0.5 mql_to_sql=0.25"}, [2]string{ana, "plan revenue=abc deal=100 win=0.5"},
		[2]string{ana, "plan revenue=5000 deal=100 win=2"},
		[2]string{ana, "policy share"},
		[2]string{ana, "leads"}, [2]string{maria, "leads"}, [2]string{ana, "leads share"},
		[2]string{ana, "report"}, [2]string{maria, "report"},
		[2]string{maria, "sources"}, [2]string{maria, "sources 2037-11 by rule"}, [2]string{maria, "sources last 90d"},
		[2]string{maria, "sources cohort 2037-11 window 30d"}, [2]string{maria, "sources fortnight"}, [2]string{maria, "sources 2037-10"},
		[2]string{ana, "sources"},
		[2]string{maria, "speed"}, [2]string{maria, "speed pooled"}, [2]string{maria, "speed rule Demo-Request"}, [2]string{maria, "speed rule nope"},
		[2]string{ana, "speed"},
		[2]string{maria, "quality"}, [2]string{ana, "quality"},
		[2]string{ana, "review"}, [2]string{maria, "review months 40"},
		[2]string{ana, "home"}, [2]string{maria, "home"}, [2]string{stranger, "home"},
	)
	golden(t, "commands", got)
	diff(t, "reports posted by /sla report", 1, posted)

	// The leads answer's buttons act on their own leads: l4 is due first.
	r := c.bot.Answer(context.Background(), ana, "/sla", "leads")
	c.press("ana@example.com", r.Message, "Accept")
	if got := c.lead(leads["l4"].ID); got.State != engine.StateAcknowledged {
		t.Errorf("Accept on the leads answer's first row left l4 %s", got.State)
	}
}

func TestAwayAndBack(t *testing.T) {
	c, _ := newCommandsCore(t)
	ctx := context.Background()
	golden(t, "away", c.ask([2]string{ana, "away until 2037-11-25"}))
	rep, err := c.DB.RepByEmail(ctx, "ana@example.com")
	if err != nil || rep.Status != engine.RepAway || rep.AwayUntil.IsZero() {
		t.Fatalf("ana is %+v (%v)", rep, err)
	}
	if home := c.answer(ana, "home"); !strings.Contains(home, ":away: **You are away**") {
		t.Errorf("ana's home does not say she is away:\n%s", home)
	}
	got := c.ask(
		[2]string{ana, "back"},
		[2]string{maria, "away <@U0BO|bo> until monday"}, [2]string{ana, "away <@U0BO|bo>"}, [2]string{ana, "away until someday"},
		[2]string{ana, "away until 2037-11-01"}, [2]string{stranger, "away"}, [2]string{maria, "back <@U0BO|bo>"},
	)
	golden(t, "back", got)
	if rep, _ := c.DB.RepByEmail(ctx, "ana@example.com"); rep.Status != engine.RepActive {
		t.Errorf("ana is %s after /sla back", rep.Status)
	}
	if rep, _ := c.DB.RepByEmail(ctx, "bo@example.com"); rep.Status != engine.RepActive {
		t.Errorf("bo is %s after /sla back @bo", rep.Status)
	}
	diff(t, "the team's alerts", []string{
		":warning: ana@example.com is away until Wed Nov 25 and holds 4 open leads. Their SLA clocks keep running: reassign them in the CRM or have a teammate cover. New leads go to the rest of the team.\n",
		":warning: bo@example.com is away until Sun Nov 22 (set by maria@example.com) and holds 1 open lead. Their SLA clocks keep running: reassign them in the CRM or have a teammate cover. New leads go to the rest of the team.\n",
	}, texts(c.posts("#sales-ops", "")))
}
