package teams

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/slabot/slabot/bot/teams/teamsfake"
	"github.com/slabot/slabot/bot/view"
)

// row is one lead's row of controls in a list, with the forms every row
// repeats.
func row(id, lead string) view.Actions {
	form := view.Form{ID: "lead.snooze", Subject: lead, Submit: "Snooze", Inputs: []view.Input{
		{ID: "snooze_length", Label: "For", Options: []view.Option{{Value: "1h", Label: "1 hour"}}, Initial: "1h"},
		{ID: "snooze_reason", Label: "Why"},
	}}
	return view.Actions{ID: id, Controls: []view.Control{
		view.Button{Action: "lead.ack", Value: lead, Label: "Acknowledge"},
		view.Choice{Action: "lead.touch", Placeholder: "Log touch…", Options: []view.Option{{Value: "call", Label: "Call"}}},
		view.Button{Action: "lead.snooze", Value: lead, Label: "Snooze", Form: &form},
	}}
}

func TestAListGivesEachRowsInputsTheirOwnIDs(t *testing.T) {
	t.Parallel()
	card := Render(view.Message{Summary: "Your open leads", Blocks: []view.Block{
		view.Heading{Text: "Your open leads"},
		view.Section{Lines: []view.Text{view.T("Dana Ruiz")}},
		row("lead:41", "41"),
		view.Section{Lines: []view.Text{view.T("Sam Second")}},
		row("lead:42", "42"),
		view.Context{Lines: []view.Text{view.T("2 open leads")}},
	}})
	raw, err := card.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var asJSON teamsfake.Card
	if err := json.Unmarshal(raw, &asJSON); err != nil {
		t.Fatal(err)
	}
	ids := teamsfake.InputIDs(asJSON)
	if len(ids) != 6 {
		t.Fatalf("%d inputs, want 3 a row: %v", len(ids), ids)
	}
	sorted := slices.Sorted(slices.Values(ids))
	if len(slices.Compact(sorted)) != len(ids) {
		t.Errorf("input ids repeat across the list's rows: %v", ids)
	}

	// A submit from the second row reads back under the form's own ids.
	got := FormInputs(map[string]string{DataRow: "lead:42", DataValue: "42", DataList: "1",
		"snooze_length@lead:42": "1h", "snooze_reason@lead:42": "at a fair", "snooze_reason@lead:41": "not this row"})
	want := map[string]string{"snooze_length": "1h", "snooze_reason": "at a fair"}
	if len(got) != len(want) || got["snooze_length"] != "1h" || got["snooze_reason"] != "at a fair" {
		t.Errorf("inputs %v, want %v", got, want)
	}
	// A single lead's card keeps its plain ids.
	single := FormInputs(map[string]string{DataRow: "lead:42", DataValue: "42", InputTouchKind: "call"})
	if len(single) != 1 || single[InputTouchKind] != "call" {
		t.Errorf("inputs of a single card %v", single)
	}
}
