package teams_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/slabot/slabot/bot/teams/teamsfake"
	"github.com/slabot/slabot/engine"
)

// TestAFormInAListActsOnItsOwnRow: ana's leads list has a "Log touch"
// form under each lead. Teams (the fake) takes the list only because each
// row's inputs have ids of their own; a touch logged in the second row
// lands on the second lead only.
func TestAFormInAListActsOnItsOwnRow(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	first := e.handOff(demoLead("crm-row-1"))
	e.card(ana, first)
	h := demoLead("crm-row-2")
	h.Contact.Name = "Sam Second"
	second := e.handOff(h)
	e.card(ana, second)

	list := e.typed(ana, "leads") // the fake refuses a card whose input ids repeat
	mustSay(t, "ana's leads", text(list), "Your open leads (2)", "Sam Second")
	recs := e.fake.Activities(e.personal(ana))
	post := recs[len(recs)-1]

	row := fmt.Sprintf("lead:%d", second.ID)
	res, err := e.fake.ClickRow(ctxTimeout(t, waitLimit), ana, post.ConversationID, post.Activity.ID, "lead.touch", row,
		map[string]any{"touch_kind@" + row: "call"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Type != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("the touch in the list was answered %s %q", res.Type, res.Message)
	}
	mustSay(t, "the redrawn list", text(res.Card), "Your open leads (2)")
	touches := func(id int64) []engine.Touch {
		ts, err := e.db.Touches(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	if got := touches(second.ID); len(got) != 1 || got[0].Kind != "call" {
		t.Errorf("the second lead's touches %+v, want one call", got)
	}
	if got := touches(first.ID); len(got) != 0 {
		t.Errorf("the first lead got touches %+v from the second row's form", got)
	}
	// Every input of the list (and of its redrawn form) has an id of its own.
	for _, card := range []map[string]any{list, res.Card} {
		ids := teamsfake.InputIDs(card)
		if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
			t.Errorf("input ids repeat: %v", ids)
		}
	}
}
