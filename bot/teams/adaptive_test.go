package teams

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCardJSON(t *testing.T) {
	t.Parallel()
	card := Card{
		FullWidth: true,
		Body: []Element{
			TextBlock{Text: "Acme", Weight: "bolder", Wrap: true},
			FactSet{Facts: []Fact{{Title: "Owner", Value: "Rita"}}},
			ColumnSet{Columns: []Column{{Width: "auto", Items: []Element{Image{URL: "data:image/png;base64,AA==", AltText: "chart"}}}}},
			Table{Columns: []TableColumn{{Width: 1}}, Rows: []TableRow{{Cells: []TableCell{{Items: []Element{TextBlock{Text: "cell"}}}}}}, FirstRowAsHeader: true},
			Container{Items: []Element{InputChoiceSet{ID: "days", Choices: []Choice{{Title: "1 day", Value: "1"}}, Style: "compact"}}},
		},
		Actions: []Action{
			ActionExecute{Title: "Acknowledge", Verb: "ack", Data: map[string]string{"lead": "42"}},
			ActionShowCard{Title: "Return", Card: Card{
				Body:    []Element{InputText{ID: "reason", IsRequired: true, ErrorMessage: "Say why", IsMultiline: true, MaxLength: 500}},
				Actions: []Action{ActionExecute{Title: "Return", Verb: "return"}},
			}},
			ActionOpenURL{Title: "CRM", URL: "https://crm.example/lead/42"},
		},
	}
	data, err := card.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got["type"] != "AdaptiveCard" || got["version"] != "1.5" || got["$schema"] != CardSchema {
		t.Errorf("card head %v %v %v", got["type"], got["version"], got["$schema"])
	}
	if got["msteams"].(map[string]any)["width"] != "Full" {
		t.Errorf("msteams %v", got["msteams"])
	}
	body := got["body"].([]any)
	types := []string{}
	for _, e := range body {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	if strings.Join(types, ",") != "TextBlock,FactSet,ColumnSet,Table,Container" {
		t.Errorf("body types %v", types)
	}
	actions := got["actions"].([]any)
	exec := actions[0].(map[string]any)
	if exec["type"] != "Action.Execute" || exec["verb"] != "ack" || exec["data"].(map[string]any)["lead"] != "42" {
		t.Errorf("execute %v", exec)
	}
	show := actions[1].(map[string]any)
	inner := show["card"].(map[string]any)
	if show["type"] != "Action.ShowCard" || inner["type"] != "AdaptiveCard" || inner["version"] != nil {
		t.Errorf("show card %v", show)
	}
	input := inner["body"].([]any)[0].(map[string]any)
	if input["type"] != "Input.Text" || input["isRequired"] != true || input["errorMessage"] != "Say why" || input["maxLength"] != float64(500) {
		t.Errorf("input %v", input)
	}
	if actions[2].(map[string]any)["type"] != "Action.OpenUrl" {
		t.Errorf("open url %v", actions[2])
	}
	cell := body[3].(map[string]any)["rows"].([]any)[0].(map[string]any)
	if cell["type"] != "TableRow" || cell["cells"].([]any)[0].(map[string]any)["type"] != "TableCell" {
		t.Errorf("table row %v", cell)
	}
}

func TestCardSizeLimit(t *testing.T) {
	t.Parallel()
	// Teams counts the message in UTF-16: two bytes for "x" (one in
	// UTF-8) and for "日" (three in UTF-8), four for "😀" (four in UTF-8).
	for _, tc := range []struct {
		name  string
		text  string
		fits  bool
		utf16 int
	}{
		{"ASCII over", strings.Repeat("x", MaxActivitySize/2), false, MaxActivitySize},
		{"ASCII under", strings.Repeat("x", MaxActivitySize/2-200), true, MaxActivitySize - 400},
		{"CJK under, though over in UTF-8", strings.Repeat("日", MaxActivitySize/2-200), true, MaxActivitySize - 400},
		{"CJK over", strings.Repeat("日", MaxActivitySize/2), false, MaxActivitySize},
		{"emoji over", strings.Repeat("😀", MaxActivitySize/4), false, MaxActivitySize},
		{"emoji under", strings.Repeat("😀", MaxActivitySize/4-100), true, MaxActivitySize - 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := UTF16Size([]byte(tc.text)); got != tc.utf16 {
				t.Errorf("UTF16Size = %d, want %d (UTF-8: %d)", got, tc.utf16, len(tc.text))
			}
			_, err := Card{Body: []Element{TextBlock{Text: tc.text}}}.Attachment()
			var tooLarge *CardTooLargeError
			switch {
			case tc.fits && err != nil:
				t.Errorf("a card within the limit: %v", err)
			case !tc.fits && (!errors.As(err, &tooLarge) || tooLarge.Size <= MaxActivitySize):
				t.Errorf("error %v, want CardTooLargeError", err)
			}
		})
	}
}
