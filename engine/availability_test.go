package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

const availabilityPolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "#sales-ops"
    reps: [ana@example.com, bo@example.com]
  - name: sdr-west
    manager: walt@example.com
    reps: [cy@example.com]
rules:
  - name: default
    first_touch: 4h
    touches: {count: 6, within: 14d}
`

type availabilityEnv struct {
	db  *storage.DB
	svc *engine.Service
	now time.Time
}

func newAvailabilityEnv(t *testing.T) *availabilityEnv {
	t.Helper()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	policy, problems := engine.ParsePolicy([]byte(availabilityPolicy), time.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if err := db.SyncTeams(ctx, policy.Teams); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)
	return &availabilityEnv{db: db, svc: engine.NewService(db, policy, func() time.Time { return now }, nil), now: now}
}

func (e *availabilityEnv) addOpenLead(t *testing.T, id, owner string, state engine.LeadState) {
	t.Helper()
	l := &engine.Lead{ExternalID: id, Contact: engine.Contact{Email: id + "@x.test"}, OwnerEmail: owner, Team: "sdr-east",
		Rule: "default", State: state, HandedOffAt: e.now.Add(-time.Hour), ReceivedAt: e.now.Add(-time.Hour),
		AssignedAt: e.now.Add(-time.Hour), FirstTouchDue: e.now.Add(3 * time.Hour)}
	if !state.Open() {
		l.ClosedAt = e.now
	}
	if err := e.db.InTx(context.Background(), func(tx engine.Tx) error { return tx.CreateLead(context.Background(), l) }); err != nil {
		t.Fatal(err)
	}
}

// opsAlerts returns the texts of the queued ops alerts.
func (e *availabilityEnv) opsAlerts(t *testing.T) []string {
	t.Helper()
	rows, err := e.db.Pool().Query(context.Background(), `SELECT args->'args'->>'team', args->'args'->>'text' FROM river_job WHERE kind = $1 ORDER BY id`, engine.JobOpsAlert)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var team, text string
		if err := rows.Scan(&team, &text); err != nil {
			t.Fatal(err)
		}
		out = append(out, team+": "+text)
	}
	return out
}

// historyRow is one row of rep_events as stored.
type historyRow struct {
	Rep, Kind, Actor string
	At, Until        time.Time
}

// repHistory reads the reps' availability history straight from the table.
func (e *availabilityEnv) repHistory(t *testing.T) []historyRow {
	t.Helper()
	rows, err := e.db.Pool().Query(context.Background(), `SELECT rep_email, kind, actor, at, until FROM rep_events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []historyRow
	for rows.Next() {
		var r historyRow
		var until *time.Time
		if err := rows.Scan(&r.Rep, &r.Kind, &r.Actor, &r.At, &until); err != nil {
			t.Fatal(err)
		}
		if until != nil {
			r.Until = until.UTC()
		}
		r.At = r.At.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSetAvailability(t *testing.T) {
	ctx := context.Background()
	e := newAvailabilityEnv(t)
	e.addOpenLead(t, "a1", "ana@example.com", engine.StateNotified)
	e.addOpenLead(t, "a2", "ana@example.com", engine.StateWorking)
	e.addOpenLead(t, "a3", "ana@example.com", engine.StateWon) // closed: not counted
	ana := engine.Actor{Email: "ana@example.com"}
	until := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

	t.Run("ARepGoesAwayAndTheTeamHearsOfTheirOpenLeads", func(t *testing.T) {
		res, err := e.svc.SetAvailability(ctx, ana, "Ana@Example.com", true, until)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Changed || res.OpenLeads != 2 || !res.TeamTold {
			t.Errorf("result %+v, want changed, 2 open leads, team told", res)
		}
		rep, err := e.db.RepByEmail(ctx, "ana@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Status != engine.RepAway || !rep.AwayUntil.Equal(until) || rep.Available(e.now) {
			t.Errorf("rep is %s until %v, want away until %v", rep.Status, rep.AwayUntil, until)
		}
		if !rep.Available(until) {
			t.Error("the rep is not available again on the return date")
		}
		alerts := e.opsAlerts(t)
		if len(alerts) != 1 {
			t.Fatalf("alerts %q, want one", alerts)
		}
		for _, want := range []string{"sdr-east: ", "ana@example.com", "until Wed Nov 25", "2 open leads", "SLA clocks keep running"} {
			if !strings.Contains(alerts[0], want) {
				t.Errorf("alert %q does not say %q", alerts[0], want)
			}
		}
	})

	t.Run("GoingAwayAgainDoesNotAlertTwice", func(t *testing.T) {
		later := until.Add(24 * time.Hour)
		res, err := e.svc.SetAvailability(ctx, ana, "ana@example.com", true, later)
		if err != nil || !res.Changed {
			t.Fatalf("extending the absence: %+v, %v", res, err)
		}
		if n := len(e.opsAlerts(t)); n != 1 {
			t.Errorf("%d alerts after extending, want still 1", n)
		}
		res, err = e.svc.SetAvailability(ctx, ana, "ana@example.com", true, later)
		if err != nil || res.Changed {
			t.Errorf("repeating the same absence: %+v, %v; want unchanged", res, err)
		}
	})

	t.Run("BackClearsTheReturnDate", func(t *testing.T) {
		res, err := e.svc.SetAvailability(ctx, ana, "ana@example.com", false, until)
		if err != nil || !res.Changed {
			t.Fatalf("back: %+v, %v", res, err)
		}
		rep, _ := e.db.RepByEmail(ctx, "ana@example.com")
		if rep.Status != engine.RepActive || !rep.AwayUntil.IsZero() {
			t.Errorf("rep is %s until %v, want active with no date", rep.Status, rep.AwayUntil)
		}
	})

	t.Run("TheManagerMaySetItForARepWithNoLeadsAndNoAlert", func(t *testing.T) {
		res, err := e.svc.SetAvailability(ctx, engine.Actor{Email: "maria@example.com"}, "bo@example.com", true, time.Time{})
		if err != nil || !res.Changed || res.OpenLeads != 0 || res.TeamTold {
			t.Fatalf("manager sets bo away: %+v, %v", res, err)
		}
		rep, _ := e.db.RepByEmail(ctx, "bo@example.com")
		if rep.Status != engine.RepAway || !rep.AwayUntil.IsZero() || rep.Available(e.now.Add(1000*time.Hour)) {
			t.Errorf("bo is %s until %v, want away with no end", rep.Status, rep.AwayUntil)
		}
		if n := len(e.opsAlerts(t)); n != 1 {
			t.Errorf("%d alerts, want still 1 (bo holds no leads)", n)
		}
	})

	t.Run("OthersAreRefused", func(t *testing.T) {
		for _, a := range []engine.Actor{{Email: "bo@example.com"}, {Email: "walt@example.com"}, {Email: "eve@example.com"}} {
			_, err := e.svc.SetAvailability(ctx, a, "ana@example.com", true, until)
			if engine.ErrorCode(err) != engine.EFORBIDDEN {
				t.Errorf("%s: error %v, want %s", a, err, engine.EFORBIDDEN)
				continue
			}
			if msg := engine.ErrorMessage(err); !strings.Contains(msg, "ana@example.com") || !strings.Contains(msg, "maria@example.com") {
				t.Errorf("refusal %q does not say who may", msg)
			}
		}
		rep, _ := e.db.RepByEmail(ctx, "ana@example.com")
		if rep.Status != engine.RepActive {
			t.Errorf("a refused change left ana %s", rep.Status)
		}
	})

	t.Run("SystemsMay", func(t *testing.T) {
		if _, err := e.svc.SetAvailability(ctx, engine.Actor{System: "hris"}, "cy@example.com", true, until); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("BadInput", func(t *testing.T) {
		cases := []struct {
			name  string
			email string
			until time.Time
			code  string
			says  string
		}{
			{"UnknownRep", "nobody@example.com", until, engine.ENOTFOUND, "not a rep"},
			{"PastDate", "ana@example.com", e.now.Add(-time.Hour), engine.EINVALID, "already passed"},
			{"FarFuture", "ana@example.com", e.now.AddDate(2, 0, 0), engine.EINVALID, "more than a year"},
			{"NoOne", " ", until, engine.EINVALID, "whose"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := e.svc.SetAvailability(ctx, ana, c.email, true, c.until)
				if engine.ErrorCode(err) != c.code || !strings.Contains(engine.ErrorMessage(err), c.says) {
					t.Errorf("error %v, want %s saying %q", err, c.code, c.says)
				}
			})
		}
	})

	t.Run("EveryChangeIsOnTheRecordOnceWithWhoAndWhen", func(t *testing.T) {
		// Ana away, her return date moved, ana back; Maria sends Bo away
		// until further notice; the HR system sends Cy away. Repeats,
		// refusals and bad input recorded nothing.
		at := e.now.UTC()
		want := []historyRow{
			{Rep: "ana@example.com", Kind: "away", Actor: "ana@example.com", At: at, Until: until},
			{Rep: "ana@example.com", Kind: "away", Actor: "ana@example.com", At: at, Until: until.Add(24 * time.Hour)},
			{Rep: "ana@example.com", Kind: "back", Actor: "ana@example.com", At: at},
			{Rep: "bo@example.com", Kind: "away", Actor: "maria@example.com", At: at},
			{Rep: "cy@example.com", Kind: "away", Actor: "hris", At: at, Until: until},
		}
		if diff := cmp.Diff(want, e.repHistory(t)); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
	})

	t.Run("AChangeThatFailsLeavesNoRecord", func(t *testing.T) {
		before := len(e.repHistory(t))
		boom := errors.New("boom")
		err := e.db.InTx(ctx, func(tx engine.Tx) error {
			if err := tx.SetRepAvailability(ctx, "ana@example.com", engine.RepAway, time.Time{}); err != nil {
				return err
			}
			if err := tx.AppendRepEvent(ctx, &engine.RepEvent{RepEmail: "ana@example.com", Kind: engine.RepEventAway, Actor: "ana@example.com", At: e.now}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("error %v, want %v", err, boom)
		}
		if n := len(e.repHistory(t)); n != before {
			t.Errorf("%d rows after a rolled-back change, want %d", n, before)
		}
		if rep, _ := e.db.RepByEmail(ctx, "ana@example.com"); rep.Status != engine.RepActive {
			t.Errorf("ana is %s after a rolled-back change", rep.Status)
		}
	})

	t.Run("AnInactiveRepStaysInactive", func(t *testing.T) {
		if err := e.db.InTx(ctx, func(tx engine.Tx) error {
			return tx.SetRepAvailability(ctx, "bo@example.com", engine.RepInactive, time.Time{})
		}); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.SetAvailability(ctx, engine.Actor{Email: "bo@example.com"}, "bo@example.com", false, time.Time{})
		if engine.ErrorCode(err) != engine.EINVALID || !strings.Contains(engine.ErrorMessage(err), "inactive") {
			t.Errorf("error %v, want an explanation that bo is inactive", err)
		}
	})
}

func TestTheDirectorySyncsChangesAreOnTheRecordOnce(t *testing.T) {
	ctx := context.Background()
	e := newAvailabilityEnv(t)
	e.addOpenLead(t, "b1", "bo@example.com", engine.StateNotified)
	// Bo was away when Slack deactivated his account; two replicas see it.
	if _, err := e.svc.SetAvailability(ctx, engine.Actor{Email: "bo@example.com"}, "bo@example.com", true, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := e.svc.RepGone(ctx, "Bo@Example.com", "their Slack account was deactivated"); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if _, err := e.db.ReactivateRep(ctx, "bo@example.com", e.now); err != nil {
			t.Fatal(err)
		}
	}
	// Each change is stamped with the engine's clock, which is not the
	// database's.
	var got []string
	for _, r := range e.repHistory(t) {
		got = append(got, r.Rep+" "+r.Kind+" by "+r.Actor+" at "+r.At.Format(time.RFC3339))
	}
	at := " at " + e.now.UTC().Format(time.RFC3339)
	want := []string{
		"bo@example.com away by bo@example.com" + at,
		"bo@example.com deactivated by directory" + at,
		"bo@example.com reactivated by directory" + at,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

func TestRepAbsences(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// Week 47 of 2026: Monday 16 to Sunday 22 November.
	week := engine.WeekPeriod(2026, 47, time.UTC)
	now := at("2026-11-23 09:00")
	ev := func(rep string, kind engine.RepEventKind, when, until string) engine.RepEvent {
		e := engine.RepEvent{RepEmail: rep, Kind: kind, At: at(when)}
		if until != "" {
			e.Until = at(until)
		}
		return e
	}
	tests := []struct {
		name    string
		history []engine.RepEvent
		want    []engine.Absence
	}{
		{"NoHistoryNobody", nil, nil},
		{"AwayTuesdayToThursdayThoughBackNow", []engine.RepEvent{
			ev("Ana@Example.com", engine.RepEventAway, "2026-11-17 09:00", ""),
			ev("ana@example.com", engine.RepEventBack, "2026-11-19 17:00", ""),
		}, []engine.Absence{{Email: "ana@example.com", Status: engine.RepAway, From: at("2026-11-17 09:00"), To: at("2026-11-19 17:00")}}},
		{"BackByTheReturnDate", []engine.RepEvent{
			ev("ana@example.com", engine.RepEventAway, "2026-11-10 09:00", "2026-11-18 00:00"),
		}, []engine.Absence{{Email: "ana@example.com", Status: engine.RepAway, From: at("2026-11-10 09:00"), To: at("2026-11-18 00:00")}}},
		{"AReturnDateMovedIsOneAbsence", []engine.RepEvent{
			ev("ana@example.com", engine.RepEventAway, "2026-11-10 09:00", "2026-11-18 00:00"),
			ev("ana@example.com", engine.RepEventAway, "2026-11-17 09:00", "2026-12-01 00:00"),
		}, []engine.Absence{{Email: "ana@example.com", Status: engine.RepAway, From: at("2026-11-10 09:00"), Until: at("2026-12-01 00:00")}}},
		{"GoingAwayAgainAfterTheReturnDateIsAnother", []engine.RepEvent{
			ev("ana@example.com", engine.RepEventAway, "2026-11-16 09:00", "2026-11-17 00:00"),
			ev("ana@example.com", engine.RepEventAway, "2026-11-19 09:00", "2026-11-20 00:00"),
		}, []engine.Absence{
			{Email: "ana@example.com", Status: engine.RepAway, From: at("2026-11-16 09:00"), To: at("2026-11-17 00:00")},
			{Email: "ana@example.com", Status: engine.RepAway, From: at("2026-11-19 09:00"), To: at("2026-11-20 00:00")},
		}},
		{"DeactivatedWhileAwayThenReactivated", []engine.RepEvent{
			ev("bo@example.com", engine.RepEventAway, "2026-11-16 09:00", ""),
			ev("bo@example.com", engine.RepEventDeactivated, "2026-11-18 12:00", ""),
			ev("bo@example.com", engine.RepEventDeactivated, "2026-11-18 12:15", ""),
			ev("bo@example.com", engine.RepEventReactivated, "2026-11-20 08:00", ""),
		}, []engine.Absence{
			{Email: "bo@example.com", Status: engine.RepAway, From: at("2026-11-16 09:00"), To: at("2026-11-18 12:00")},
			{Email: "bo@example.com", Status: engine.RepInactive, From: at("2026-11-18 12:00"), To: at("2026-11-20 08:00")},
		}},
		{"InactiveSinceLongAgo", []engine.RepEvent{
			ev("cy@example.com", engine.RepEventDeactivated, "2025-01-05 10:00", ""),
		}, []engine.Absence{{Email: "cy@example.com", Status: engine.RepInactive, From: at("2025-01-05 10:00")}}},
		{"OutsideTheWeek", []engine.RepEvent{
			// Back exactly when the week began; away exactly when it ended;
			// away after now (not yet history); a return date before the
			// change (a carried-over status long over).
			ev("ana@example.com", engine.RepEventAway, "2026-11-12 09:00", "2026-11-16 00:00"),
			ev("bo@example.com", engine.RepEventAway, "2026-11-23 00:00", ""),
			ev("cy@example.com", engine.RepEventAway, "2026-11-23 10:00", ""),
			ev("dee@example.com", engine.RepEventAway, "2026-11-18 09:00", "2026-11-01 00:00"),
		}, nil},
		{"BackWithoutAnAbsenceIsNothing", []engine.RepEvent{
			ev("ana@example.com", engine.RepEventBack, "2026-11-17 09:00", ""),
			ev("ana@example.com", engine.RepEventReactivated, "2026-11-17 10:00", ""),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, engine.RepAbsences(tt.history, week, now)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("ByRepThenStartWhateverTheOrderGiven", func(t *testing.T) {
		history := []engine.RepEvent{
			ev("bo@example.com", engine.RepEventAway, "2026-11-18 09:00", ""),
			ev("ana@example.com", engine.RepEventAway, "2026-11-19 09:00", ""),
			ev("ana@example.com", engine.RepEventBack, "2026-11-17 12:00", ""),
			ev("ana@example.com", engine.RepEventAway, "2026-11-17 09:00", ""),
		}
		want := []engine.Absence{
			{Email: "ana@example.com", Status: engine.RepAway, From: at("2026-11-17 09:00"), To: at("2026-11-17 12:00")},
			{Email: "ana@example.com", Status: engine.RepAway, From: at("2026-11-19 09:00")},
			{Email: "bo@example.com", Status: engine.RepAway, From: at("2026-11-18 09:00")},
		}
		if diff := cmp.Diff(want, engine.RepAbsences(history, week, now)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// TestTwoChangesInOneInstantEachRedrawTheCard guards against de-duplicating
// card redraws by a key built from the clock: two changes in the same tick
// (a frozen test clock here; a coarse clock in production) each queue a
// redraw, so the card never stays at the older state.
func TestTwoChangesInOneInstantEachRedrawTheCard(t *testing.T) {
	e := newAvailabilityEnv(t)
	ctx := context.Background()
	e.addOpenLead(t, "crm-tick", "ana@example.com", engine.StateNotified)
	l, err := e.svc.LeadByExternalID(ctx, "crm-tick")
	if err != nil {
		t.Fatal(err)
	}
	ana := engine.Actor{Email: "ana@example.com"}
	if _, err := e.svc.Acknowledge(ctx, l.ID, ana); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.LogTouch(ctx, l.ID, ana, engine.TouchInput{Kind: engine.TouchCall}); err != nil {
		t.Fatal(err)
	}
	jobs, err := e.db.JobsOfLead(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	redraws := 0
	for _, j := range jobs {
		if j.Kind == engine.JobCardUpdate {
			redraws++
		}
	}
	if redraws != 2 {
		t.Errorf("%d card redraws queued for two changes in one instant, want 2", redraws)
	}
}
