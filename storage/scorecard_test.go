package storage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

// The engine's scorecard and speed to lead over every lead of the period
// are the oracle of the SQL ones (storage.DB.Scorecard and Speed over
// lead_facts): cell by cell, on hand-made edge cases and on a generated
// history, for every grouping, several periods and several nows. And
// summed over the groups, SQLs and first touches are /sla status all's.

// scorecardSpans are the periods a scorecard is asked for as of now.
func scorecardSpans(t *testing.T, p *engine.Policy, now time.Time, month string) []engine.ScorecardSpan {
	t.Helper()
	var out []engine.ScorecardSpan
	for _, words := range []string{"week", "month", "quarter", "last 90d", month, "cohort " + month + " window 20d"} {
		span, err := engine.ResolveScorecardSpan(strings.Fields(words), now, p.Location)
		if err != nil {
			t.Fatalf("%q: %v", words, err)
		}
		out = append(out, span)
	}
	return out
}

// checkScorecards compares every scorecard and speed table of the spans,
// and the invariants; it returns how many non-zero cells it compared.
func checkScorecards(t *testing.T, db *storage.DB, p *engine.Policy, spans []engine.ScorecardSpan, now time.Time, what string) int {
	t.Helper()
	ctx := context.Background()
	nonZero := 0
	for _, span := range spans {
		period, asOf := span.Period, span.AsOf
		facts, err := db.LeadFacts(ctx, period.Start, period.End)
		if err != nil {
			t.Fatal(err)
		}
		mqls, err := db.MQLs(ctx, period.Start, period.End)
		if err != nil {
			t.Fatal(err)
		}
		// /sla status all over the span, which the groups must add up to.
		var status engine.Attainment
		if asOf.Equal(now) {
			if status, err = db.Attainment(ctx, p, engine.Scope{Kind: engine.ScopeAll}, period, now); err != nil {
				t.Fatal(err)
			}
		}
		for _, by := range engine.GroupBys {
			for _, limit := range []int{0, 3} {
				want := engine.ComputeScorecard(p, facts, mqls, by, period, asOf, limit)
				got, err := db.Scorecard(ctx, p, by, period, asOf, limit)
				if err != nil {
					t.Fatalf("%s: by %s, %s: %v", what, by, period.Label, err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: by %s (%d rows), %s as of %s: scorecards differ (-engine +SQL):\n%s", what, by, limit, period.Label,
						asOf.Format(time.RFC3339), diff)
				}
				for _, r := range append(want.Rows, want.All) {
					for _, n := range []int{r.SQLs, r.MQLs, r.OnTime, r.Late, r.Pending, r.Closed, r.TimeToFirstTouch.Count,
						r.CadenceMet, r.CadenceMissed, r.Returned, r.Opportunities, r.Won, r.Lost} {
						if n != 0 {
							nonZero++
						}
					}
				}
				// Summed over groups: /sla status all's SQLs and first touches.
				if asOf.Equal(now) {
					var sqls, onTime, late, pending int
					for _, r := range got.Rows {
						sqls, onTime, late, pending = sqls+r.SQLs, onTime+r.OnTime, late+r.Late, pending+r.Pending
					}
					if sqls != status.SQLs || onTime != status.FirstTouchOnTime || late != status.FirstTouchLate ||
						pending != status.FirstTouchPending || got.All.TimeToFirstTouch != status.TimeToFirstTouchBusiness {
						t.Errorf("%s: by %s, %s: groups add up to %d SQLs, %d on time, %d late, %d pending; status all says %d, %d, %d, %d",
							what, by, period.Label, sqls, onTime, late, pending, status.SQLs, status.FirstTouchOnTime,
							status.FirstTouchLate, status.FirstTouchPending)
					}
				}
			}
		}
		// /sla sources: the scorecard and its findings in one scan.
		wantFindings := engine.SlowerOnBetterLeads(p, engine.ComputeScorecard(p, facts, mqls, engine.ByScore, period, asOf, 0),
			engine.ComputeScorecard(p, facts, mqls, engine.ByRule, period, asOf, 0))
		for _, by := range engine.GroupBys {
			want := engine.ComputeScorecard(p, facts, mqls, by, period, asOf, 8)
			got, findings, err := db.ScorecardWithFindings(ctx, p, by, period, asOf, 8)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: with findings, by %s, %s: scorecards differ (-engine +SQL):\n%s", what, by, period.Label, diff)
			}
			if diff := cmp.Diff(wantFindings, findings); diff != "" {
				t.Errorf("%s: by %s, %s: slower-on-better findings differ (-engine +SQL):\n%s", what, by, period.Label, diff)
			}
			nonZero += len(wantFindings)
		}
		rules := []string{""}
		if len(p.Rules) > 0 {
			rules = append(rules, p.Rules[0].Name)
		}
		for _, rule := range rules {
			for _, pooled := range []bool{false, true} {
				want := engine.ComputeSpeed(p, facts, period, asOf, rule, pooled)
				got, err := db.Speed(ctx, p, period, asOf, rule, pooled)
				if err != nil {
					t.Fatalf("%s: speed, %s: %v", what, period.Label, err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: speed (rule %q, pooled %v), %s as of %s differs (-engine +SQL):\n%s", what, rule, pooled,
						period.Label, asOf.Format(time.RFC3339), diff)
				}
				for _, table := range want.Tables {
					for _, c := range table.Cells {
						if c.Leads > 0 {
							nonZero++
						}
					}
				}
			}
		}
	}
	return nonZero
}

// scorecardCasesPolicyYAML is the edge cases' policy with score bands and
// a holiday on Thursday 19 November, which the business-time delays skip.
var scorecardCasesPolicyYAML = strings.Replace(casesPolicyYAML, "teams:",
	"holidays: [\"2026-11-19\"]\nreport: {channel: \"#smarketing\", score_bands: [30, 70]}\nteams:", 1)

func TestScorecardSQLMatchesTheEngineAtTheEdges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	policy, probs := engine.ParsePolicy([]byte(scorecardCasesPolicyYAML), at("2026-11-01 00:00"))
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	writeCases(t, db, figureCases())
	// Segments and scores on every lead, a source padded and in capitals
	// and one missing; opportunities with their CRM time (one won later,
	// one with the time only on the event).
	for _, stmt := range []string{
		`UPDATE leads SET score = (id * 37) % 100, segment = (ARRAY['smb', 'enterprise', ''])[id % 3 + 1]`,
		`UPDATE leads SET source = ' Webinar ' WHERE id % 4 = 0 AND source = 'webinar'`,
		`UPDATE leads SET source = '' WHERE id = 4`,
		`INSERT INTO lead_events (lead_id, at, kind, actor, data)
			SELECT id, received_at + interval '3 days', 'opportunity', 'crm', jsonb_build_object('amount', 0, 'at', received_at + interval '2 days')
			FROM leads WHERE state IN ('opportunity', 'won') AND id % 2 = 0`,
		`INSERT INTO lead_events (lead_id, at, kind, actor, data)
			SELECT id, received_at + interval '1 day', 'opportunity', 'crm', '{}'::jsonb
			FROM leads WHERE state IN ('opportunity', 'won') AND id % 2 = 1`,
		// A duplicate linked to an open lead is no lead of its own.
		`INSERT INTO lead_aliases (external_id, lead_id) SELECT 'dup-of-' || external_id, id FROM leads WHERE state = 'working' LIMIT 2`,
		`INSERT INTO mqls (external_id, source, segment, at) VALUES ('m1', 'webinar', 'smb', '2026-11-17 15:00Z'),
			('m2', 'demo_request', 'enterprise', '2026-11-18 15:00Z'), ('m3', 'ebook', '', '2026-11-18 16:00Z')`,
	} {
		if _, err := db.Pool().Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	compared := 0
	for _, now := range ats("2026-11-16 10:10", "2026-11-18 14:00", "2026-11-21 14:00", "2026-11-23 09:00", "2026-12-02 09:00") {
		compared += checkScorecards(t, db, policy, scorecardSpans(t, policy, now, "2026-11"), now, "edges")
	}
	if compared < 200 {
		t.Errorf("only %d non-zero cells compared", compared)
	}
	sc, err := db.Scorecard(ctx, policy, engine.BySource, engine.MonthPeriod(2026, time.November, casesLoc), at("2026-12-02 09:00"), 0)
	if err != nil {
		t.Fatal(err)
	}
	// The weekly report's "By source" block is /sla sources week's.
	for _, now := range ats("2026-11-20 10:30", "2026-12-02 09:00") {
		week, _ := engine.PeriodContaining("week", now, casesLoc)
		report, err := db.WeeklyReport(ctx, policy, week, now)
		if err != nil {
			t.Fatal(err)
		}
		sources, err := db.Scorecard(ctx, policy, engine.BySource, week, now, engine.ReportSourceRows)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sources, report.Scorecards.Week); diff != "" || (now.Day() == 20 && sources.All.SQLs == 0) {
			t.Errorf("the report's By source block of %s is not /sla sources week (-sources +report):\n%s", week.Label, diff)
		}
		if now.Day() == 2 && (report.Scorecards.PreviousMonth == nil || report.Scorecards.PreviousMonth.All.SQLs == 0) {
			t.Errorf("the first report of December carries no November scorecard")
		}
	}
	groups := map[string]int{}
	for _, r := range sc.Rows {
		groups[r.Group] = r.SQLs
	}
	var received int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM leads WHERE received_at >= '2026-11-01 04:00Z' AND received_at < '2026-12-01 05:00Z'`).Scan(&received); err != nil {
		t.Fatal(err)
	}
	if sc.All.SQLs != received {
		t.Errorf("November's scorecard counts %d SQLs, but %d leads were received (duplicates linked to a lead are none)", sc.All.SQLs, received)
	}
	if groups["webinar"] == 0 || groups[" webinar "] != 0 || groups[engine.NoGroup] != 1 || sc.All.Opportunities < 2 {
		t.Errorf("groups %v, %d opportunities: sources are trimmed and lower-cased, a missing one is (none)", groups, sc.All.Opportunities)
	}
}

func TestScorecardSQLMatchesTheEngine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _, policy := oracleDB(t)
	fingerprint := engine.FiguresFingerprint(policy)
	policy.ScoreBands = []int{60, 85}
	if n := staleCount(t, db); n != 0 {
		t.Fatalf("%d leads still stale after generating", n)
	}
	// Score bands are no figure of a lead's: the figures kept in SQL are
	// still current, so the scorecards below are SQL's, not Go's.
	if engine.FiguresFingerprint(policy) != fingerprint {
		t.Fatal("score bands change the figures' fingerprint: the scorecards would be counted in Go")
	}
	lastMonth := figuresNow.In(policy.Location).AddDate(0, -1, 0).Format("2006-01")
	for _, now := range []time.Time{figuresNow, figuresNow.Add(-50 * time.Hour)} {
		if n := checkScorecards(t, db, policy, scorecardSpans(t, policy, now, lastMonth), now, fmt.Sprint("generated as of ", now)); n < 1000 {
			t.Errorf("as of %s only %d non-zero cells were compared", now, n)
		}
	}
	// The comparison of findings above was not of empty lists only: the
	// generator answers its higher scores more slowly.
	_, findings, err := db.ScorecardWithFindings(ctx, policy, engine.BySource, engine.QuarterPeriod(2026, 4, policy.Location), figuresNow, 8)
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) == 0 {
		t.Error("no slower-on-better finding in the generated quarter: the findings were compared only when empty")
	}
}
