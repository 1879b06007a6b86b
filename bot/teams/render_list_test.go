package teams

import (
	"testing"

	"github.com/slabot/slabot/bot/view"
)

// leadButtons is a lead's row of controls, as the core builds it.
func leadButtons(id string, item bool) view.Actions {
	return view.Actions{ID: "lead:" + id, Item: item, Controls: []view.Control{
		view.Button{Action: "lead.ack", Value: id, Label: "Accept"},
	}}
}

// listed reports whether any of the card's buttons carries DataList, and
// how many buttons sit at the card's foot.
func listed(card Card) (inList bool, atFoot int) {
	mark := func(acts []Action) {
		for _, a := range acts {
			if e, ok := a.(ActionExecute); ok && e.Data.(map[string]string)[DataList] != "" {
				inList = true
			}
		}
	}
	mark(card.Actions)
	for _, el := range card.Body {
		if set, ok := el.(ActionSet); ok {
			mark(set.Actions)
		}
	}
	return inList, len(card.Actions)
}

// A card whose feedback question was answered has the thanks below its
// buttons. Its buttons stay the card's own: a click on them answers with
// the lead's card, not with the list of the rep's leads in its place.
func TestACardWithALineAfterItsButtonsIsNotAList(t *testing.T) {
	t.Parallel()
	card := Render(view.Message{Summary: "New lead: Dana Ruiz", Blocks: []view.Block{
		view.Heading{Text: "New lead: Dana Ruiz"},
		view.Section{Lines: []view.Text{view.T("VP Operations at Acme Corp")}},
		leadButtons("41", false),
		view.Context{Lines: []view.Text{view.T("Card feedback: it had what you needed. Thank you.")}},
	}})
	if inList, atFoot := listed(card); inList || atFoot != 1 {
		t.Errorf("the card's buttons are marked as a list's: %v, %d at the card's foot (want 1)", inList, atFoot)
	}
}

// A list of one lead is still a list: its row stays under the lead and a
// click on it answers with the list redrawn.
func TestAListOfOneLeadIsAList(t *testing.T) {
	t.Parallel()
	card := Render(view.Message{Summary: "Your open leads", Blocks: []view.Block{
		view.Heading{Text: "Your open leads (1)"},
		view.Section{Lines: []view.Text{view.T("Dana Ruiz")}},
		leadButtons("41", true),
	}})
	if inList, atFoot := listed(card); !inList || atFoot != 0 {
		t.Errorf("a list of one lead: buttons marked as the list's %v, %d at the card's foot (want 0)", inList, atFoot)
	}
}
