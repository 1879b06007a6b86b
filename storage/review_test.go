package storage_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/benchgen"
	"github.com/slabot/slabot/storage/storagetest"
)

// oracleLead is a lead as its row says, read without lead_facts.
type oracleLead struct {
	owner                                 string
	state                                 engine.LeadState
	handedOff, received, assigned, closed time.Time
	reassignments                         int
	rule                                  string
	hasAssigned, hasClosed                bool
}

type oracleBreach struct {
	lead      int64
	rep, rule string
	at        time.Time
}

// recountCauses counts the breaches of the span's leads by cause straight
// from the definitions in the README, over the leads and lead_events
// tables: a second reading written without the production query.
func recountCauses(t *testing.T, db *storage.DB, span engine.Period, asOf time.Time, cfg engine.ReviewConfig) map[engine.BreachCause]int {
	t.Helper()
	ctx := context.Background()
	leads := map[int64]oracleLead{}
	rows, err := db.Pool().Query(ctx, `SELECT id, lower(owner_email), state, handed_off_at, received_at, assigned_at, closed_at, reassignments, rule FROM leads`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var l oracleLead
		var assigned, closed *time.Time
		var state string
		if err := rows.Scan(&id, &l.owner, &state, &l.handedOff, &l.received, &assigned, &closed, &l.reassignments, &l.rule); err != nil {
			t.Fatal(err)
		}
		l.state = engine.LeadState(state)
		if assigned != nil {
			l.assigned, l.hasAssigned = *assigned, true
		}
		if closed != nil {
			l.closed, l.hasClosed = *closed, true
		}
		leads[id] = l
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	var breaches []oracleBreach
	rows, err = db.Pool().Query(ctx, `SELECT lead_id, coalesce(data->>'rep', ''), coalesce(data->>'rule', ''), at FROM lead_events WHERE kind = 'breach'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var b oracleBreach
		if err := rows.Scan(&b.lead, &b.rep, &b.rule, &b.at); err != nil {
			t.Fatal(err)
		}
		l := leads[b.lead]
		if !span.Contains(l.received) || l.received.After(asOf) || b.at.After(asOf) {
			continue
		}
		b.rep = strings.ToLower(strings.TrimSpace(b.rep))
		if b.rep == "" {
			b.rep = l.owner
		}
		if b.rule == "" {
			b.rule = l.rule
		}
		breaches = append(breaches, b)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}

	// openAt counts the leads rep held at instant at: assigned to them
	// before it and not closed by it.
	openAt := func(rep string, at time.Time) int {
		n := 0
		for _, l := range leads {
			if l.owner != rep || !l.hasAssigned || !l.assigned.Before(at) {
				continue
			}
			if (l.hasClosed && l.closed.After(at)) || (!l.hasClosed && l.state.Open()) {
				n++
			}
		}
		return n
	}
	causes := make([]engine.BreachCause, len(breaches))
	perRuleRep := map[string]map[string]int{}
	perRule := map[string]int{}
	for i, b := range breaches {
		l := leads[b.lead]
		switch {
		case l.hasAssigned && l.reassignments == 0 && l.assigned.Sub(l.handedOff) > cfg.RoutingDelay:
			causes[i] = engine.CauseRouting
		case b.rep != "" && openAt(b.rep, l.received) >= cfg.CapacityOpenLeads:
			causes[i] = engine.CauseCapacity
		}
		perRule[b.rule]++
		if b.rep != "" {
			if perRuleRep[b.rule] == nil {
				perRuleRep[b.rule] = map[string]int{}
			}
			perRuleRep[b.rule][b.rep]++
		}
	}
	// The rule's two reps with the most breaches, ties by email.
	top := map[string][]string{}
	for rule, reps := range perRuleRep {
		names := make([]string, 0, len(reps))
		for r := range reps {
			names = append(names, r)
		}
		slices.SortFunc(names, func(a, b string) int {
			if reps[a] != reps[b] {
				return reps[b] - reps[a]
			}
			return strings.Compare(a, b)
		})
		names = names[:min(2, len(names))]
		sum := 0
		for _, r := range names {
			sum += reps[r]
		}
		if 2*sum > perRule[rule] {
			top[rule] = names
		}
	}
	out := map[engine.BreachCause]int{}
	for i, b := range breaches {
		c := causes[i]
		if c == "" {
			c = engine.CauseOther
			if slices.Contains(top[b.rule], b.rep) {
				c = engine.CauseConcentrated
			}
		}
		out[c]++
	}
	return out
}

// TestReviewCausesRecountFromTheirDefinitions: on a generated history,
// each cause's count is what a recount from its definition gives, for a
// few settings of K and R, and every cause is met at least once.
func TestReviewCausesRecountFromTheirDefinitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := benchgen.Config{Leads: 1200, Now: replayNow, Months: 6, Teams: 3, RepsPerTeam: 4}
	db := generatedDB(t, cfg)
	policy, err := benchgen.Policy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Breaches spread evenly over a floor are never concentrated: a rule
	// of its own whose breaches come mostly from two reps is added.
	var partner []caseLead
	for i, rep := range []string{"rep001@bench.test", "rep001@bench.test", "rep002@bench.test", "rep002@bench.test", "rep003@bench.test"} {
		received := time.Date(2026, time.September, 7+i, 10, 0, 0, 0, policy.Location)
		partner = append(partner, caseLead{
			lead: engine.Lead{OwnerEmail: rep, Rule: "partner", Source: "partner", State: engine.StateWorking,
				HandedOffAt: received, ReceivedAt: received, AssignedAt: received, FirstTouchDue: received.Add(time.Hour)},
			breaches: []engine.Breach{{Kind: engine.BreachFirstTouch, Rule: "partner", RepEmail: rep,
				Due: received.Add(time.Hour), At: received.Add(time.Hour)}}})
	}
	writeCases(t, db, partner)
	// And a few rejections, for acceptance by source.
	for i, rej := range []engine.RejectCategory{engine.RejectBadData, engine.RejectWrongOwner, engine.RejectNotOurBuyer} {
		if _, err := db.Pool().Exec(ctx, `INSERT INTO lead_events (lead_id, at, kind, data)
			SELECT id, received_at + interval '1 minute', $2, jsonb_build_object('category', $3::text, 'detail', 'phone')
			FROM leads WHERE external_id = $1`, fmt.Sprintf("case-%d", i), engine.EventRejected, string(rej)); err != nil {
			t.Fatal(err)
		}
	}
	months := engine.ReviewMonthsBefore(4, replayNow, policy.Location)
	span := engine.ReviewSpan(months)
	scriptQualityEvents(t, db, span)
	facts, err := db.QualityFacts(ctx, span.Start, span.End)
	if err != nil {
		t.Fatal(err)
	}
	wantQuality := engine.ComputeQuality(facts, true, policy.Targets.Accepted)
	if a := wantQuality.All; a.Rejected < 5 || a.Misroutes != 2 || a.ContestPending != 1 || a.Upheld != 1 ||
		a.Overturned != 1 || a.FeedbackYes != 2 || a.CardMissing != 1 || len(a.ByCategory) < 2 {
		t.Fatalf("the scripted rejections, contests and feedback did not count: %+v", a)
	}
	seen := map[engine.BreachCause]bool{}
	for _, settings := range []engine.ReviewConfig{
		{CapacityOpenLeads: 15, RoutingDelay: 2 * time.Minute},
		{CapacityOpenLeads: 40, RoutingDelay: 30 * time.Second},
		{CapacityOpenLeads: 1000, RoutingDelay: time.Hour},
	} {
		t.Run(fmt.Sprintf("K=%d,R=%s", settings.CapacityOpenLeads, settings.RoutingDelay), func(t *testing.T) {
			p := *policy
			p.Review = settings
			rv, err := db.Review(ctx, &p, months, replayNow)
			if err != nil {
				t.Fatal(err)
			}
			want := recountCauses(t, db, span, replayNow, settings)
			got := map[engine.BreachCause]int{}
			for c, n := range rv.Breaches.ByCause {
				if n > 0 {
					got[c] = n
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("breaches by cause differ from the recount (-recount +review):\n%s", diff)
			}
			if diff := cmp.Diff(wantQuality, rv.Quality); diff != "" {
				t.Errorf("acceptance differs from /sla quality's over the same leads (-quality +review):\n%s", diff)
			}
			sum := 0
			for _, r := range rv.Breaches.Rules {
				sum += r.Total
			}
			if sum != rv.Breaches.Total || rv.Breaches.Total < 100 {
				t.Errorf("the rules' breaches add up to %d of %d (a test wants at least 100)", sum, rv.Breaches.Total)
			}
			for c, n := range got {
				seen[c] = seen[c] || n > 0
			}
			t.Logf("%+v", got)
		})
	}
	for _, c := range engine.BreachCauses {
		if !seen[c] {
			t.Errorf("no setting put any breach down to %s: the history does not exercise it", c)
		}
	}
}

// reviewCasesPolicy is casesPolicyYAML with monthly targets the scripted
// history can miss: 3 MQLs, 3 SQLs and 75% on time.
const reviewCasesPolicy = `
timezone: America/New_York
targets: {mqls: 3, sqls: 3, first_touch_on_time: 0.75}
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: default
    first_touch: 1h
    on_breach: [notify_manager]
`

// TestReviewFlagsACommitmentMissedThreeMonthsRunning: a scripted history
// of four months (July to October 2026). MQLs are short in August,
// September and October: the flag is off in September (two misses) and on
// in October (the third). SQLs are short in July and August only: never
// flagged. On time is short in July to
// September: flagged in September, off again in October when it is met.
func TestReviewFlagsACommitmentMissedThreeMonthsRunning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	policy, problems := engine.ParsePolicy([]byte(reviewCasesPolicy), replayNow)
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	type month struct {
		mqls, onTime, late int
	}
	script := map[time.Month]month{
		time.July:      {mqls: 3, onTime: 0, late: 1},
		time.August:    {mqls: 2, onTime: 1, late: 1},
		time.September: {mqls: 1, onTime: 1, late: 2},
		time.October:   {mqls: 0, onTime: 3, late: 0},
	}
	var cases []caseLead
	for m, s := range script {
		day := func(d, hour int) time.Time { return time.Date(2026, m, d, hour, 0, 0, 0, casesLoc) }
		for i := 0; i < s.mqls; i++ {
			if _, err := db.Pool().Exec(ctx, `INSERT INTO mqls (external_id, source, at) VALUES ($1, 'webinar', $2)`,
				fmt.Sprintf("mql-%d-%d", m, i), day(3+i, 10)); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < s.onTime+s.late; i++ {
			received := day(5+i, 10)
			l := engine.Lead{OwnerEmail: "ana@example.com", Team: "sdr-east", Rule: "default", Source: "webinar",
				State: engine.StateWorking, HandedOffAt: received, ReceivedAt: received, AssignedAt: received,
				FirstTouchDue: received.Add(time.Hour)}
			touch := received.Add(30 * time.Minute)
			if i >= s.onTime {
				touch = received.Add(2 * time.Hour)
			}
			cases = append(cases, caseLead{lead: l, touches: []time.Time{touch}})
		}
	}
	writeCases(t, db, cases)
	months := engine.ReviewMonthsBefore(4, replayNow, policy.Location)
	if months[0].Label != "July 2026" || months[3].Label != "October 2026" {
		t.Fatalf("the months are %s to %s", months[0].Label, months[3].Label)
	}
	rv, err := db.Review(ctx, policy, months, replayNow)
	if err != nil {
		t.Fatal(err)
	}
	type judged struct {
		Missed, Flagged []bool
	}
	got := map[engine.Commitment]judged{}
	for _, c := range rv.Commitments {
		var j judged
		for _, m := range c.Months {
			j.Missed, j.Flagged = append(j.Missed, m.Missed), append(j.Flagged, m.Flagged)
		}
		got[c.Key] = j
	}
	want := map[engine.Commitment]judged{
		engine.CommitMQLs:   {Missed: []bool{false, true, true, true}, Flagged: []bool{false, false, false, true}},
		engine.CommitSQLs:   {Missed: []bool{true, true, false, false}, Flagged: []bool{false, false, false, false}},
		engine.CommitOnTime: {Missed: []bool{true, true, true, false}, Flagged: []bool{false, false, true, false}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("missed and flagged months differ (-want +got):\n%s", diff)
	}
	var mqls, sqls []int
	for _, m := range rv.Months {
		mqls, sqls = append(mqls, m.Figures.MQLs), append(sqls, m.Figures.SQLs)
	}
	if !slices.Equal(mqls, []int{3, 2, 1, 0}) || !slices.Equal(sqls, []int{1, 2, 3, 3}) {
		t.Errorf("MQLs by month %v, SQLs %v", mqls, sqls)
	}
}

// scriptQualityEvents records, on generated leads received in span, what
// lead quality reads beyond a plain rejection: contests pending, upheld
// and overturned, a rejection after a wrong owner's, a second rejection
// that stands over the first, the card's feedback, so that the review's count in SQL meets every rule of
// engine.ComputeQuality.
func scriptQualityEvents(t *testing.T, db *storage.DB, span engine.Period) {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	rows, err := db.Pool().Query(ctx, `SELECT id FROM leads WHERE received_at >= $1 AND received_at < $2 AND external_id NOT LIKE 'case-%'
		ORDER BY id LIMIT 8`, span.Start, span.End)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if rows.Err() != nil || len(ids) < 8 {
		t.Fatalf("want 8 generated leads in %s, got %d (%v)", span.Label, len(ids), rows.Err())
	}
	event := func(lead int64, minutes int, kind string, data map[string]any) int64 {
		t.Helper()
		var id int64
		if err := db.Pool().QueryRow(ctx, `INSERT INTO lead_events (lead_id, at, kind, data)
			SELECT id, received_at + make_interval(mins => $2), $3, $4 FROM leads WHERE id = $1 RETURNING id`,
			lead, minutes, kind, data).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	reject := func(lead int64, minutes int, category engine.RejectCategory, detail string) int64 {
		return event(lead, minutes, engine.EventRejected, map[string]any{"category": string(category), "detail": detail})
	}
	contest := func(lead int64, minutes int, rejection int64, decision string) {
		event(lead, minutes, engine.EventContested, map[string]any{"rejection": rejection, "decision": engine.ContestPending})
		if decision != engine.ContestPending {
			event(lead, minutes+1, engine.EventContestDecided, map[string]any{"rejection": rejection, "decision": decision})
		}
	}
	contest(ids[0], 10, reject(ids[0], 5, engine.RejectBadData, "email"), engine.ContestPending)
	contest(ids[1], 10, reject(ids[1], 5, engine.RejectNotOurBuyer, "too_small"), engine.ContestUpheld)
	contest(ids[2], 10, reject(ids[2], 5, engine.RejectBadData, "phone"), engine.ContestOverturned)
	reject(ids[3], 5, engine.RejectWrongOwner, "")
	reject(ids[3], 9, engine.RejectDuplicate, "")
	reject(ids[4], 5, engine.RejectBadData, "phone")
	reject(ids[4], 9, engine.RejectNotOurBuyer, "student")
	event(ids[5], 4, engine.EventCardFeedback, map[string]any{"answer": engine.FeedbackYes})
	event(ids[6], 4, engine.EventCardFeedback, map[string]any{"answer": "phone"})
	event(ids[7], 4, engine.EventCardFeedback, map[string]any{"answer": engine.FeedbackYes})
}
