package slack_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

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

func TestSlaQualityCountsAcceptedRejectedAndMisroutedBySource(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPolicy(qualityPolicy))
	ctx := context.Background()
	anaActor := engine.Actor{Email: "ana@example.com"}
	handed := map[string]int{}
	lead := func(id, source string) *engine.Lead {
		h := demoLead(id)
		h.Source = source
		handed[source]++
		return e.handOff(h)
	}
	must := func(_ *engine.Lead, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// demo_request: one accepted, one not our buyer, one misrouted (now
	// waiting with bo), one waiting with ana.
	must(e.service.Acknowledge(ctx, lead("q-d1", "demo_request").ID, anaActor))
	must(e.service.Reject(ctx, lead("q-d2", "demo_request").ID, anaActor, engine.Rejection{Category: engine.RejectNotOurBuyer, Detail: "region"}))
	must(e.service.Reject(ctx, lead("q-d3", "demo_request").ID, anaActor, engine.Rejection{Category: engine.RejectWrongOwner, Detail: "bo@example.com"}))
	lead("q-d4", "demo_request")
	// web: one touched then returned unable to reach, two bad phones, one
	// returned before anyone decided.
	w1 := lead("q-w1", "web")
	if _, _, err := e.service.LogTouch(ctx, w1.ID, anaActor, engine.TouchInput{Kind: engine.TouchCall}); err != nil {
		t.Fatal(err)
	}
	must(e.service.ReturnUnreachable(ctx, w1.ID, anaActor, "no answer"))
	must(e.service.Reject(ctx, lead("q-w2", "web").ID, anaActor, engine.Rejection{Category: engine.RejectBadData, Detail: "phone"}))
	must(e.service.Reject(ctx, lead("q-w3", "web").ID, anaActor, engine.Rejection{Category: engine.RejectBadData, Detail: "phone"}))
	must(e.service.ReturnToMarketing(ctx, lead("q-w4", "web").ID, anaActor, "campaign test lead"))

	refused := answerText(e.sla(ana, "quality").Body)
	if !strings.Contains(refused, "for the teams' managers") {
		t.Errorf("a rep asking for quality:\n%s", refused)
	}

	text := answerText(e.sla(maria, "quality week by source").Body)
	for _, want := range []string{
		"Lead quality: ",
		// All: 8 handed off; 2 accepted of 5 decided.
		"Handed off:* 8 · 2 awaiting a decision · 1 closed before one",
		"Accepted: 40%* (2 of 5 decided) · target 90%",
		"Rejected:* 3 — 2 bad data (mostly phone), 1 not our buyer (mostly region)",
		"Unable to reach:* 1",
		"Misroutes:* 1 — 1 by rule demo-request",
		"Source: demo request", "Handed off:* 4 · 2 awaiting a decision · 0 closed before one", "Accepted: 50%* (1 of 2 decided)",
		"Source: web", "Handed off:* 4 · 0 awaiting a decision · 1 closed before one", "Accepted: 33%* (1 of 3 decided)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/sla quality does not say %q:\n%s", want, text)
		}
	}

	// The invariant, per source and for all, against the hand-offs made.
	now := e.service.Now()
	facts, err := e.db.QualityFacts(ctx, now.Add(-time.Hour), now.Add(time.Minute))
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
