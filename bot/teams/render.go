package teams

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/slabot/slabot/bot/view"
)

// This file renders slabot's views (package view) as Adaptive Cards.

// Keys of the data an Action.Execute carries back: the row of controls it
// sits in (which lead, which escalation) and the button's value.
const (
	DataRow   = "row"
	DataValue = "value"
	// InputTouchKind is the choice of a touch kind in the "Log touch" form.
	InputTouchKind = "touch_kind"
	// DataList marks a control of a list of leads (a home view, the
	// leads answer): a click there is answered with the list redrawn, not
	// with the one lead's card, which would replace the list.
	DataList = "list"
)

// Adaptive Cards identify an input by its id, "Unique identifier for the
// value. Used to identify collected input when the Submit action is
// performed" (https://adaptivecards.io/explorer/Input.Text.html): in a
// list, where every row has the same forms, each row's inputs carry the
// row in their id, and FormInputs reads them back.
const rowInputSeparator = "@"

// rowInputID is an input's id in a list's row.
func rowInputID(id, row string) string { return id + rowInputSeparator + row }

// FormInputs is what a click carries back from a form, by the ids the form
// named its inputs: an input of a list's row (rowInputID) counts for the
// row the click came from only. The controls' own data (row, value, list)
// is left out.
func FormInputs(data map[string]string) map[string]string {
	row := data[DataRow]
	inputs := map[string]string{}
	for k, v := range data {
		switch k {
		case DataRow, DataValue, DataList:
			continue
		}
		id, inRow, ok := strings.Cut(k, rowInputSeparator)
		switch {
		case !ok:
			if _, set := inputs[k]; !set {
				inputs[k] = v
			}
		case inRow == row && row != "":
			inputs[id] = v // a row's own input wins over a plain one
		}
	}
	return inputs
}

// markdownEscaper keeps what people typed from becoming formatting, a
// link, a mention or an entity in a TextBlock's Markdown. An underscore is
// left alone: inside a word (New_York, first_last@acme.test) it emphasises
// nothing, and Teams' mobile clients show the backslash of an escape.
var markdownEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "[", `\[`, "]", `\]`,
	"<", "&lt;", "&", "&amp;")

// Markdown renders a line of spans as the Markdown a TextBlock takes:
// **bold**, _italic_, [links](…); code is set plain, as Teams has no code
// spans in cards.
func Markdown(t view.Text) string {
	var b strings.Builder
	for _, s := range t {
		if s.Marker != "" {
			b.WriteString(s.Marker.Emoji())
			continue
		}
		text := markdownEscaper.Replace(s.Text)
		// Markdown does not style text that starts or ends with a space.
		lead, core, trail := splitSpace(text)
		if core == "" {
			b.WriteString(text)
			continue
		}
		if s.URL != "" {
			core = "[" + core + "](" + strings.ReplaceAll(s.URL, ")", "%29") + ")"
		}
		if s.Style&view.Emphasis != 0 {
			core = "_" + core + "_"
		}
		if s.Style&view.Strong != 0 {
			core = "**" + core + "**"
		}
		b.WriteString(lead + core + trail)
	}
	return b.String()
}

// PlainText renders a line as plain text with its markers as emoji, for
// where Teams shows text as it is: the message that answers a click.
func PlainText(t view.Text) string {
	var b strings.Builder
	for _, s := range t {
		if s.Marker != "" {
			b.WriteString(s.Marker.Emoji())
			continue
		}
		b.WriteString(s.Text)
	}
	return strings.TrimSpace(b.String())
}

func splitSpace(s string) (lead, core, trail string) {
	core = strings.TrimLeft(s, " ")
	lead = s[:len(s)-len(core)]
	trimmed := strings.TrimRight(core, " ")
	return lead, trimmed, core[len(trimmed):]
}

// Render turns a message into a card within MaxCardSize. Images are not
// in the card: the sender attaches them beside it (ImageAttachments).
//
// A message about one thing (a lead's card, a reminder, an escalation)
// has one row of controls: its buttons go to the card's foot. A list (a
// home view, the leads answer) has a row under each lead, marked as an
// item's (view.Actions.Item): each row stays where it is, as an
// ActionSet, its buttons marked as the list's (DataList).
func Render(m view.Message) Card { return renderWithin(m, MaxCardSize) }

// renderWithin renders a message as a card of at most budget (UTF-16
// bytes of its JSON), shedding as fit does.
func renderWithin(m view.Message, budget int) Card {
	card := Card{FullWidth: true, FallbackText: m.Summary}
	inList := isList(m)
	for _, blk := range m.Blocks {
		switch b := blk.(type) {
		case view.Actions:
			if b.Aside {
				if acts := actions(b, inList); len(acts) > 0 {
					card.Body = append(card.Body, ActionSet{Actions: acts})
				}
			} else if !inList {
				card.Actions = append(card.Actions, actions(b, false)...)
			} else if acts := actions(b, true); len(acts) > 0 {
				card.Body = append(card.Body, ActionSet{Actions: acts})
			}
		default:
			if el := element(b); el != nil {
				card.Body = append(card.Body, el)
			}
		}
	}
	return fit(card, budget)
}

// isList reports whether a message is a list of things with controls:
// more than one row of controls, or a row marked as an item's. A single
// row is otherwise the message's own, wherever it stands: a card keeps its
// buttons when a line (the thanks for an answered question) follows them.
func isList(m view.Message) bool {
	rows := 0
	for _, blk := range m.Blocks {
		if a, ok := blk.(view.Actions); ok && !a.Aside {
			if a.Item {
				return true
			}
			rows++
		}
	}
	return rows > 1
}

// fit keeps a card within budget, which a long list of leads with their
// forms can pass: first the forms of the list's rows go (each lead's own
// card keeps them), then rows from the end, above the last element (the
// footer), with a line saying the list was cut. A card Teams refuses
// would never be shown at all.
func fit(card Card, budget int) Card {
	size := cardSize(card)
	if size <= budget {
		return card
	}
	body := slices.Clone(card.Body)
	for i, el := range body {
		if set, ok := el.(ActionSet); ok {
			set.Actions = slices.DeleteFunc(slices.Clone(set.Actions), func(a Action) bool {
				_, form := a.(ActionShowCard)
				return form
			})
			body[i] = set
		}
	}
	card.Body = body
	if size = cardSize(card); size <= budget || len(body) < 3 {
		return card
	}
	cut := TextBlock{Text: "⚠️ There is more than one Teams card holds: the rest was left out.", Wrap: true, IsSubtle: true, Size: "small"}
	limit := budget
	budget = limit - cardSize(Card{Body: []Element{cut}}) - 64
	// Drop rows from the end, keeping the first element (the heading)
	// and the last (the footer), until the rest fits.
	last := body[len(body)-1]
	kept := body[:len(body)-1]
	for len(kept) > 1 && size > budget {
		size -= elementSize(kept[len(kept)-1]) + 2 // and its comma
		kept = kept[:len(kept)-1]
	}
	card.Body = append(slices.Clone(kept), cut, last)
	for len(card.Body) > 3 && cardSize(card) > limit {
		card.Body = slices.Delete(card.Body, len(card.Body)-3, len(card.Body)-2)
	}
	return card
}

// cardSize is the size of a card's JSON as Teams counts it, in UTF-16 (0
// if it does not encode: the sender reports that).
func cardSize(c Card) int {
	data, err := json.Marshal(c)
	if err != nil {
		return 0
	}
	return UTF16Size(data)
}

func elementSize(el Element) int {
	data, err := json.Marshal(el)
	if err != nil {
		return 0
	}
	return UTF16Size(data)
}

// ImageAttachments are the pictures of a message, as attachments.
func ImageAttachments(m view.Message) []Attachment {
	var out []Attachment
	for _, blk := range m.Blocks {
		if img, ok := blk.(view.Image); ok && len(img.PNG) > 0 {
			name := img.Name
			if name == "" {
				name = "chart.png"
			}
			out = append(out, ImageAttachment(img.PNG, name))
		}
	}
	return out
}

func element(blk view.Block) Element {
	switch b := blk.(type) {
	case view.Heading:
		return TextBlock{Text: markdownEscaper.Replace(b.Text), Wrap: true, Size: "large", Weight: "bolder", Style: "heading"}
	case view.Section:
		return lines(b.Lines, false)
	case view.Context:
		return lines(b.Lines, true)
	case view.Fields:
		var cols []Column
		for _, f := range b.Fields {
			cols = append(cols, Column{Width: "stretch", Items: []Element{lines(f.Lines, false)}})
		}
		// Two side by side, as on Slack; more wrap onto the next row.
		var rows []Element
		for len(cols) > 0 {
			n := min(2, len(cols))
			rows = append(rows, ColumnSet{Columns: cols[:n]})
			cols = cols[n:]
		}
		return Container{Items: rows}
	case view.Divider:
		return Container{Items: []Element{}, Separator: true}
	case view.Table:
		return table(b)
	}
	return nil
}

// lines is a paragraph: a TextBlock a line, so no line break depends on
// how a client reads newlines in Markdown.
func lines(ls []view.Text, subtle bool) Element {
	items := make([]Element, 0, len(ls))
	for i, l := range ls {
		tb := TextBlock{Text: Markdown(l), Wrap: true, IsSubtle: subtle}
		if subtle {
			tb.Size = "small"
		}
		if i > 0 {
			tb.Spacing = "none"
		}
		items = append(items, tb)
	}
	return Container{Items: items}
}

func table(t view.Table) Element {
	width := len(t.Columns)
	for _, r := range t.Rows {
		width = max(width, len(r))
	}
	if width == 0 {
		return nil
	}
	cols := make([]TableColumn, width)
	for i := range cols {
		cols[i] = TableColumn{Width: 1}
	}
	cols[0].Width = 2 // names are longer than figures
	cell := func(text string, bold bool) TableCell {
		tb := TextBlock{Text: text, Wrap: true}
		if bold {
			tb.Weight = "bolder"
		}
		return TableCell{Items: []Element{tb}}
	}
	var rows []TableRow
	if len(t.Columns) > 0 {
		var header TableRow
		for i := range width {
			name := ""
			if i < len(t.Columns) {
				name = t.Columns[i]
			}
			header.Cells = append(header.Cells, cell(markdownEscaper.Replace(name), true))
		}
		rows = append(rows, header)
	}
	for _, r := range t.Rows {
		var row TableRow
		for i := range width {
			var text string
			if i < len(r) {
				text = Markdown(r[i])
			}
			row.Cells = append(row.Cells, cell(text, false))
		}
		rows = append(rows, row)
	}
	return Table{Columns: cols, Rows: rows, FirstRowAsHeader: len(t.Columns) > 0, ShowGridLines: true}
}

// actions renders a row of controls: a button acts (Action.Execute), opens
// a link, or, with a form, opens the form in place (Action.ShowCard) whose
// submit acts; a choice is a small form of its own.
func actions(a view.Actions, inList bool) []Action {
	// data is what an Action.Execute of the row carries back.
	data := func(kv ...string) map[string]string {
		d := map[string]string{DataRow: a.ID}
		for i := 0; i+1 < len(kv); i += 2 {
			d[kv[i]] = kv[i+1]
		}
		if inList {
			d[DataList] = "1"
		}
		return d
	}
	// In a list, each row's inputs have ids of their own; so do an aside
	// row's, beside the message's own row.
	inputID := func(id string) string { return id }
	if inList || a.Aside {
		inputID = func(id string) string { return rowInputID(id, a.ID) }
	}
	var out []Action
	for _, c := range a.Controls {
		switch c := c.(type) {
		case view.Button:
			switch {
			case c.URL != "":
				out = append(out, ActionOpenURL{Title: c.Label, URL: c.URL})
			case c.Form != nil:
				out = append(out, ActionShowCard{Title: c.Label, Card: formCard(*c.Form, data(DataValue, c.Form.Subject), inputID)})
			default:
				out = append(out, ActionExecute{Title: c.Label, Verb: c.Action, Style: style(c.Style),
					Data: data(DataValue, c.Value), AssociatedInputs: "none"})
			}
		case view.Choice:
			choices := make([]Choice, len(c.Options))
			for i, o := range c.Options {
				choices[i] = Choice{Title: o.Label, Value: o.Value}
			}
			title := strings.TrimSuffix(c.Placeholder, "…")
			out = append(out, ActionShowCard{Title: c.Placeholder, Card: Card{
				Body: []Element{InputChoiceSet{ID: inputID(InputTouchKind), Label: title, Choices: choices, Style: "expanded",
					IsRequired: true, ErrorMessage: "Choose one."}},
				Actions: []Action{ActionExecute{Title: title, Verb: c.Action, Data: data()}},
			}})
		}
	}
	return out
}

// formCard is a form as a card shown in place: its inputs (their ids made
// by inputID), and a button that submits them with data (the row they
// belong to, the form's subject).
func formCard(f view.Form, data map[string]string, inputID func(string) string) Card {
	var body []Element
	if len(f.Intro) > 0 {
		body = append(body, lines(f.Intro, false))
	}
	for _, in := range f.Inputs {
		if len(in.Options) > 0 {
			choices := make([]Choice, len(in.Options))
			for i, o := range in.Options {
				choices[i] = Choice{Title: o.Label, Value: o.Value}
			}
			body = append(body, InputChoiceSet{ID: inputID(in.ID), Label: in.Label, Choices: choices, Value: in.Initial,
				Style: "compact", IsRequired: !in.Optional, ErrorMessage: "Choose one.", Placeholder: in.Placeholder})
			continue
		}
		if in.Date {
			body = append(body, InputDate{ID: inputID(in.ID), Label: in.Label, Placeholder: in.Placeholder, Value: in.Initial,
				Min: in.Min, Max: in.Max, IsRequired: !in.Optional, ErrorMessage: "Choose a date."})
			continue
		}
		body = append(body, InputText{ID: inputID(in.ID), Label: in.Label, Placeholder: in.Placeholder, Value: in.Initial,
			IsMultiline: in.Multiline, MaxLength: in.MaxLength, IsRequired: !in.Optional, ErrorMessage: "Please fill this in."})
	}
	return Card{Body: body, Actions: []Action{ActionExecute{Title: f.Submit, Verb: f.ID, Data: data}}}
}

func style(s view.ButtonStyle) string {
	switch s {
	case view.Primary:
		return "positive"
	case view.Danger:
		return "destructive"
	}
	return ""
}
