package teams

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/slabot/slabot/bot/view"
)

func TestMarkdownEscapesWhatPeopleTypedAndStylesTheRest(t *testing.T) {
	t.Parallel()
	got := Markdown(view.T(view.Alarm, " ", view.B("Ana *the* [best] <at>x</at> & co"), " said ", view.I(" hi "),
		" see ", view.Link("the CRM", "https://crm.example/a_(b)")))
	want := `🚨 **Ana \*the\* \[best\] &lt;at>x&lt;/at> &amp; co** said  _hi_  see [the CRM](https://crm.example/a_(b%29)`
	if got != want {
		t.Errorf("markdown\n got %s\nwant %s", got, want)
	}
}

func TestEveryMarkerHasAnEmoji(t *testing.T) {
	t.Parallel()
	for _, m := range view.Markers {
		if m.Emoji() == "" {
			t.Errorf("marker %q has no emoji", m)
		}
	}
}

func TestACardActsThroughExecuteAndOpensFormsInPlace(t *testing.T) {
	t.Parallel()
	form := view.Form{ID: "lead.snooze", Subject: "42", Submit: "Snooze", Inputs: []view.Input{
		{ID: "snooze_length", Label: "For", Options: []view.Option{{Value: "1h", Label: "1 hour"}}, Initial: "1h"},
		{ID: "snooze_reason", Label: "Why", MaxLength: 300},
		{ID: "details", Label: "Details", Optional: true},
	}}
	card := Render(view.Message{Summary: "New lead: Dana", Blocks: []view.Block{
		view.Heading{Text: "New lead: Dana"},
		view.Section{Lines: []view.Text{view.T(view.B("First touch due in 15 min"))}},
		view.Image{PNG: []byte{0x89}, Title: "chart.png"},
		view.Actions{ID: "lead:42", Controls: []view.Control{
			view.Button{Action: "lead.ack", Value: "42", Label: "Acknowledge", Style: view.Primary},
			view.Choice{Action: "lead.touch", Placeholder: "Log touch…", Options: []view.Option{{Value: "call", Label: "Call"}}},
			view.Button{Action: "lead.snooze", Value: "42", Label: "Snooze", Form: &form},
			view.Button{Action: "lead.crm", Value: "42", Label: "Open in CRM", URL: "https://crm.example/42"},
		}},
	}})
	raw, err := card.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Version string
		Body    []map[string]any
		Actions []struct {
			Type, Title, Verb, URL string
			Data                   map[string]string
			Card                   struct {
				Body    []map[string]any
				Actions []struct {
					Verb string
					Data map[string]string
				}
			}
		}
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Version != "1.5" || len(got.Body) != 2 {
		t.Fatalf("version %q, %d body elements; want 1.5 and the heading and section (the image goes beside the card):\n%s", got.Version, len(got.Body), raw)
	}
	if len(got.Actions) != 4 {
		t.Fatalf("%d actions; want 4:\n%s", len(got.Actions), raw)
	}
	ack, touch, snooze, crm := got.Actions[0], got.Actions[1], got.Actions[2], got.Actions[3]
	if ack.Type != "Action.Execute" || ack.Verb != "lead.ack" || ack.Data[DataRow] != "lead:42" || ack.Data[DataValue] != "42" {
		t.Errorf("acknowledge: %+v", ack)
	}
	if touch.Type != "Action.ShowCard" || len(touch.Card.Actions) != 1 || touch.Card.Actions[0].Verb != "lead.touch" ||
		touch.Card.Body[0]["id"] != InputTouchKind {
		t.Errorf("log touch: %+v", touch)
	}
	if snooze.Type != "Action.ShowCard" || snooze.Card.Actions[0].Verb != "lead.snooze" || snooze.Card.Actions[0].Data[DataRow] != "lead:42" ||
		len(snooze.Card.Body) != 3 || snooze.Card.Body[1]["isRequired"] != true || snooze.Card.Body[2]["isRequired"] != nil {
		t.Errorf("snooze form: %+v", snooze)
	}
	if crm.Type != "Action.OpenUrl" || crm.URL != "https://crm.example/42" {
		t.Errorf("CRM link: %+v", crm)
	}
	if atts := ImageAttachments(view.Message{Blocks: []view.Block{view.Image{PNG: []byte{1, 2}}}}); len(atts) != 1 ||
		!strings.HasPrefix(atts[0].ContentURL, "data:image/png;base64,") {
		t.Errorf("image attachments: %+v", atts)
	}
}

// A list of leads keeps each row's buttons under its lead; one that is
// too long for a card loses its forms, then its last rows, never its
// heading or footer.
func TestAListOfLeadsKeepsItsRowsInPlaceAndFitsInACard(t *testing.T) {
	t.Parallel()
	form := view.Form{ID: "lead.snooze", Subject: "1", Submit: "Snooze",
		Intro:  []view.Text{view.T(strings.Repeat("intro ", 100))},
		Inputs: []view.Input{{ID: "snooze_reason", Label: "Why", MaxLength: 300}}}
	m := view.Message{Blocks: []view.Block{view.Heading{Text: "Your open leads"}}}
	rows := func(n int) view.Message {
		msg := m
		for i := range n {
			msg.Blocks = append(msg.Blocks, view.Section{Lines: []view.Text{view.T(strings.Repeat("Buyer ", 150))}},
				view.Actions{ID: "lead:" + string(rune('a'+i%26)), Controls: []view.Control{
					view.Button{Action: "lead.ack", Value: "1", Label: "Acknowledge"},
					view.Button{Action: "lead.snooze", Value: "1", Label: "Snooze", Form: &form}}})
		}
		msg.Blocks = append(msg.Blocks, view.Context{Lines: []view.Text{view.T("the footer")}})
		return msg
	}

	short := Render(rows(2))
	if len(short.Actions) != 0 {
		t.Errorf("%d buttons at the foot of a list; they belong under their leads", len(short.Actions))
	}
	sets := 0
	for _, el := range short.Body {
		if set, ok := el.(ActionSet); ok {
			sets++
			if len(set.Actions) != 2 {
				t.Errorf("a row kept %d of its 2 controls", len(set.Actions))
			}
		}
	}
	if sets != 2 {
		t.Errorf("%d rows of buttons in the body, want 2", sets)
	}
	if data, _ := short.JSON(); strings.Count(string(data), `"list":"1"`) != 4 {
		t.Errorf("the list's buttons and form submits are not all marked as the list's:\n%s", data)
	}
	// A lead's own card ends with its one row: buttons at the foot, unmarked.
	one := Render(view.Message{Blocks: rows(1).Blocks[:3]})
	if data, _ := one.JSON(); len(one.Actions) != 2 || strings.Contains(string(data), `"list"`) {
		t.Errorf("a single lead's card: %d buttons at the foot, %s", len(one.Actions), data)
	}

	long := Render(rows(90))
	data, err := long.JSON()
	if err != nil {
		t.Fatalf("a long list does not fit: %v", err)
	}
	text := string(data)
	for _, want := range []string{"Your open leads", "the footer", "rest was left out", `"verb":"lead.ack"`} {
		if !strings.Contains(text, want) {
			t.Errorf("the long list lost %q", want)
		}
	}
	if strings.Contains(text, "Action.ShowCard") {
		t.Error("the long list kept its forms while cutting rows")
	}
}

func TestAClickIsAnsweredInPlainText(t *testing.T) {
	t.Parallel()
	got := PlainText(view.T(view.Refused, " Only jo_ann@example.com (the owner) can act on ", view.B("*Acme*"), "."))
	if want := "🚫 Only jo_ann@example.com (the owner) can act on *Acme*."; got != want {
		t.Errorf("plain text\n got %s\nwant %s", got, want)
	}
}
