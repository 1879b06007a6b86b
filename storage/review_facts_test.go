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
	"github.com/slabot/slabot/storage/benchgen"
	"github.com/slabot/slabot/storage/storagetest"
)

// breachFigures are what the review keeps on a breach's row (migration
// 0022): the open leads its rep held when the lead arrived, and the lead's
// routing delay in nanoseconds (nil when it has none).
type breachFigures struct {
	Held    int
	Routing *int64
}

// recountBreachFigures works each breach's figures out from their
// definitions over the leads table and the breach events, keyed by lead
// and rep: a second reading written without the triggers.
func recountBreachFigures(t *testing.T, db *storage.DB) map[string]breachFigures {
	t.Helper()
	ctx := context.Background()
	type lead struct {
		owner               string
		state               engine.LeadState
		handedOff, received time.Time
		assigned, closed    *time.Time
		reassignments       int
	}
	leads := map[int64]lead{}
	rows, err := db.Pool().Query(ctx, `SELECT id, lower(owner_email), state, handed_off_at, received_at, assigned_at, closed_at, reassignments FROM leads`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var l lead
		var state string
		if err := rows.Scan(&id, &l.owner, &state, &l.handedOff, &l.received, &l.assigned, &l.closed, &l.reassignments); err != nil {
			t.Fatal(err)
		}
		l.state = engine.LeadState(state)
		leads[id] = l
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	held := func(rep string, at time.Time) int {
		n := 0
		for _, l := range leads {
			if l.owner != rep || l.assigned == nil || !l.assigned.Before(at) {
				continue
			}
			if (l.closed != nil && l.closed.After(at)) || (l.closed == nil && l.state.Open()) {
				n++
			}
		}
		return n
	}
	out := map[string]breachFigures{}
	rows, err = db.Pool().Query(ctx, `SELECT lead_id, lower(trim(coalesce(data->>'rep', ''))) FROM lead_events WHERE kind = 'breach'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var rep string
		if err := rows.Scan(&id, &rep); err != nil {
			t.Fatal(err)
		}
		l := leads[id]
		if rep == "" {
			rep = l.owner
		}
		f := breachFigures{Held: held(rep, l.received)}
		if l.assigned != nil && l.reassignments == 0 {
			d := int64(l.assigned.Sub(l.handedOff))
			f.Routing = &d
		}
		out[fmt.Sprintf("%d/%s", id, rep)] = f
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	return out
}

// storedBreachFigures reads the figures kept on the breach rows.
func storedBreachFigures(t *testing.T, db *storage.DB) map[string]breachFigures {
	t.Helper()
	rows, err := db.Pool().Query(context.Background(), `SELECT lead_id, rep_key, held_at_arrival, lead_routing_delay FROM lead_breach_facts`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]breachFigures{}
	for rows.Next() {
		var id int64
		var rep string
		var f breachFigures
		if err := rows.Scan(&id, &rep, &f.Held, &f.Routing); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("%d/%s", id, rep)] = f
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	return out
}

// reviewFactsScript is a small history in August and September 2026 on
// reviewCasesPolicy: ana and bo each hold open leads when their late
// leads arrive.
func reviewFactsScript(t *testing.T, db *storage.DB) {
	t.Helper()
	day := func(month time.Month, d, hour, minute int) time.Time {
		return time.Date(2026, month, d, hour, minute, 0, 0, casesLoc)
	}
	held := func(rep string, at time.Time) caseLead {
		return caseLead{lead: engine.Lead{OwnerEmail: rep, Team: "sdr-east", Rule: "default", Source: "webinar",
			State: engine.StateWorking, HandedOffAt: at, ReceivedAt: at, AssignedAt: at, FirstTouchDue: at.Add(time.Hour)}}
	}
	late := func(rep string, at time.Time) caseLead {
		c := held(rep, at)
		c.lead.AssignedAt = at.Add(5 * time.Minute) // a routing delay of 5 minutes
		c.lead.FirstTouchDue = c.lead.AssignedAt.Add(time.Hour)
		c.breaches = []engine.Breach{{Kind: engine.BreachFirstTouch, Rule: "default", RepEmail: rep, Team: "sdr-east",
			Due: c.lead.FirstTouchDue, At: c.lead.FirstTouchDue}}
		return c
	}
	writeCases(t, db, []caseLead{
		held("ana@example.com", day(time.August, 3, 10, 0)),   // case-0
		held("ana@example.com", day(time.August, 4, 10, 0)),   // case-1
		held("bo@example.com", day(time.August, 5, 10, 0)),    // case-2
		late("ana@example.com", day(time.August, 10, 10, 0)),  // case-3
		late("bo@example.com", day(time.August, 12, 10, 0)),   // case-4
		late("ana@example.com", day(time.September, 8, 9, 0)), // case-5
	})
}

// changeLead applies change to the lead with externalID through the
// store's own write path, the lead locked as the engine locks it.
func changeLead(t *testing.T, db *storage.DB, externalID string, change func(l *engine.Lead, tx engine.Tx) error) {
	t.Helper()
	ctx := context.Background()
	err := db.InTx(ctx, func(tx engine.Tx) error {
		found, err := tx.LeadByExternalID(ctx, externalID)
		if err != nil {
			return err
		}
		l, err := tx.LockLead(ctx, found.ID)
		if err != nil {
			return err
		}
		if err := change(l, tx); err != nil {
			return err
		}
		return tx.UpdateLead(ctx, l)
	})
	if err != nil {
		t.Fatalf("change %s: %v", externalID, err)
	}
}

// appendEvent records an event on the lead with externalID and returns its id.
func appendEvent(t *testing.T, db *storage.DB, externalID string, at time.Time, kind string, data map[string]any) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := db.InTx(ctx, func(tx engine.Tx) error {
		l, err := tx.LeadByExternalID(ctx, externalID)
		if err != nil {
			return err
		}
		if _, err := tx.LockLead(ctx, l.ID); err != nil {
			return err
		}
		e := &engine.Event{LeadID: l.ID, At: at, Kind: kind, Actor: "ana@example.com", Data: data}
		if err := tx.AppendEvent(ctx, e); err != nil {
			return err
		}
		id = e.ID
		return nil
	})
	if err != nil {
		t.Fatalf("%s on %s: %v", kind, externalID, err)
	}
	return id
}

// TestReviewFiguresStayTrueAsLeadsChange: after each change that moves
// them (a reassignment, a touch, a closing, an acknowledgement and a
// rejection, a rejection overturned, a backdated import), the figures the
// review keeps are what a recount from their definitions gives, and the
// review's causes and acceptance are what recounts over the leads give.
// Each change moves something, so a change the triggers miss fails here.
func TestReviewFiguresStayTrueAsLeadsChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	aug := func(d, hour int) time.Time { return time.Date(2026, time.August, d, hour, 0, 0, 0, casesLoc) }
	rejectAt := aug(13, 10)
	for _, tc := range []struct {
		name string
		// before is applied with the script, change after the first review.
		before, change func(t *testing.T, db *storage.DB)
		// moves says what the change moves: the breaches' figures, acceptance or both.
		movesHeld, movesQuality bool
	}{
		{name: "reassign", movesHeld: true, movesQuality: false, change: func(t *testing.T, db *storage.DB) {
			// ana's late lead goes to bo: ana held one lead fewer when her
			// September lead arrived, bo one more when his arrived; the
			// reassigned lead has no routing delay any more.
			changeLead(t, db, "case-3", func(l *engine.Lead, _ engine.Tx) error {
				l.OwnerEmail, l.AssignedAt, l.Reassignments, l.State = "bo@example.com", aug(11, 9), 1, engine.StateReassigned
				return nil
			})
		}},
		{name: "touch", movesQuality: true, change: func(t *testing.T, db *storage.DB) {
			changeLead(t, db, "case-4", func(l *engine.Lead, tx engine.Tx) error {
				at := l.FirstTouchDue.Add(30 * time.Minute)
				if _, err := tx.AddTouch(ctx, &engine.Touch{LeadID: l.ID, Kind: engine.TouchCall, At: at, ByEmail: l.OwnerEmail}); err != nil {
					return err
				}
				l.FirstTouchAt = at
				return nil
			})
		}},
		{name: "close", movesHeld: true, movesQuality: true, change: func(t *testing.T, db *storage.DB) {
			// ana's first lead is lost on August 20th: she no longer held it
			// when her September lead arrived.
			changeLead(t, db, "case-0", func(l *engine.Lead, _ engine.Tx) error {
				l.State, l.ClosedAt = engine.StateLost, aug(20, 10)
				return nil
			})
		}},
		{name: "accept and reject", movesQuality: true, change: func(t *testing.T, db *storage.DB) {
			changeLead(t, db, "case-2", func(l *engine.Lead, _ engine.Tx) error {
				l.AcknowledgedAt = aug(6, 9)
				return nil
			})
			appendEvent(t, db, "case-4", rejectAt, engine.EventRejected,
				map[string]any{"category": string(engine.RejectBadData), "detail": "phone"})
		}},
		{name: "overturn", movesQuality: true, before: func(t *testing.T, db *storage.DB) {
			appendEvent(t, db, "case-4", rejectAt, engine.EventRejected,
				map[string]any{"category": string(engine.RejectBadData), "detail": "phone"})
		}, change: func(t *testing.T, db *storage.DB) {
			var rejection int64
			if err := db.Pool().QueryRow(ctx, `SELECT e.id FROM lead_events e JOIN leads l ON l.id = e.lead_id
				WHERE l.external_id = 'case-4' AND e.kind = $1`, engine.EventRejected).Scan(&rejection); err != nil {
				t.Fatal(err)
			}
			appendEvent(t, db, "case-4", rejectAt.Add(time.Hour), engine.EventContested,
				map[string]any{"rejection": rejection, "decision": engine.ContestPending})
			appendEvent(t, db, "case-4", rejectAt.Add(2*time.Hour), engine.EventContestDecided,
				map[string]any{"rejection": rejection, "decision": engine.ContestOverturned})
		}},
		{name: "backdated import", movesHeld: true, movesQuality: true, change: func(t *testing.T, db *storage.DB) {
			// A lead of ana's from July, imported now: she held it when
			// each of her late leads arrived.
			received := time.Date(2026, time.July, 20, 10, 0, 0, 0, casesLoc)
			err := db.InTx(ctx, func(tx engine.Tx) error {
				return tx.CreateLead(ctx, &engine.Lead{ExternalID: "imported", OwnerEmail: "ana@example.com", Team: "sdr-east",
					Rule: "default", Source: "import", State: engine.StateWorking, HandedOffAt: received, ReceivedAt: received,
					AssignedAt: received, FirstTouchDue: received.Add(time.Hour)})
			})
			if err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := storagetest.NewDB(t)
			p, problems := engine.ParsePolicy([]byte(reviewCasesPolicy), replayNow)
			if err := problems.Err(); err != nil {
				t.Fatal(err)
			}
			p.Review = engine.ReviewConfig{CapacityOpenLeads: 2, RoutingDelay: time.Minute}
			months := engine.ReviewMonthsBefore(4, replayNow, p.Location)
			span := engine.ReviewSpan(months)
			reviewFactsScript(t, db)
			if tc.before != nil {
				tc.before(t, db)
			}
			check := func(when string) (map[string]breachFigures, engine.Quality) {
				t.Helper()
				// The review refreshes the leads' figures first, as /sla review does.
				rv, err := db.Review(ctx, p, months, replayNow)
				if err != nil {
					t.Fatal(err)
				}
				want := recountBreachFigures(t, db)
				if len(want) < 3 {
					t.Fatalf("%s: the script has %d breaches", when, len(want))
				}
				if diff := cmp.Diff(want, storedBreachFigures(t, db)); diff != "" {
					t.Errorf("%s: the breaches' kept figures differ from a recount (-recount +kept):\n%s", when, diff)
				}
				causes := map[engine.BreachCause]int{}
				for c, n := range rv.Breaches.ByCause {
					if n > 0 {
						causes[c] = n
					}
				}
				if diff := cmp.Diff(recountCauses(t, db, span, replayNow, p.Review), causes); diff != "" {
					t.Errorf("%s: breaches by cause differ from the recount (-recount +review):\n%s", when, diff)
				}
				facts, err := db.QualityFacts(ctx, span.Start, span.End)
				if err != nil {
					t.Fatal(err)
				}
				quality := engine.ComputeQuality(facts, true, p.Targets.Accepted)
				if diff := cmp.Diff(quality, rv.Quality); diff != "" {
					t.Errorf("%s: acceptance differs from /sla quality's over the same leads (-quality +review):\n%s", when, diff)
				}
				return want, quality
			}
			heldBefore, qualityBefore := check("before the change")
			tc.change(t, db)
			heldAfter, qualityAfter := check("after the change")
			if moved := !cmp.Equal(heldBefore, heldAfter); moved != tc.movesHeld {
				t.Errorf("the change moved the breaches' figures: %v, want %v", moved, tc.movesHeld)
			}
			if moved := !cmp.Equal(qualityBefore, qualityAfter); moved != tc.movesQuality {
				t.Errorf("the change moved acceptance: %v, want %v", moved, tc.movesQuality)
			}
			if t.Failed() {
				t.Logf("kept rows:\n%s", dumpReviewFacts(t, db))
			}
		})
	}
}

// dumpReviewFacts shows the kept rows when a case fails.
func dumpReviewFacts(t *testing.T, db *storage.DB) string {
	t.Helper()
	rows, err := db.Pool().Query(context.Background(), `SELECT r.lead_id, l.external_id, r.state, r.accepted, coalesce(r.standing_category, '-'), r.overturned
		FROM lead_review_facts r JOIN leads l ON l.id = r.lead_id ORDER BY r.lead_id`)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, v...)
	}
	return b.String()
}

// TestReviewMonthsAreTheScorecards: the review counts its months apart,
// on connections of their own that share one snapshot; each month's row is
// the scorecard's (all) row of that month, and the span's score bands the
// scorecard by score over the span.
func TestReviewMonthsAreTheScorecards(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := benchgen.Config{Leads: 1000, Now: replayNow, Months: 6, Teams: 2, RepsPerTeam: 3}
	db := generatedDB(t, cfg)
	p, err := benchgen.Policy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 4, 5} {
		months := engine.ReviewMonthsBefore(n, replayNow, p.Location)
		rv, err := db.Review(ctx, p, months, replayNow)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range months {
			sc, err := db.Scorecard(ctx, p, engine.ByScore, m, replayNow, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := sc.All
			want.Group, want.MQLs, want.HasMQLs = m.Label, rv.Months[i].Figures.MQLs, true
			if want.SQLs == 0 {
				t.Fatalf("%s has no leads", m.Label)
			}
			if diff := cmp.Diff(want, rv.Months[i].Figures); diff != "" {
				t.Errorf("%d months: %s differs from its scorecard (-scorecard +review):\n%s", n, m.Label, diff)
			}
		}
		sc, err := db.Scorecard(ctx, p, engine.ByScore, engine.ReviewSpan(months), replayNow, 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(sc.Rows, rv.ByScore.Rows); diff != "" {
			t.Errorf("%d months: the score bands differ from the scorecard's (-scorecard +review):\n%s", n, diff)
		}
	}
}
