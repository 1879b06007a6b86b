package teams_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slabot/slabot/engine"
)

func TestSlaQualityOnTeams(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	ctx := context.Background()
	anaActor := engine.Actor{Email: ana}
	lead := func(id, source string) *engine.Lead {
		h := demoLead(id)
		h.Source = source
		return e.handOff(h)
	}
	if _, err := e.service.Acknowledge(ctx, lead("q-1", "webinar").ID, anaActor); err != nil {
		t.Fatal(err)
	}
	if _, err := e.service.Acknowledge(ctx, lead("q-2", "webinar").ID, anaActor); err != nil {
		t.Fatal(err)
	}
	if _, err := e.service.Reject(ctx, lead("q-3", "webinar").ID, anaActor,
		engine.Rejection{Category: engine.RejectDuplicate, Detail: "q-1"}); err != nil {
		t.Fatal(err)
	}
	lead("q-4", "partner")

	mustSay(t, "a rep asking", text(e.typed(bo, "quality")), "for the teams' managers")
	answer := text(e.typed(maria, "sla quality month by source"))
	// 4 handed off: 2 accepted of 3 decided, 1 duplicate, 1 awaiting.
	mustSay(t, "maria's quality", answer,
		"Handed off:** 4 · 1 awaiting a decision · 0 closed before one",
		"Accepted: 67%** (2 of 3 decided) · target 90%",
		"Rejected:** 1 — 1 duplicate",
		"Source: webinar", "Source: partner")
	if strings.Contains(answer, "mostly q-1") {
		t.Errorf("a duplicate's detail (a lead id) is shown as a reason:\n%s", answer)
	}
}
