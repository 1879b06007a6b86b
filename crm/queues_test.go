package crm_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

func TestASlowCRMNeverDelaysCardsClicksOrTimers(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var blocked atomic.Int32
	ep := newEndpoint(t, nil)
	// Every webhook hangs until the test ends: the CRM is down the slow way.
	ep.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		blocked.Add(1)
		<-release
	})
	var cards atomic.Int32
	sent := engine.Handle(func(ctx context.Context, job engine.Job, _ engine.HandOffArgs) error {
		cards.Add(1)
		return nil
	})
	l := newLoop(t, hooksFor(ep.URL), nil, sent)
	// Released before the worker stops (cleanups run last first).
	t.Cleanup(func() { close(release) })
	// First the CRM hangs on a delivery: the crm queue is held.
	l.handOff(t, "slow-first", "first@acme.test")
	eventually(t, "a webhook in flight", func() bool { return blocked.Load() > 0 })
	const leads = 12
	start := time.Now()
	for i := 0; i < leads; i++ {
		l.handOff(t, fmt.Sprintf("slow-%d", i), fmt.Sprintf("p%d@acme.test", i))
	}
	eventually(t, "every hand-off card", func() bool { return cards.Load() == leads+1 })
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the cards took %s behind a hanging CRM", took)
	}
}

func TestNothingIsPublishedWhenNoCRMListens(t *testing.T) {
	t.Parallel()
	l := newLoop(t, "", nil)
	ctx := context.Background()
	lead := l.handOff(t, "quiet-1", "q@acme.test")
	if _, err := l.svc.Acknowledge(ctx, lead.ID, ana); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := l.db.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1`, engine.JobCRMEvent).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d CRM events queued with no webhook and no HubSpot", n)
	}
}

func TestRepAwayAndBackArePublished(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, nil)
	l := newLoop(t, hooksFor(ep.URL, "rep.away", "rep.back"), nil)
	ctx := context.Background()
	if _, err := l.svc.SetAvailability(ctx, engine.Actor{Email: "maria@example.com"}, "bo@example.com", true, time.Now().Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.svc.SetAvailability(ctx, engine.Actor{Email: "bo@example.com"}, "bo@example.com", false, time.Time{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both deliveries", func() bool { return len(ep.delivered()) == 2 })
	got := ep.requests()
	if got[0].Type != "rep.away" || got[1].Type != "rep.back" {
		t.Fatalf("delivered %v, want rep.away then rep.back", ep.delivered())
	}
	if got[0].Data["owner"] != "bo@example.com" || got[0].Data["by"] != "maria@example.com" || got[0].Data["until"] == nil {
		t.Errorf("rep.away data %v: want owner bo, by maria, and until", got[0].Data)
	}
}

func TestEveryLeadEventTypeIsPublishedWithItsFields(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, nil)
	l := newLoop(t, hooksFor(ep.URL, "lead.snoozed", "lead.reassigned", "outcome.recorded"), nil)
	ctx := context.Background()
	lead := l.handOff(t, "kinds-1", "k@acme.test")
	if _, err := l.svc.Snooze(ctx, lead.ID, ana, 2*time.Hour, "buyer asked for Monday"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.svc.ManagerReassign(ctx, lead.ID, engine.Actor{Email: "maria@example.com"}, lead.AssignedAt); err != nil {
		t.Fatal(err)
	}
	if _, err := l.svc.SetOutcome(ctx, lead.ID, engine.Actor{System: "crm"}, "won", 1200, time.Time{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "three deliveries", func() bool { return len(ep.delivered()) == 3 })
	got := ep.requests()
	want := []struct{ typ, key, value string }{
		{"lead.snoozed", "reason", "buyer asked for Monday"},
		{"lead.reassigned", "to", "bo@example.com"},
		{"outcome.recorded", "kind", "won"},
	}
	for i, w := range want {
		if got[i].Type != w.typ || fmt.Sprint(got[i].Data[w.key]) != w.value {
			t.Errorf("delivery %d: %s with %s=%v; want %s with %s=%s", i, got[i].Type, w.key, got[i].Data[w.key], w.typ, w.key, w.value)
		}
	}
	if got[1].Data["by"] != "maria@example.com" || got[1].Data["origin"] != "chat" || got[2].Data["origin"] != "api" {
		t.Errorf("by/origin: reassigned %v, outcome %v", got[1].Data, got[2].Data)
	}
}

func TestOldDeliveredWebhooksAndFinishedWritesArePruned(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, nil)
	l := newLoop(t, hooksFor(ep.URL, "lead.returned"), nil)
	ctx := context.Background()
	lead := l.handOff(t, "prune-1", "old@acme.test")
	if _, err := l.svc.ReturnToMarketing(ctx, lead.ID, ana, "no budget"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the delivery", func() bool { return len(ep.delivered()) == 1 })
	if _, err := l.db.HubSpotWriteFor(ctx, "lead:1:1", "notes", "m"); err != nil {
		t.Fatal(err)
	}
	if err := l.db.FinishHubSpotWrite(ctx, "lead:1:1", "written", true, time.Now()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the delivery to be recorded", func() bool {
		var n int
		_ = l.db.Pool().QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'`).Scan(&n)
		return n == 1
	})
	if n, err := l.db.PruneCRM(ctx, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("pruning what is an hour old removed %d rows (%v); want none of today's", n, err)
	}
	if n, err := l.db.PruneCRM(ctx, time.Now().Add(time.Minute), time.Now().Add(-time.Hour)); err != nil || n != 2 {
		t.Fatalf("pruning removed %d rows (%v); want the delivery and the write", n, err)
	}
}
