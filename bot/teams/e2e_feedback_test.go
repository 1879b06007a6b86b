package teams_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/teams/teamsfake"
	"github.com/slabot/slabot/engine"
)

// Card feedback, contested rejections and the leads list's return form on
// Teams.

const contestPolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: default
    first_touch: 4h
quality:
  contest_within: 5d
  contesters: [mia@example.com]
`

const mia = "mia@example.com"

func TestTheCardAsksForFeedbackAfterTheFirstTouchOnTeams(t *testing.T) {
	e := newTeamsEnv(t, withPolicy(contestPolicy))
	l := e.handOff(demoLead("crm-feedback"))
	card := e.card(ana, l)
	if strings.Contains(text(card.Activity.Cards()[0]), "Did the card have what you needed?") {
		t.Fatal("the card asks for feedback before any touch")
	}
	res := e.click(ana, card, "lead.touch", map[string]any{"touch_kind": "call"})
	asked, _ := json.Marshal(res.Card)
	mustSay(t, "the card after the first touch", string(asked), "Did the card have what you needed?", "Yes, it did", "Something was missing")
	// The choice of what was missing has an id of its own row's.
	res = e.click(ana, card, "lead.feedback", map[string]any{"touch_kind@fb:" + strconv.FormatInt(l.ID, 10): "phone"})
	mustSay(t, "the card after the answer", text(res.Card), "Card feedback: missing: phone")
	if strings.Contains(text(res.Card), "Did the card have what you needed?") {
		t.Error("the card still asks after the answer")
	}
	if n := countEvents(e.events(l.ID), engine.EventCardFeedback); n != 1 {
		t.Errorf("%d answers recorded, want 1", n)
	}
	mustSay(t, "maria's /sla quality", text(e.typed(maria, "quality week")),
		"Card feedback:** 0 had what the rep needed · 1 card missing (phone 1)")
}

func TestMarketingContestsARejectionAndTheManagerOverturnsItOnTeams(t *testing.T) {
	e := newTeamsEnv(t, withPolicy(contestPolicy))
	e.fake.AddPerson(teamsfake.Person{Email: mia, Name: "Mia Marketing", Installed: true})
	l := e.handOff(demoLead("crm-contest"))
	card := e.card(ana, l)
	e.click(ana, card, "lead.reject", map[string]any{"reject_reason": "bad_data:phone", "reject_note": "a fax number"})
	notice := e.waitPost(e.personal(mia), "Rejected: ", l)
	noticeJSON, _ := json.Marshal(notice.Activity.Cards()[0])
	mustSay(t, "mia's notice", string(noticeJSON), "rejected **Dana Ruiz (Acme Corp)**: Bad data: phone", `"verb":"contest.open"`)

	res := e.click(mia, notice, "contest.open", nil)
	mustSay(t, "the notice after contesting", text(res.Card), "Contested by mia@example.com")
	ask := e.waitPost(e.personal(maria), "Contested rejection: ", l)
	askJSON, _ := json.Marshal(ask.Activity.Cards()[0])
	mustSay(t, "maria's decision request", string(askJSON), "Uphold the rejection", "Overturn: back to the rep",
		"only maria@example.com (ana@example.com's manager) can decide")

	refused := e.clickAs(bo, ask, "contest.overturn")
	if !strings.Contains(refused.Message, "Only maria@example.com") {
		t.Errorf("bo deciding was answered %q", refused.Message)
	}
	if got := e.lead(l.ID); got.State != engine.StateReturned {
		t.Fatalf("a refused decision moved the lead: %s", got.State)
	}
	res = e.click(maria, ask, "contest.overturn", nil)
	mustSay(t, "the decision request after the decision", text(res.Card), "maria@example.com overturned the rejection")
	got := e.lead(l.ID)
	if got.State != engine.StateAcknowledged || got.OwnerEmail != ana || got.AcknowledgedAt.IsZero() {
		t.Fatalf("after the overturn the lead is %s's and %s", got.OwnerEmail, got.State)
	}
	if err := e.fake.WaitFor(ctxTimeout(t, 15*time.Second), func() bool { return len(e.posts(e.personal(ana), "Lead: ", l)) > 0 }); err != nil {
		t.Errorf("ana got no new card for the lead given back: %v", err)
	}
	mustSay(t, "maria's /sla quality", text(e.typed(maria, "quality week")),
		"Accepted: 100%** (1 of 1 decided)", "Contested:** 1 — 0 upheld, 1 overturned, 0 awaiting the manager")
}

func TestTheLeadsListOffersUnableToReachOnlyAsTheCardDoes(t *testing.T) {
	e := newTeamsEnv(t, withPolicy(unreachablePolicy))
	l := e.handOff(demoLead("crm-list-unreachable"))
	e.card(ana, l)
	list := e.typed(ana, "leads")
	raw, _ := json.Marshal(list)
	if !strings.Contains(string(raw), "Return to marketing") {
		t.Fatalf("the list has no return form:\n%s", text(list))
	}
	if strings.Contains(string(raw), "unable_to_reach") {
		t.Error("the leads list's return form offers unable to reach before any touch")
	}
	mustSay(t, "the list's return form", string(raw), "log 2 more touches first")
}
