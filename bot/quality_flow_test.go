package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

// qualityPolicy sends demo requests by a rule of their own, so that a
// misroute is counted by the rule that routed it.
const qualityPolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: demo-request
    match: {source: demo_request}
    first_touch: 1h
  - name: default
    first_touch: 4h
`

// /sla quality by source, on eight hand-offs whose fates are told below:
// every kind of decision, several rejection categories with their most
// common detail, a misroute counted by its rule, a lead returned unable to
// reach and one closed before anyone decided; and the four fates add up to
// the hand-offs, per source and for all.
func TestSlaQualityCountsAcceptedRejectedAndMisroutedBySource(t *testing.T) {
	c := newCore(t, qualityPolicy)
	ctx := context.Background()
	anaActor := engine.Actor{Email: "ana@example.com"}
	handed := map[string]int{}
	lead := func(id, source string) *engine.Lead {
		h := demoLead(id)
		h.Source = source
		handed[source]++
		return c.handOff(h)
	}
	must := func(_ *engine.Lead, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// demo_request: one accepted, one not our buyer, one misrouted (now
	// waiting with bo), one waiting with ana.
	must(c.Service.Acknowledge(ctx, lead("q-d1", "demo_request").ID, anaActor))
	must(c.Service.Reject(ctx, lead("q-d2", "demo_request").ID, anaActor, engine.Rejection{Category: engine.RejectNotOurBuyer, Detail: "region"}))
	must(c.Service.Reject(ctx, lead("q-d3", "demo_request").ID, anaActor, engine.Rejection{Category: engine.RejectWrongOwner, Detail: "bo@example.com"}))
	lead("q-d4", "demo_request")
	// web: one touched then returned unable to reach, two bad phones, one
	// returned before anyone decided.
	w1 := lead("q-w1", "web")
	if _, _, err := c.Service.LogTouch(ctx, w1.ID, anaActor, engine.TouchInput{Kind: engine.TouchCall}); err != nil {
		t.Fatal(err)
	}
	must(c.Service.ReturnUnreachable(ctx, w1.ID, anaActor, "no answer"))
	must(c.Service.Reject(ctx, lead("q-w2", "web").ID, anaActor, engine.Rejection{Category: engine.RejectBadData, Detail: "phone"}))
	must(c.Service.Reject(ctx, lead("q-w3", "web").ID, anaActor, engine.Rejection{Category: engine.RejectBadData, Detail: "phone"}))
	must(c.Service.ReturnToMarketing(ctx, lead("q-w4", "web").ID, anaActor, "campaign test lead"))

	if refused := c.answer(ana, "quality"); !strings.Contains(refused, "for the teams' managers") {
		t.Errorf("a rep asking for quality:\n%s", refused)
	}
	text := c.answer(maria, "quality week by source")
	for _, want := range []string{
		"Lead quality: ",
		// All: 8 handed off; 2 accepted of 5 decided.
		"**Handed off:** 8 · 2 awaiting a decision · 1 closed before one",
		"**Accepted: 40%** (2 of 5 decided) · target 90%",
		"**Rejected:** 3 — 2 bad data (mostly phone), 1 not our buyer (mostly region)",
		"**Unable to reach:** 1",
		"**Misroutes:** 1 — 1 by rule demo-request",
		"**Source: demo request**", "**Handed off:** 4 · 2 awaiting a decision · 0 closed before one", "**Accepted: 50%** (1 of 2 decided)",
		"**Source: web**", "**Handed off:** 4 · 0 awaiting a decision · 1 closed before one", "**Accepted: 33%** (1 of 3 decided)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/sla quality does not say %q:\n%s", want, text)
		}
	}

	// The invariant, per source and for all, against the hand-offs made.
	now := c.Service.Now()
	facts, err := c.DB.QualityFacts(ctx, now.Add(-time.Hour), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	q := engine.ComputeQuality(facts, true, 0)
	total := 0
	for _, g := range q.Groups {
		if sum := g.Accepted + g.Rejected + g.Awaiting + g.ClosedUndecided; sum != handed[g.Group] || g.SQLs != handed[g.Group] {
			t.Errorf("%s: accepted + rejected + awaiting + closed before a decision = %d, SQLs %d; %d were handed off", g.Group, sum, g.SQLs, handed[g.Group])
		}
		total += handed[g.Group]
	}
	if len(q.Groups) != len(handed) || q.All.SQLs != total ||
		q.All.Accepted+q.All.Rejected+q.All.Awaiting+q.All.ClosedUndecided != total {
		t.Errorf("all: %+v; %d handed off in %d sources", q.All, total, len(handed))
	}
}

// A duplicate's detail is the lead it repeats, an id, not a reason: it is
// counted but never shown as the "mostly" of its category.
func TestADuplicatesDetailIsNotShownAsAReason(t *testing.T) {
	c := newCore(t, qualityPolicy)
	ctx := context.Background()
	anaActor := engine.Actor{Email: "ana@example.com"}
	first := c.handOff(demoLead("q-1"))
	if _, err := c.Service.Acknowledge(ctx, first.ID, anaActor); err != nil {
		t.Fatal(err)
	}
	again := c.handOff(demoLead("q-2"))
	if _, err := c.Service.Reject(ctx, again.ID, anaActor, engine.Rejection{Category: engine.RejectDuplicate, Detail: "q-1"}); err != nil {
		t.Fatal(err)
	}
	answer := c.answer(maria, "quality week by source")
	for _, want := range []string{"**Handed off:** 2 · 0 awaiting a decision · 0 closed before one",
		"**Accepted: 50%** (1 of 2 decided)", "**Rejected:** 1 — 1 duplicate"} {
		if !strings.Contains(answer, want) {
			t.Errorf("/sla quality does not say %q:\n%s", want, answer)
		}
	}
	if strings.Contains(answer, "mostly") {
		t.Errorf("a duplicate's detail (a lead id) is shown as a reason:\n%s", answer)
	}
}
