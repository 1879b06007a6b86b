package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/storagetest"
)

func TestLeadFactsLoadsWhatAPeriodCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	from := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	to := from.Add(7 * 24 * time.Hour)

	mk := func(id string, received time.Time, state engine.LeadState, closed time.Time) *engine.Lead {
		l := sampleLead(id)
		l.Contact.Email = id + "@x.test"
		l.ReceivedAt, l.HandedOffAt, l.AssignedAt = received, received, received
		l.State, l.ClosedAt = state, closed
		if state == engine.StateReturned {
			l.ReturnReason = "No budget"
		}
		inTx(t, db, func(tx engine.Tx) error { return tx.CreateLead(ctx, l) })
		return l
	}
	inWeek := mk("in-week", from.Add(time.Hour), engine.StateReturned, from.Add(2*time.Hour))
	openOld := mk("open-old", from.Add(-30*24*time.Hour), engine.StateWorking, time.Time{})
	mk("closed-before", from.Add(-30*24*time.Hour), engine.StateWon, from.Add(-time.Hour))
	mk("after", to.Add(time.Hour), engine.StateNew, time.Time{})

	breach := engine.Breach{LeadID: inWeek.ID, Kind: engine.BreachFirstTouch, Rule: "demo-request", RepEmail: "ana@example.com",
		Team: "sdr-east", Due: from.Add(90 * time.Minute), At: from.Add(91 * time.Minute)}
	inTx(t, db, func(tx engine.Tx) error {
		if err := tx.AppendEvent(ctx, engine.BreachEvent(breach)); err != nil {
			return err
		}
		_, err := tx.AddTouch(ctx, &engine.Touch{LeadID: openOld.ID, Kind: engine.TouchCall, At: from.Add(-29 * 24 * time.Hour)})
		return err
	})

	facts, err := db.LeadFacts(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]engine.LeadFacts{}
	for _, f := range facts {
		got[f.Lead.ExternalID] = f
	}
	if len(got) != 2 || got["in-week"].Lead.ID == 0 || got["open-old"].Lead.ID == 0 {
		t.Fatalf("loaded %v, want in-week and open-old only", keys(got))
	}
	if f := got["in-week"]; f.ReturnedReason != "No budget" || len(f.Breaches) != 1 || !f.Breaches[0].Due.Equal(breach.Due) {
		t.Errorf("in-week facts = %+v", f)
	}
	if b := got["in-week"].Breaches[0]; b.Kind != engine.BreachFirstTouch || b.RepEmail != "ana@example.com" || b.Rule != "demo-request" {
		t.Errorf("breach read back as %+v", b)
	}
	if n := len(got["open-old"].Touches); n != 1 {
		t.Errorf("open-old has %d touches, want 1", n)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
