package storage_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

func sampleLead(externalID string) *engine.Lead {
	at := time.Date(2026, 11, 22, 14, 5, 0, 0, time.UTC)
	return &engine.Lead{
		ExternalID: externalID, Source: "demo_request", Segment: "enterprise", Score: 87,
		Contact: engine.Contact{Name: "Dana Ruiz", Email: "dana@acme.test", Title: "VP Ops", Phone: "+1 555 0100"},
		Company: engine.Company{Name: "Acme Corp", Domain: "acme.test", Employees: 1200, Industry: "Manufacturing", Country: "US"},
		Context: engine.LeadContext{
			Form:     map[string]string{"Budget": "$50k", "Timeline": "Q1"},
			Activity: engine.Activity{Visits: 7, Pages: []string{"/pricing", "/case-studies/x"}, Downloads: []string{"ROI guide"}},
		},
		CRMURL: "https://crm.example/leads/123", Value: 25000, OwnerEmail: "ana@example.com", Team: "sdr-east",
		Rule: "demo-request", State: engine.StateNew, HandedOffAt: at, ReceivedAt: at.Add(time.Second),
		AssignedAt: at.Add(2 * time.Second), FirstTouchDue: at.Add(15 * time.Minute),
	}
}

func inTx(t *testing.T, db *storage.DB, fn func(engine.Tx) error) {
	t.Helper()
	if err := db.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

var ignoreUpdatedAt = cmpopts.IgnoreFields(engine.Lead{}, "UpdatedAt")

func TestLeads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)

	t.Run("CreateAndReadBackWithContext", func(t *testing.T) {
		want := sampleLead("crm-123")
		inTx(t, db, func(tx engine.Tx) error { return tx.CreateLead(ctx, want) })
		if want.ID == 0 {
			t.Fatal("CreateLead did not set the lead's ID")
		}
		got, err := db.LeadByID(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, ignoreUpdatedAt, cmpopts.EquateApproxTime(time.Microsecond)); diff != "" {
			t.Errorf("lead read back differs (-want +got):\n%s", diff)
		}
		byExt, err := db.LeadByExternalID(ctx, "crm-123")
		if err != nil || byExt.ID != want.ID {
			t.Errorf("LeadByExternalID = %v, %v; want lead %d", byExt, err, want.ID)
		}
	})

	t.Run("DuplicateExternalIDIsConflictAndChangesNothing", func(t *testing.T) {
		first := sampleLead("crm-dup")
		inTx(t, db, func(tx engine.Tx) error { return tx.CreateLead(ctx, first) })
		second := sampleLead("crm-dup")
		second.Contact.Name = "Somebody Else"
		err := db.InTx(ctx, func(tx engine.Tx) error { return tx.CreateLead(ctx, second) })
		if engine.ErrorCode(err) != engine.ECONFLICT {
			t.Fatalf("second CreateLead error = %v, want code %q", err, engine.ECONFLICT)
		}
		got, err := db.LeadByExternalID(ctx, "crm-dup")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != first.ID || got.Contact.Name != "Dana Ruiz" {
			t.Errorf("after the conflict the lead is %d %q, want %d %q", got.ID, got.Contact.Name, first.ID, "Dana Ruiz")
		}
	})

	t.Run("UnknownLeadIsNotFound", func(t *testing.T) {
		_, err := db.LeadByExternalID(ctx, "no-such-lead")
		if engine.ErrorCode(err) != engine.ENOTFOUND {
			t.Errorf("error = %v, want code %q", err, engine.ENOTFOUND)
		}
	})

	t.Run("ConcurrentInsertIfNewInsertsOnce", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		inserted := 0
		for range 20 {
			wg.Go(func() {
				err := db.InTx(ctx, func(tx engine.Tx) error {
					ok, err := tx.InsertLeadIfNew(ctx, sampleLead("crm-burst"))
					if ok {
						mu.Lock()
						inserted++
						mu.Unlock()
					}
					return err
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if inserted != 1 {
			t.Errorf("%d goroutines inserted the lead, want exactly 1", inserted)
		}
	})

	t.Run("LinkedExternalIDFindsTheLead", func(t *testing.T) {
		l := sampleLead("crm-linked-1")
		inTx(t, db, func(tx engine.Tx) error {
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
			ok, err := tx.LinkExternalID(ctx, "crm-linked-2", l.ID)
			if !ok {
				t.Error("LinkExternalID reported nothing linked")
			}
			return err
		})
		got, err := db.LeadByExternalID(ctx, "crm-linked-2")
		if err != nil || got.ID != l.ID {
			t.Errorf("LeadByExternalID(linked id) = %v, %v; want lead %d", got, err, l.ID)
		}
	})

	t.Run("OpenLeadByContactEmailIgnoresClosedLeads", func(t *testing.T) {
		closed := sampleLead("crm-closed")
		closed.Contact.Email = "Pat@Example.test"
		closed.State = engine.StateWon
		open := sampleLead("crm-open")
		open.Contact.Email = "pat@example.test"
		inTx(t, db, func(tx engine.Tx) error {
			if err := tx.CreateLead(ctx, closed); err != nil {
				return err
			}
			return tx.CreateLead(ctx, open)
		})
		got, err := db.OpenLeadByContactEmail(ctx, "PAT@example.test")
		if err != nil || got.ID != open.ID {
			t.Errorf("OpenLeadByContactEmail = %v, %v; want the open lead %d", got, err, open.ID)
		}
	})
}

func TestTouchesAndEventsAppendInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	l := sampleLead("crm-touch")
	inTx(t, db, func(tx engine.Tx) error { return tx.CreateLead(ctx, l) })
	base := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)

	inTx(t, db, func(tx engine.Tx) error {
		// Logged out of order: they must come back in the order they happened.
		for i, kind := range []engine.TouchKind{engine.TouchEmail, engine.TouchCall, engine.TouchLinkedIn} {
			at := base.Add(time.Duration(2-i) * time.Hour)
			if _, err := tx.AddTouch(ctx, &engine.Touch{LeadID: l.ID, Kind: kind, At: at, ByEmail: "ana@example.com", Origin: "slack", Key: string(kind)}); err != nil {
				return err
			}
		}
		for i, kind := range []string{"handed_off", "notified", "acknowledged"} {
			if err := tx.AppendEvent(ctx, &engine.Event{LeadID: l.ID, At: base.Add(time.Duration(i) * time.Minute), Kind: kind, Actor: "ana@example.com", Data: map[string]any{"n": float64(i)}}); err != nil {
				return err
			}
		}
		return nil
	})

	touches, err := db.Touches(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []engine.TouchKind
	for _, tc := range touches {
		kinds = append(kinds, tc.Kind)
	}
	if diff := cmp.Diff([]engine.TouchKind{engine.TouchLinkedIn, engine.TouchCall, engine.TouchEmail}, kinds); diff != "" {
		t.Errorf("touch order (-want +got):\n%s", diff)
	}

	t.Run("ATouchWithAUsedKeyIsARepeat", func(t *testing.T) {
		inTx(t, db, func(tx engine.Tx) error {
			added, err := tx.AddTouch(ctx, &engine.Touch{LeadID: l.ID, Kind: engine.TouchCall, At: base, Key: "call"})
			if added {
				t.Error("a touch with a used key was added again")
			}
			return err
		})
	})

	events, err := db.Events(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Kind)
	}
	if diff := cmp.Diff([]string{"handed_off", "notified", "acknowledged"}, got); diff != "" {
		t.Errorf("event order (-want +got):\n%s", diff)
	}
	if events[2].Data["n"] != float64(2) {
		t.Errorf("event data = %v, want n=2", events[2].Data)
	}

	t.Run("EventsCannotBeRewritten", func(t *testing.T) {
		_, err := db.Pool().Exec(ctx, `UPDATE lead_events SET kind = 'forged'`)
		if err == nil {
			t.Error("an UPDATE of lead_events succeeded; the log must be append-only")
		}
		_, err = db.Pool().Exec(ctx, `DELETE FROM lead_events`)
		if err == nil {
			t.Error("a DELETE of lead_events succeeded; the log must be append-only")
		}
	})
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("RunTwiceIsANoOp", func(t *testing.T) {
		db := storagetest.Open(t)
		first, err := db.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(first) == 0 {
			t.Fatal("the first run applied no migration")
		}
		second, err := db.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(second) != 0 {
			t.Errorf("the second run applied %d migrations, want none", len(second))
		}
		status, err := db.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range status {
			if m.AppliedAt.IsZero() {
				t.Errorf("migration %04d_%s is still pending", m.Version, m.Name)
			}
		}
	})

	t.Run("TwoMigratorsAtOnceBothSucceed", func(t *testing.T) {
		schema := storagetest.NewSchema(t)
		var dbs [2]*storage.DB
		for i := range dbs {
			db, err := storage.Open(ctx, storagetest.URL(t), storage.Options{Schema: schema})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(db.Close)
			dbs[i] = db
		}
		var wg sync.WaitGroup
		applied := make([][]storage.Migration, 2)
		errs := make([]error, 2)
		for i, db := range dbs {
			wg.Go(func() { applied[i], errs[i] = db.Migrate(ctx) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		all, err := dbs[0].MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(applied[0]) + len(applied[1]); n != len(all) {
			t.Errorf("the two migrators applied %d migrations between them, want each of the %d exactly once", n, len(all))
		}
	})
}
