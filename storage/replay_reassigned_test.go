package storage_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

// A lead that only a reassignment recorded in the period brings to a
// policy replay. ReplayHistory loads the leads received in the period,
// closed in it or not closed, returned since the lookback, and "those
// with a breach or a reassignment recorded in the period". The generated
// history of TestReplayOfTheLivePolicyGivesTheRecordedFigures never
// reassigns a lead that is closed before the period (the service only
// reassigns open leads), so there every reassigned lead also comes in as
// closed in the period or not closed, and the way in by a reassignment is
// never the only one.
//
// The lead below is the one it is for: received long before the lookback,
// sent back to Marketing by a breach long before the period (so closed
// before it), and reassigned by a person in the period. The replay ignores
// the recorded return when it was a breach's doing (another policy may not
// return it), keeps the person's reassignment, and so gives the lead a new
// assignment, with a new first-touch deadline, in the period. The
// service's own records only get there by a lead reopened after its
// return (a contest overturned) and closed again by an outcome the CRM
// back-dates before the period; the case keeps just what the replay reads.
//
// Left out, because the replay over what is read differs from the replay
// over every lead there (SQL and engine disagree; not fixed here), under
// replayMovesProposed, with case-0 changed:
//   - reassigned on Friday 13 November at 16:00 instead, just before the
//     week: bo's new deadline, Monday 12:00, is breached in the week, but
//     no event in the week brings the lead in (first-touch breaches 2 over
//     every lead, 1 over what is read; peak open 2 both);
//   - never reassigned: the replay keeps the lead with ana from September
//     on (a breach's return is not replayed), so she holds 3 leads at once
//     in the week over every lead, 2 over what is read (PeakOpen 3 vs 2).
//     Every lead returned by a breach before the lookback does this.

// replayMovesLive is the policy the history was made under: a first-touch
// breach sends the lead back to Marketing.
const replayMovesLive = `
timezone: America/New_York
business_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: default
    first_touch: 4h
    on_breach: [return_to_marketing]
`

// replayMovesProposed only tells the manager of a breach: the lead stays
// with Sales, so a later reassignment gives it a new clock.
const replayMovesProposed = `
timezone: America/New_York
business_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: default
    first_touch: 4h
    on_breach: [notify_manager]
`

// replayMoveEvent is a lead event the replay reads besides breaches.
type replayMoveEvent struct {
	at   string
	kind string
	data map[string]any
}

type replayMoveCase struct {
	caseLead
	events []replayMoveEvent
}

func routedTo(at, owner string) replayMoveEvent {
	return replayMoveEvent{at, "routed", map[string]any{"owner": owner, "team": "sdr-east", "named_owner": ""}}
}

// replayMoveCases are leads around week 47 (16–22 November 2026).
func replayMoveCases() []replayMoveCase {
	ana, bo := "ana@example.com", "bo@example.com"
	l := func(owner string, state engine.LeadState, received, assigned, closed string) engine.Lead {
		return engine.Lead{OwnerEmail: owner, Team: "sdr-east", Rule: "default", Source: "webinar", State: state,
			HandedOffAt: at(received).Add(-10 * time.Minute), ReceivedAt: at(received), AssignedAt: at(assigned),
			FirstTouchDue: at(assigned).Add(4 * time.Hour), ClosedAt: at(closed)}
	}
	returnedOnBreach := func(when string) replayMoveEvent {
		return replayMoveEvent{when, "returned", map[string]any{"reason": engine.ReturnReasonBreached, "automatic": true}}
	}
	breach := func(rep, due string) []engine.Breach {
		return []engine.Breach{{Kind: engine.BreachFirstTouch, Rule: "default", RepEmail: rep, Team: "sdr-east", Due: at(due), At: at(due)}}
	}
	returned := func(x engine.Lead) engine.Lead { x.ReturnReason = engine.ReturnReasonBreached; return x }
	return []replayMoveCase{
		// case-0, the lead of this test: routed to ana on 1 September,
		// untouched, returned by the breach at 13:00, then given to bo by
		// a manager on Tuesday of week 47 at 10:00. Under the proposed
		// policy bo's new first touch is due at 14:00 that day, and breached.
		{caseLead{lead: returned(l(bo, engine.StateReturned, "2026-09-01 09:00", "2026-11-17 10:00", "2026-09-01 13:00")),
			breaches: breach(ana, "2026-09-01 13:00")},
			[]replayMoveEvent{routedTo("2026-09-01 09:00", ana), returnedOnBreach("2026-09-01 13:00"),
				{"2026-11-17 10:00", engine.EventReassigned, map[string]any{"to": bo, "team": "sdr-east", "automatic": false}}}},
		// case-1: received in the week, touched on time.
		{caseLead{lead: l(ana, engine.StateWorking, "2026-11-16 10:00", "2026-11-16 10:00", ""), touches: ats("2026-11-16 11:00")},
			[]replayMoveEvent{routedTo("2026-11-16 10:00", ana)}},
		// case-2: received in the week, untouched, returned by its breach;
		// under the proposed policy bo keeps it.
		{caseLead{lead: returned(l(bo, engine.StateReturned, "2026-11-18 09:00", "2026-11-18 09:00", "2026-11-18 13:00")),
			breaches: breach(bo, "2026-11-18 13:00")},
			[]replayMoveEvent{routedTo("2026-11-18 09:00", bo), returnedOnBreach("2026-11-18 13:00")}},
		// case-3: closed before the week by its owner, nothing in it: no
		// way in, and no figure of the week to change.
		{caseLead{lead: l(ana, engine.StateLost, "2026-09-02 09:00", "2026-09-02 09:00", "2026-09-03 09:00"), touches: ats("2026-09-02 10:00")},
			[]replayMoveEvent{routedTo("2026-09-02 09:00", ana)}},
		// case-4: from before the week, still open with ana.
		{caseLead{lead: l(ana, engine.StateWorking, "2026-11-10 09:00", "2026-11-10 09:00", ""), touches: ats("2026-11-10 09:30")},
			[]replayMoveEvent{routedTo("2026-11-10 09:00", ana)}},
	}
}

// writeReplayMoveCases writes the cases' rows, touches and breaches
// (writeCases) and the events the replay reads besides.
func writeReplayMoveCases(t *testing.T, db *storage.DB, cases []replayMoveCase) {
	t.Helper()
	ctx := context.Background()
	rows := make([]caseLead, len(cases))
	for i, c := range cases {
		rows[i] = c.caseLead
	}
	writeCases(t, db, rows)
	for i, c := range cases {
		for _, e := range c.events {
			if _, err := db.Pool().Exec(ctx, `INSERT INTO lead_events (lead_id, at, kind, actor, data)
				SELECT id, $2, $3, 'maria@example.com', $4 FROM leads WHERE external_id = $1`,
				fmt.Sprintf("case-%d", i), at(e.at), e.kind, e.data); err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
		}
	}
}

// TestReplayReadsALeadReassignedInThePeriodAfterItClosed: a lead closed
// before the period and received before the lookback, which only its
// reassignment in the period brings to the replay, is read, and the
// replay over what ReplayHistory loads for the period is the engine's
// replay over every lead, under the live policy and under a proposed one
// for which that lead has a breach in the period.
func TestReplayReadsALeadReassignedInThePeriodAfterItClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	cases := replayMoveCases()
	writeReplayMoveCases(t, db, cases)
	var policies []*engine.Policy
	for _, yaml := range []string{replayMovesLive, replayMovesProposed} {
		p, probs := engine.ParsePolicy([]byte(yaml), at("2026-11-01 00:00"))
		if err := probs.Err(); err != nil {
			t.Fatal(err)
		}
		policies = append(policies, p)
	}
	week, err := engine.PeriodContaining("week", at("2026-11-18 12:00"), casesLoc)
	if err != nil {
		t.Fatal(err)
	}
	now := at("2026-11-23 09:00")

	// case-0 reaches the replay by its reassignment only: each other
	// condition of ReplayHistory's query leaves it out.
	lookback := engine.ReplayLookback(week.Start, policies...)
	only := cases[0]
	if x := only.lead; !x.ReceivedAt.Before(week.Start.Add(-lookback)) || x.ClosedAt.IsZero() || !x.ClosedAt.Before(week.Start) ||
		slices.ContainsFunc(only.breaches, func(b engine.Breach) bool { return week.Contains(b.At) }) ||
		!slices.ContainsFunc(only.events, func(e replayMoveEvent) bool { return e.kind == engine.EventReassigned && week.Contains(at(e.at)) }) {
		t.Fatalf("case-0 reaches the replay by more than its reassignment in %s (lookback %v): the case no longer tests that way in", week.Label, lookback)
	}

	// The oracle: every lead, read with a period reaching from long before
	// the first lead to long after the last, replayed by the engine.
	var all []engine.LeadHistory
	err = db.ReplayHistory(ctx, at("2000-01-03 00:00"), at("2100-01-04 00:00"), 0,
		func(storage.ReplayPeople) error { return nil },
		func(batch []engine.LeadHistory) error { all = append(all, batch...); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(cases) {
		t.Fatalf("%d leads read in all, want the %d cases", len(all), len(cases))
	}

	var loaded []string
	got, err := db.Replay(ctx, week, now, policies, nil, func(batch []engine.LeadHistory) {
		for _, h := range batch {
			loaded = append(loaded, h.Facts.Lead.ExternalID)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(loaded, "case-0") {
		t.Errorf("case-0, reassigned in %s after it was returned on a breach, is not read for the replay (read %v)", week.Label, loaded)
	}
	if slices.Contains(loaded, "case-3") {
		t.Errorf("case-3, received and closed before %s's lookback, is read for the replay (read %v)", week.Label, loaded)
	}
	for i, p := range policies {
		r := engine.NewReplayer(engine.Replay{Policy: p, Now: now}, week)
		r.Add(all)
		want := r.Result()
		if diff := cmp.Diff(want, got[i]); diff != "" {
			t.Errorf("policy %d: the replay of %s over the leads read for it (%v) differs from the replay over every lead (-all +read):\n%s",
				i, week.Label, loaded, diff)
		}
	}

	// The figures themselves, so that two equally wrong replays cannot
	// agree. Live: case-1 on time, case-2 late and sent back by its breach;
	// case-0 was sent back in September and stays so; ana holds case-4
	// and case-1.
	live, proposed := got[0].Total, got[1].Total
	if live.Leads != 2 || live.OnTime != 1 || live.Late != 1 || live.Breaches[engine.BreachFirstTouch] != 1 || live.Returned != 1 || got[0].PeakOpen != 2 {
		t.Errorf("live policy over %s: %+v, peak open %d; want 2 leads, 1 on time, 1 late, 1 first-touch breach, 1 returned, peak 2",
			week.Label, live, got[0].PeakOpen)
	}
	// Proposed: nothing goes back, so case-2 is late; case-2's breach at
	// 13:00 on Wednesday and case-0's at 14:00 on Tuesday, 4 business
	// hours after bo took it. ana still holds case-0 (since September)
	// with case-4 and case-1 from Monday 10:00 until Tuesday 10:00: 3 at
	// once, where the live replay has her hold 2.
	if proposed.Leads != 2 || proposed.OnTime != 1 || proposed.Late != 1 || proposed.Breaches[engine.BreachFirstTouch] != 2 ||
		proposed.Returned != 0 || got[1].PeakOpen != 3 {
		t.Errorf("proposed policy over %s: %+v, peak open %d; want 2 leads, 1 on time, 1 late, 2 first-touch breaches, none returned, peak 3",
			week.Label, proposed, got[1].PeakOpen)
	}
}
