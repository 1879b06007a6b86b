package main

import (
	"context"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/benchgen"
	"github.com/slabot/slabot/storage/storagetest"
)

// TestDemoHistoryIsPlausible seeds the demo's history under the demo's
// policy, as `slabot demo` does, and checks that it is there and reads as a
// real team's past under that policy: the demo's team and reps, several
// sources, outcomes of every kind, a share on time near what the generator
// aims at, faster first touches winning more often, its figures worked
// out, and nothing left for the bot to do.
func TestDemoHistoryIsPlausible(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := storagetest.NewDB(t)
	policy, problems := engine.ParsePolicy([]byte(demoPolicy(8, "#smarketing", "#sales-ops")), time.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatalf("the demo's policy: %v", errs)
	}
	if err := db.SyncTeams(ctx, policy.Teams); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Microsecond)
	h := demoHistory(policy, now, 1, "#sales-ops", 0)
	stats, err := benchgen.History(ctx, db, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(stats)
	pool := db.Pool()
	one := func(q string, args ...any) (n int64) {
		t.Helper()
		if err := pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}

	if n := one(`SELECT count(*) FROM leads`); n != demoHistoryLeads {
		t.Errorf("%d leads, want %d", n, demoHistoryLeads)
	}
	if n := one(`SELECT count(*) FROM leads WHERE received_at >= $1 OR received_at < $2`, now, now.AddDate(0, -demoHistoryMonths, -1)); n != 0 {
		t.Errorf("%d leads received outside the %d months before the story", n, demoHistoryMonths)
	}
	if n := one(`SELECT count(DISTINCT source) FROM leads`); n < 5 {
		t.Errorf("leads from %d sources, want several", n)
	}
	if n := one(`SELECT count(DISTINCT rule) FROM leads`); n != int64(len(policy.Rules)) {
		t.Errorf("leads under %d rules, want each of the policy's %d", n, len(policy.Rules))
	}
	// The demo's team and reps, its manager and channel: nothing of the
	// generator's own floor.
	if n := one(`SELECT count(*) FROM leads WHERE team <> 'sdr-east' OR owner_email NOT IN
		('ana@example.com', 'bo@example.com', 'chen@example.com', 'dee@example.com')`); n != 0 {
		t.Errorf("%d leads are not the demo team's", n)
	}
	if n := one(`SELECT count(*) FROM lead_messages WHERE recipient LIKE '%bench.test' OR recipient LIKE '%team00%'`); n != 0 {
		t.Errorf("%d messages went to the generator's own people", n)
	}
	if n := one(`SELECT count(*) FROM lead_messages WHERE recipient = 'maria@example.com'`); n == 0 {
		t.Error("no breach was escalated to Maria")
	}
	if n := one(`SELECT count(*) FROM lead_events WHERE data::text LIKE '%team00%'`); n != 0 {
		t.Errorf("%d events name the generator's team", n)
	}
	// Dee is away since this morning: no lead of today is hers.
	today := time.Date(now.In(policy.Location).Year(), now.In(policy.Location).Month(), now.In(policy.Location).Day(), 0, 0, 0, 0, policy.Location)
	if n := one(`SELECT count(*) FROM leads WHERE owner_email = 'dee@example.com' AND received_at >= $1`, today); n != 0 {
		t.Errorf("%d of today's leads went to Dee, who is away", n)
	}
	// Outcomes of every kind, won ones with their amounts.
	for _, state := range []engine.LeadState{engine.StateWon, engine.StateLost, engine.StateOpportunity, engine.StateReturned, engine.StateDisqualified} {
		if n := one(`SELECT count(*) FROM leads WHERE state = $1`, string(state)); n < 10 {
			t.Errorf("%d leads %s, want some", n, state)
		}
	}
	// The team's open leads are its last few days': older leads became
	// opportunities or were closed.
	if n := one(`SELECT count(*) FROM leads WHERE state IN ('new', 'notified', 'acknowledged', 'working', 'snoozed', 'reassigned')
		AND received_at < $1`, now.AddDate(0, 0, -5)); n != 0 {
		t.Errorf("%d leads older than 5 days are still open", n)
	}
	if n := one(`SELECT count(*) FROM leads WHERE state = 'won' AND amount <= 0`); n != 0 {
		t.Errorf("%d won leads have no amount", n)
	}
	// The figures are worked out under the demo's policy, for every lead.
	if n := one(`SELECT count(*) FROM lead_facts`); n != demoHistoryLeads {
		t.Errorf("figures for %d leads, want %d", n, demoHistoryLeads)
	}
	if n := one(`SELECT count(*) FROM lead_facts_stale`); n != 0 {
		t.Errorf("%d leads' figures are stale", n)
	}
	// On time: the generator aims at ExpectedOnTime of the touched first
	// assignments; untouched ones (at most 1-0.96 of them, and a little
	// more for reassignments) count late, reassigned leads get a second
	// chance. The share is over ~2,000 leads, so ±0.05 is over 5
	// standard errors.
	due := one(`SELECT count(*) FROM lead_facts WHERE first_touch_due IS NOT NULL AND (closed_at IS NULL OR closed_at > first_touch_due)`)
	onTime := one(`SELECT count(*) FROM lead_facts WHERE first_touch_due IS NOT NULL AND (closed_at IS NULL OR closed_at > first_touch_due)
		AND NOT first_touch_breached AND first_touch_at <= first_touch_due`)
	share, want := float64(onTime)/float64(due), h.ExpectedOnTime()
	if lo, hi := want*0.96-0.05, want+0.05; share < lo || share > hi {
		t.Errorf("first touch on time for %.3f of %d leads, want %.3f–%.3f (the generator aims at %.3f)", share, due, lo, hi, want)
	}
	if share < 0.7 || share > 0.9 {
		t.Errorf("first touch on time for %.3f of the leads: not a believable team", share)
	}
	if n := one(`SELECT count(*) FROM lead_events WHERE kind = 'breach'`); n < due/20 {
		t.Errorf("%d breaches, want some", n)
	}
	// Faster converts better: leads first touched within 5 minutes win
	// more often than those touched after 15.
	fast := one(`SELECT count(*) FROM lead_facts WHERE first_touch_business <= $1`, int64(5*time.Minute))
	fastWon := one(`SELECT count(*) FROM lead_facts WHERE first_touch_business <= $1 AND state = 'won'`, int64(5*time.Minute))
	slow := one(`SELECT count(*) FROM lead_facts WHERE first_touch_business > $1`, int64(15*time.Minute))
	slowWon := one(`SELECT count(*) FROM lead_facts WHERE first_touch_business > $1 AND state = 'won'`, int64(15*time.Minute))
	if fast < 1000 || slow < 60 {
		t.Fatalf("%d leads touched within 5 minutes and %d after 15: too few to compare", fast, slow)
	}
	if f, s := float64(fastWon)/float64(fast), float64(slowWon)/float64(slow); f < 1.5*s {
		t.Errorf("won %.3f of the leads touched within 5 minutes and %.3f of those after 15: no gradient", f, s)
	}
	// Nothing for the bot to do: no jobs, and every open lead's deadlines
	// long past.
	if n := one(`SELECT count(*) FROM river_job`); n != 0 {
		t.Errorf("the history left %d jobs", n)
	}
	if n := one(`SELECT count(*) FROM leads WHERE first_touch_due > $1`, now.Add(5*time.Second)); n != 0 {
		t.Errorf("%d leads have a deadline after the story starts", n)
	}
}
