package crm_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

// The accepted-lead loop's events reach a webhook receiver signed as the
// others, with their contract fields.
func TestAcceptRejectAndRerouteEventsArriveSigned(t *testing.T) {
	ep := newEndpoint(t, nil)
	l := newLoop(t, hooksFor(ep.URL, "lead.accepted", "lead.rejected", "lead.rerouted"), nil)
	ctx := context.Background()

	accepted := l.handOff(t, "crm-acc", "a@acme.test")
	if _, err := l.svc.Acknowledge(ctx, accepted.ID, ana); err != nil {
		t.Fatal(err)
	}
	misrouted := l.handOff(t, "crm-mis", "m@acme.test")
	if _, err := l.svc.Reject(ctx, misrouted.ID, ana, engine.Rejection{Category: engine.RejectWrongOwner, Detail: "BO@example.com"}); err != nil {
		t.Fatal(err)
	}
	buyer := l.handOff(t, "crm-buyer", "b@acme.test")
	if _, err := l.svc.Reject(ctx, buyer.ID, ana, engine.Rejection{Category: engine.RejectNotOurBuyer, Detail: "region", Note: "EMEA only"}); err != nil {
		t.Fatal(err)
	}

	eventually(t, "four deliveries", func() bool { return len(ep.delivered()) == 4 })
	type key struct{ typ, extID string }
	got := map[key]received{}
	for _, r := range ep.requests() {
		if err := verifySignature(testSecret, r.Header, r.Body, time.Now()); err != nil {
			t.Errorf("%s: the signature does not verify: %v", r.Type, err)
		}
		got[key{r.Type, fmt.Sprint(r.Data["external_id"])}] = r
	}
	checks := []struct {
		key
		field, want string
	}{
		{key{"lead.accepted", "crm-acc"}, "by", "ana@example.com"},
		{key{"lead.accepted", "crm-acc"}, "owner", "ana@example.com"},
		{key{"lead.rejected", "crm-mis"}, "category", "wrong_owner"},
		{key{"lead.rejected", "crm-mis"}, "detail", "bo@example.com"},
		{key{"lead.rejected", "crm-mis"}, "owner", "ana@example.com"},
		{key{"lead.rerouted", "crm-mis"}, "from", "ana@example.com"},
		{key{"lead.rerouted", "crm-mis"}, "to", "bo@example.com"},
		{key{"lead.rerouted", "crm-mis"}, "owner", "bo@example.com"},
		{key{"lead.rejected", "crm-buyer"}, "category", "not_our_buyer"},
		{key{"lead.rejected", "crm-buyer"}, "detail", "region"},
		{key{"lead.rejected", "crm-buyer"}, "reason", "EMEA only"},
	}
	for _, c := range checks {
		r, ok := got[c.key]
		if !ok {
			t.Errorf("no %s for %s among %v", c.typ, c.extID, ep.delivered())
			continue
		}
		if v := fmt.Sprint(r.Data[c.field]); v != c.want {
			t.Errorf("%s of %s: data.%s = %q, want %q", c.typ, c.extID, c.field, v, c.want)
		}
	}
	ids := map[string]bool{}
	for _, r := range ep.requests() {
		ids[r.Header.Get("webhook-id")] = true
	}
	if len(ids) != len(ep.requests()) {
		t.Errorf("webhook-ids are not one per event: %v", ids)
	}
}

// A rejection slabot cannot carry out is refused with a reason for the rep,
// changes nothing and publishes nothing.
func TestARefusedRejectionPublishesNothing(t *testing.T) {
	ep := newEndpoint(t, nil)
	l := newLoop(t, hooksFor(ep.URL, "lead.rejected", "lead.rerouted", "lead.returned"), nil)
	ctx := context.Background()
	lead := l.handOff(t, "crm-stays", "s@acme.test")
	for _, rej := range []engine.Rejection{
		{Category: engine.RejectWrongOwner, Detail: "ana@example.com"},
		{Category: engine.RejectWrongOwner, Detail: "eve@example.com"},
		{Category: engine.RejectWrongOwner, Detail: "west"},
		{Category: engine.RejectDuplicate, Detail: "crm-nowhere"},
		{Category: engine.RejectDuplicate, Detail: "crm-stays"},
		{Category: engine.RejectBadData, Detail: "size"},
		{Category: "not_now"},
	} {
		_, err := l.svc.Reject(ctx, lead.ID, ana, rej)
		if engine.ErrorCode(err) != engine.EINVALID {
			t.Errorf("%s %q: got %v, want a refusal", rej.Category, rej.Detail, err)
		}
	}
	got, err := l.db.LeadByID(ctx, lead.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.OwnerEmail != "ana@example.com" || !got.State.Open() {
		t.Errorf("after refusals the lead is %s's and %s", got.OwnerEmail, got.State)
	}
	// A delivery after the refusals shows none came before it.
	if _, err := l.svc.ReturnToMarketing(ctx, lead.ID, ana, "checked"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the return's delivery", func() bool { return len(ep.delivered()) >= 1 })
	if fmt.Sprint(ep.delivered()) != "[lead.returned]" {
		t.Errorf("delivered %v, want only the return", ep.delivered())
	}
}
