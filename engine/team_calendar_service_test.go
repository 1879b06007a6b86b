package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/storagetest"
)

// The running bot, against a real database: a hand-off to a rep of a team
// with its own calendar gets its deadline, and its reminder waits, in the
// team's hours. Times are worked out by hand (November 2026: New York
// UTC−5, Berlin UTC+1).
const serviceTeamCalendarPolicy = `
timezone: America/New_York
business_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com]
  - name: emea
    manager: max@example.com
    reps: [lena@example.com]
    calendar:
      timezone: Europe/Berlin
      holidays: ["2026-11-17"]
rules:
  - name: default
    first_touch: 4h
    remind_before: [1h]
    on_breach: [notify_manager]
`

func TestAHandOffToATeamWithItsOwnCalendar(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t)
	policy, problems := engine.ParsePolicy([]byte(serviceTeamCalendarPolicy), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	if err := db.SyncTeams(ctx, policy.Teams); err != nil {
		t.Fatal(err)
	}
	// Monday 16 November, 15:00 UTC: 10:00 in New York, 16:00 in Berlin.
	now := time.Date(2026, 11, 16, 15, 0, 0, 0, time.UTC)
	svc := engine.NewService(db, policy, func() time.Time { return now }, nil)

	handOff := func(id, owner string) *engine.Lead {
		t.Helper()
		res, err := svc.HandOff(ctx, engine.HandOff{ExternalID: id, OwnerEmail: owner, Contact: engine.Contact{Email: id + "@buyer.test"}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Lead
	}
	ana, lena := handOff("crm-ana", "ana@example.com"), handOff("crm-lena", "lena@example.com")
	if lena.Team != "emea" {
		t.Fatalf("lena's lead is in team %q", lena.Team)
	}
	// ana: 10:00–14:00 New York. lena: 16:00–17:00 Berlin on Monday,
	// Tuesday is emea's holiday, 09:00–12:00 Berlin on Wednesday.
	for _, c := range []struct {
		lead *engine.Lead
		want time.Time
	}{{ana, time.Date(2026, 11, 16, 19, 0, 0, 0, time.UTC)}, {lena, time.Date(2026, 11, 18, 11, 0, 0, 0, time.UTC)}} {
		stored, err := db.LeadByID(ctx, c.lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !stored.FirstTouchDue.Equal(c.want) {
			t.Errorf("%s: first touch due %v, want %v", c.lead.OwnerEmail, stored.FirstTouchDue.UTC(), c.want)
		}
	}

	// Tuesday 10:00 UTC, emea's holiday: lena's reminder (slabot does not
	// know her own zone) waits for Wednesday 09:00 in Berlin, 08:00 UTC.
	now = time.Date(2026, 11, 17, 10, 0, 0, 0, time.UTC)
	job := engine.Job{LeadID: lena.ID, RunAt: now, UniqueKey: "test-reminder",
		Args: engine.ReminderArgs{Due: time.Date(2026, 11, 18, 11, 0, 0, 0, time.UTC), AssignedAt: lena.AssignedAt}}
	dec, err := svc.FireReminder(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 18, 8, 0, 0, 0, time.UTC); dec.Send || !dec.At.Equal(want) {
		t.Errorf("lena's reminder on her team's holiday: %+v, want it held until %v", dec, want)
	}
}
