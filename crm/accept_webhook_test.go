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
	t.Parallel()
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
	t.Parallel()
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

// A receiver that keeps only the webhooks it is sent works out the same
// acceptance by source as /sla quality: handoff.created names the source;
// a lead is rejected by its last lead.rejected that is not a wrong owner's,
// else accepted by a lead.accepted or touch.logged since it was last
// re-routed.
func TestAReceiverRecomputesAcceptanceBySourceAsSlaQualityDoes(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, nil)
	l := newLoop(t, hooksFor(ep.URL, "handoff.created", "lead.accepted", "touch.logged", "lead.rejected", "lead.rerouted"), nil)
	ctx := context.Background()
	bo := engine.Actor{Email: "bo@example.com"}
	hand := func(id, source string) *engine.Lead {
		res, err := l.svc.HandOff(ctx, engine.HandOff{ExternalID: id, Source: source, OwnerEmail: "ana@example.com",
			Contact: engine.Contact{Name: "C " + id, Email: id + "@acme.test"}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Lead
	}
	must := func(_ *engine.Lead, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	a1 := hand("r-a1", "webinar")
	must(l.svc.Acknowledge(ctx, a1.ID, ana))
	a2 := hand("r-a2", "webinar")
	if _, _, err := l.svc.LogTouch(ctx, a2.ID, ana, engine.TouchInput{Kind: engine.TouchCall}); err != nil {
		t.Fatal(err)
	}
	a3 := hand("r-a3", "webinar") // accepted, then found to be bad data
	must(l.svc.Acknowledge(ctx, a3.ID, ana))
	must(l.svc.Reject(ctx, a3.ID, ana, engine.Rejection{Category: engine.RejectBadData, Detail: "company"}))
	m1 := hand("r-m1", "partner") // accepted, misrouted after all, waiting with bo
	must(l.svc.Acknowledge(ctx, m1.ID, ana))
	must(l.svc.Reject(ctx, m1.ID, ana, engine.Rejection{Category: engine.RejectWrongOwner, Detail: "bo@example.com"}))
	m2 := hand("r-m2", "partner") // misrouted, accepted by bo
	must(l.svc.Reject(ctx, m2.ID, ana, engine.Rejection{Category: engine.RejectWrongOwner, Detail: "bo@example.com"}))
	must(l.svc.Acknowledge(ctx, m2.ID, bo))
	n1 := hand("r-n1", "partner")
	must(l.svc.Reject(ctx, n1.ID, ana, engine.Rejection{Category: engine.RejectNotOurBuyer, Detail: "student"}))
	hand("r-w1", "partner") // waiting

	// 7 hand-offs, 4 acceptances, 1 touch, 4 rejections, 2 re-routes.
	eventually(t, "every delivery", func() bool { return len(ep.delivered()) == 7+4+1+4+2 })
	type state struct {
		source             string
		accepted, rejected bool
	}
	leads := map[string]*state{}
	for _, r := range ep.requests() { // one lead's events arrive in order
		id := fmt.Sprint(r.Data["external_id"])
		s := leads[id]
		if s == nil {
			s = &state{}
			leads[id] = s
		}
		switch r.Type {
		case "handoff.created":
			s.source = fmt.Sprint(r.Data["source"])
		case "lead.accepted", "touch.logged":
			s.accepted = true
		case "lead.rerouted":
			s.accepted = false
		case "lead.rejected":
			if r.Data["category"] != "wrong_owner" {
				s.rejected = true
			}
		}
	}
	type tally struct{ accepted, decided int }
	receiver := map[string]tally{}
	for _, s := range leads {
		t := receiver[s.source]
		switch {
		case s.rejected:
			t.decided++
		case s.accepted:
			t.accepted++
			t.decided++
		}
		receiver[s.source] = t
	}

	now := l.clock.Now()
	facts, err := l.db.QualityFacts(ctx, now.Add(-time.Hour), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	q := engine.ComputeQuality(facts, true, 0)
	if len(q.Groups) != len(receiver) {
		t.Fatalf("quality has %d sources, the receiver %d", len(q.Groups), len(receiver))
	}
	for _, g := range q.Groups {
		got := receiver[g.Group]
		if got.accepted != g.Accepted || got.decided != g.Accepted+g.Rejected {
			t.Errorf("%s: the receiver counts %d accepted of %d decided; /sla quality %d of %d",
				g.Group, got.accepted, got.decided, g.Accepted, g.Accepted+g.Rejected)
		}
	}
	// And both match the story told above.
	if w := receiver["webinar"]; w != (tally{2, 3}) {
		t.Errorf("webinar: %+v, want 2 accepted of 3 decided", w)
	}
	if p := receiver["partner"]; p != (tally{1, 2}) {
		t.Errorf("partner: %+v, want 1 accepted of 2 decided", p)
	}
}
