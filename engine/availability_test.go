package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

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
	rows, err := e.db.Pool().Query(context.Background(), `SELECT payload->>'team', payload->>'text' FROM jobs WHERE kind = $1 ORDER BY id`, engine.JobOpsAlert)
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
