package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/engine"
)

// replayNow is the end of the generated history: a Thursday afternoon in
// New York, as benchgen.Anchor picks.
var replayNow = time.Date(2026, 11, 19, 19, 30, 0, 0, time.UTC)

// TestReplayOfTheLivePolicyGivesTheRecordedFigures: replaying the policy a
// history was made under, over closed quarters, gives the figures
// /sla status all gives for them (storage.DB.Attainment): SQLs, on time,
// late, the rest, breaches by rule and kind, returns, and the median and
// 90th percentile of the business time to first touch. Reassignments are
// checked against the record's automatic reassignment events.
func TestReplayOfTheLivePolicyGivesTheRecordedFigures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, cfg, policy := oracleDB(t)
	if !cfg.Now.Equal(replayNow) {
		t.Fatalf("the oracle history ends at %v, not at %v", cfg.Now, replayNow)
	}
	// A closed quarter holds about a quarter of a year's leads; the
	// history is too thin to compare when one holds much fewer (3,000 of
	// 20,000 before the oracle history was sized by SLABOT_ORACLE_LEADS).
	minSQLs := cfg.Leads * 3 / 12 * 3 / 5
	q3 := engine.QuarterPeriod(2026, 3, policy.Location)
	q2 := engine.QuarterPeriod(2026, 2, policy.Location)
	for _, period := range []engine.Period{q3, q2} {
		results, err := db.Replay(ctx, period, replayNow, []*engine.Policy{policy}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := results[0]
		want, err := db.Attainment(ctx, policy, engine.Scope{Kind: engine.ScopeAll}, period, replayNow)
		if err != nil {
			t.Fatal(err)
		}
		if want.SQLs < minSQLs || want.FirstTouchLate == 0 || want.BreachesByKind[engine.BreachCadence] == 0 || want.Returns == 0 {
			t.Fatalf("%s: the history is too thin to compare: %+v", period.Label, want)
		}
		tot := got.Total
		type fig struct {
			SQLs, OnTime, Late, Rest, Returns int
			Breaches                          map[engine.BreachKind]int
			FirstTouch                        engine.Stats
		}
		wantFig := fig{want.SQLs, want.FirstTouchOnTime, want.FirstTouchLate, want.FirstTouchPending + want.FirstTouchClosed,
			want.Returns, want.BreachesByKind, want.TimeToFirstTouchBusiness}
		gotFig := fig{tot.Leads, tot.OnTime, tot.Late, tot.Pending, tot.Returned, tot.Breaches, tot.TimeToFirstTouch}
		if diff := cmp.Diff(wantFig, gotFig); diff != "" {
			t.Errorf("%s: replayed figures differ from /sla status all (-status +replay):\n%s", period.Label, diff)
		}

		// By rule: the breaches as /sla status counts them, and the rules'
		// figures add up to the total.
		byRule := map[string]int{}
		var sum fig
		sum.Breaches = map[engine.BreachKind]int{}
		for _, r := range got.Rules {
			for k, n := range r.Breaches {
				byRule[r.Rule] += n
				sum.Breaches[k] += n
			}
			sum.SQLs += r.Leads
			sum.OnTime += r.OnTime
			sum.Late += r.Late
			sum.Rest += r.Pending
			sum.Returns += r.Returned
		}
		for rule, n := range want.BreachesByRule {
			if byRule[rule] != n {
				t.Errorf("%s: rule %s: %d breaches replayed, /sla status counts %d", period.Label, rule, byRule[rule], n)
			}
		}
		sum.FirstTouch = tot.TimeToFirstTouch
		if diff := cmp.Diff(gotFig, sum); diff != "" {
			t.Errorf("%s: the rules do not add up to the total (-total +sum):\n%s", period.Label, diff)
		}

		// Reassignments: the record's automatic ones in the period.
		var reassigned int
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM lead_events WHERE kind = 'reassigned'
			AND (data->>'automatic')::boolean AND at >= $1 AND at < $2`, period.Start, period.End).Scan(&reassigned); err != nil {
			t.Fatal(err)
		}
		gotReassigned := 0
		for _, r := range got.Rules {
			gotReassigned += r.Reassigned
		}
		if reassigned == 0 || gotReassigned != reassigned || tot.Reassigned != reassigned {
			t.Errorf("%s: %d reassignments replayed (total %d), %d recorded", period.Label, gotReassigned, tot.Reassigned, reassigned)
		}
	}
}
