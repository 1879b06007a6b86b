package crm_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/crm/hubspot"
	"github.com/slabot/slabot/crm/hubspot/hubspotfake"
	"github.com/slabot/slabot/engine"
)

// contestYAML lets mia contest rejections; it follows the webhooks in the
// loop's policy.
const contestYAML = "quality:\n  contest_within: 5d\n  contesters: [mia@example.com]\n"

var (
	mia   = engine.Actor{Email: "mia@example.com"}
	maria = engine.Actor{Email: "maria@example.com"}
)

// A receiver that keeps only the webhooks it is sent, lead.contested
// among them, works out the same acceptance by source as /sla quality: an
// overturned rejection makes its lead accepted, an upheld one leaves it
// rejected.
func TestContestEventsArriveSignedAndAReceiverCountsThemAsSlaQualityDoes(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, nil)
	l := newLoop(t, hooksFor(ep.URL, "handoff.created", "lead.accepted", "touch.logged", "lead.rejected", "lead.rerouted", "lead.contested")+contestYAML, nil)
	ctx := context.Background()
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
	bad := engine.Rejection{Category: engine.RejectBadData, Detail: "phone"}
	w1 := hand("c-w1", "webinar")
	must(l.svc.Acknowledge(ctx, w1.ID, ana))
	w2 := hand("c-w2", "webinar") // rejected, contested, overturned
	must(l.svc.Reject(ctx, w2.ID, ana, bad))
	must(l.svc.Contest(ctx, w2.ID, mia, 0, "they booked a demo"))
	must(l.svc.DecideContest(ctx, w2.ID, maria, 0, true))
	w3 := hand("c-w3", "webinar") // rejected, contested, upheld
	must(l.svc.Reject(ctx, w3.ID, ana, engine.Rejection{Category: engine.RejectNotOurBuyer, Detail: "student"}))
	must(l.svc.Contest(ctx, w3.ID, mia, 0, ""))
	must(l.svc.DecideContest(ctx, w3.ID, maria, 0, false))
	p1 := hand("c-p1", "partner") // rejected, contested, not yet decided
	must(l.svc.Reject(ctx, p1.ID, ana, bad))
	must(l.svc.Contest(ctx, p1.ID, mia, 0, ""))
	p2 := hand("c-p2", "partner")
	must(l.svc.Acknowledge(ctx, p2.ID, ana))

	// 5 hand-offs, 2 acceptances, 3 rejections, 3 contests, 2 decisions.
	eventually(t, "every delivery", func() bool { return len(ep.delivered()) == 5+2+3+3+2 })
	type state struct {
		source             string
		accepted, rejected bool
	}
	leads := map[string]*state{}
	var contested []received
	for _, r := range ep.requests() { // one lead's events arrive in order
		if err := verifySignature(testSecret, r.Header, r.Body, time.Now()); err != nil {
			t.Errorf("%s: the signature does not verify: %v", r.Type, err)
		}
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
		case "lead.contested":
			contested = append(contested, r)
			if r.Data["decision"] == "overturned" {
				s.rejected, s.accepted = false, true
			}
		}
	}
	type tally struct{ accepted, decided, contested, overturned, upheld int }
	receiver := map[string]tally{}
	for _, s := range leads {
		tl := receiver[s.source]
		switch {
		case s.rejected:
			tl.decided++
		case s.accepted:
			tl.accepted++
			tl.decided++
		}
		receiver[s.source] = tl
	}
	for _, r := range contested {
		src := leads[fmt.Sprint(r.Data["external_id"])].source
		tl := receiver[src]
		switch r.Data["decision"] {
		case "pending":
			tl.contested++
		case "overturned":
			tl.overturned++
		case "upheld":
			tl.upheld++
		}
		receiver[src] = tl
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
		want := tally{g.Accepted, g.Accepted + g.Rejected, g.Contested, g.Overturned, g.Upheld}
		if got != want {
			t.Errorf("%s: the receiver counts %+v; /sla quality %+v", g.Group, got, want)
		}
	}
	if w := receiver["webinar"]; w != (tally{accepted: 2, decided: 3, contested: 2, overturned: 1, upheld: 1}) {
		t.Errorf("webinar: %+v, want 2 accepted of 3 decided, 2 contested: 1 overturned, 1 upheld", w)
	}
	if p := receiver["partner"]; p != (tally{accepted: 1, decided: 2, contested: 1}) {
		t.Errorf("partner: %+v, want 1 accepted of 2 decided, 1 contested and pending", p)
	}
	for _, r := range contested {
		if r.Data["external_id"] == "c-w2" && r.Data["decision"] == "pending" {
			for field, want := range map[string]string{"category": "bad_data", "detail": "phone", "rep": "ana@example.com",
				"contested_by": "mia@example.com", "by": "mia@example.com", "reason": "they booked a demo"} {
				if got := fmt.Sprint(r.Data[field]); got != want {
					t.Errorf("lead.contested (pending): data.%s = %q, want %q", field, got, want)
				}
			}
		}
		if r.Data["external_id"] == "c-w2" && r.Data["decision"] == "overturned" {
			if r.Data["by"] != "maria@example.com" || r.Data["owner"] != "ana@example.com" || r.Data["contested_by"] != "mia@example.com" {
				t.Errorf("lead.contested (overturned): %v", r.Data)
			}
		}
	}
}

// Each event of the accepted-lead loop becomes one note on the HubSpot
// contact, even when HubSpot's answer to a create is lost.
func TestAcceptedLoopEventsBecomeOneHubSpotNoteEach(t *testing.T) {
	t.Parallel()
	fake := hubspotfake.New()
	t.Cleanup(fake.Close)
	fake.AddToken(hubspotToken, hubspotfake.AllScopes...)
	w := &hubspot.Writer{Client: &hubspot.Client{BaseURL: fake.APIURL(), Token: hubspotToken},
		Now: time.Now, SearchSchedule: []time.Duration{0, 0, 0}, OpsTeam: "east", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	l := newLoop(t, contestYAML, []func(engine.CRMEventArgs) []engine.Job{w.Jobs}, w.Handler())
	w.Store = l.db
	h := &hubspotLoop{loop: l, fake: fake, writer: w}
	ctx := context.Background()
	for _, email := range []string{"acc@acme.test", "rej@acme.test", "mis@acme.test"} {
		fake.AddContact(email, nil)
	}
	must := func(_ *engine.Lead, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	accepted := h.handOff(t, "hs-acc", "acc@acme.test")
	must(h.svc.Acknowledge(ctx, accepted.ID, ana))
	rejected := h.handOff(t, "hs-rej", "rej@acme.test")
	h.settled(t)
	fake.LoseNextCreates(1) // the rejection's note is made, its answer lost
	must(h.svc.Reject(ctx, rejected.ID, ana, engine.Rejection{Category: engine.RejectBadData, Detail: "phone", Note: "fax number"}))
	h.settled(t)
	must(h.svc.Contest(ctx, rejected.ID, mia, 0, "they asked for a demo"))
	must(h.svc.DecideContest(ctx, rejected.ID, maria, 0, true))
	misrouted := h.handOff(t, "hs-mis", "mis@acme.test")
	must(h.svc.Reject(ctx, misrouted.ID, ana, engine.Rejection{Category: engine.RejectWrongOwner, Detail: "bo@example.com"}))
	h.settled(t)

	count := map[string]int{}
	wants := []string{
		"Lead accepted in chat by ana@example.com.",
		"Lead rejected in chat by ana@example.com: bad data (phone). Note: fax number",
		"Marketing (mia@example.com) contested the rejection by ana@example.com (bad data: phone). Why: they asked for a demo",
		"Contested rejection (bad data: phone) overturned by maria@example.com: the lead is back with ana@example.com, accepted.",
		"Lead rejected in chat by ana@example.com: wrong owner (bo@example.com).",
		"Lead re-routed: ana@example.com said it is not theirs; it now belongs to bo@example.com",
	}
	notes := fake.Objects("notes")
	for _, n := range notes {
		for _, want := range wants {
			if strings.Contains(n.Properties["hs_note_body"], want) {
				count[want]++
			}
		}
	}
	for _, want := range wants {
		if count[want] != 1 {
			t.Errorf("%d notes say %q, want 1; the notes:\n%v", count[want], want, notes)
		}
	}
	lost := 0
	for _, r := range fake.Requests() {
		if r.Status == -1 {
			lost++
		}
	}
	if lost != 1 {
		t.Errorf("the fake lost %d answers, the test wants 1", lost)
	}
}
