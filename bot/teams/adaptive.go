package teams

import (
	"encoding/json"
	"fmt"
)

// Adaptive Card constants.
const (
	CardVersion = "1.5"
	CardSchema  = "http://adaptivecards.io/schemas/adaptive-card.json"
	// MaxCardSize is the largest card slabot sends, as Teams counts it
	// (UTF16Size of its JSON): the activity around it, its summary and its
	// pictures' names, must fit within MaxActivitySize too.
	MaxCardSize = MaxActivitySize - 4000
)

// Card is an Adaptive Card. Body holds elements (TextBlock, FactSet, …),
// Actions the buttons at its foot.
type Card struct {
	Body    []Element `json:"body,omitempty"`
	Actions []Action  `json:"actions,omitempty"`
	// FullWidth stretches the card across the chat in Teams.
	FullWidth bool `json:"-"`
	// Fallback text shown where cards cannot be (notifications).
	FallbackText string `json:"-"`
	// nested cards (inside Action.ShowCard) carry no schema or version.
	nested bool
}

// Element is a card body element.
type Element interface{ cardElement() }

// Action is a card action (a button).
type Action interface{ cardAction() }

// MarshalJSON writes the card with its type, schema and version.
func (c Card) MarshalJSON() ([]byte, error) {
	type msteams struct {
		Width string `json:"width,omitempty"`
	}
	out := struct {
		Type         string    `json:"type"`
		Schema       string    `json:"$schema,omitempty"`
		Version      string    `json:"version,omitempty"`
		Body         []Element `json:"body,omitempty"`
		Actions      []Action  `json:"actions,omitempty"`
		FallbackText string    `json:"fallbackText,omitempty"`
		MSTeams      *msteams  `json:"msteams,omitempty"`
	}{Type: "AdaptiveCard", Body: c.Body, Actions: c.Actions, FallbackText: c.FallbackText}
	if !c.nested {
		out.Schema, out.Version = CardSchema, CardVersion
	}
	if c.FullWidth {
		out.MSTeams = &msteams{Width: "Full"}
	}
	return json.Marshal(out)
}

// CardTooLargeError says a card exceeds MaxActivitySize as Teams counts
// it (UTF-16).
type CardTooLargeError struct{ Size int }

func (e *CardTooLargeError) Error() string {
	return fmt.Sprintf("teams: card is %d bytes in UTF-16, more than the %d Teams takes", e.Size, MaxActivitySize)
}

// JSON encodes the card and checks its size, in UTF-16, against
// MaxActivitySize.
func (c Card) JSON() ([]byte, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("teams: encode card: %w", err)
	}
	if size := UTF16Size(data); size > MaxActivitySize {
		return nil, &CardTooLargeError{Size: size}
	}
	return data, nil
}

// Attachment wraps the card for an activity after checking its size.
func (c Card) Attachment() (Attachment, error) {
	data, err := c.JSON()
	if err != nil {
		return Attachment{}, err
	}
	return Attachment{ContentType: ContentTypeCard, Content: json.RawMessage(data)}, nil
}

// CardMessage is a message activity carrying the card (and summary as the
// notification text).
func CardMessage(card Card, summary string) (*Activity, error) {
	att, err := card.Attachment()
	if err != nil {
		return nil, err
	}
	return &Activity{Type: ActivityMessage, Summary: summary, Attachments: []Attachment{att}}, nil
}

// typed marshals v with a "type" member first.
func typed[T any](typ string, v T) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	head := `{"type":"` + typ + `"`
	if string(body) == "{}" {
		return []byte(head + "}"), nil
	}
	return append([]byte(head+","), body[1:]...), nil
}

// TextBlock is a block of text (a subset of Markdown).
type TextBlock struct {
	Text                string `json:"text"`
	Wrap                bool   `json:"wrap,omitempty"`
	Size                string `json:"size,omitempty"`   // small, default, medium, large, extraLarge
	Weight              string `json:"weight,omitempty"` // lighter, default, bolder
	Color               string `json:"color,omitempty"`  // default, dark, light, accent, good, warning, attention
	IsSubtle            bool   `json:"isSubtle,omitempty"`
	MaxLines            int    `json:"maxLines,omitempty"`
	HorizontalAlignment string `json:"horizontalAlignment,omitempty"`
	Spacing             string `json:"spacing,omitempty"`
	Separator           bool   `json:"separator,omitempty"`
	Style               string `json:"style,omitempty"` // default, heading
}

func (TextBlock) cardElement() {}

// MarshalJSON adds the element type.
func (t TextBlock) MarshalJSON() ([]byte, error) {
	type plain TextBlock
	return typed("TextBlock", plain(t))
}

// Fact is one title/value row of a FactSet.
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// FactSet is a list of facts.
type FactSet struct {
	Facts     []Fact `json:"facts"`
	Spacing   string `json:"spacing,omitempty"`
	Separator bool   `json:"separator,omitempty"`
}

func (FactSet) cardElement() {}

// MarshalJSON adds the element type.
func (f FactSet) MarshalJSON() ([]byte, error) {
	type plain FactSet
	return typed("FactSet", plain(f))
}

// Container groups elements.
type Container struct {
	Items     []Element `json:"items"`
	Style     string    `json:"style,omitempty"` // default, emphasis, good, attention, warning, accent
	Spacing   string    `json:"spacing,omitempty"`
	Separator bool      `json:"separator,omitempty"`
	Bleed     bool      `json:"bleed,omitempty"`
}

func (Container) cardElement() {}

// MarshalJSON adds the element type.
func (c Container) MarshalJSON() ([]byte, error) {
	type plain Container
	return typed("Container", plain(c))
}

// ColumnSet lays columns side by side.
type ColumnSet struct {
	Columns   []Column `json:"columns"`
	Spacing   string   `json:"spacing,omitempty"`
	Separator bool     `json:"separator,omitempty"`
}

func (ColumnSet) cardElement() {}

// MarshalJSON adds the element type.
func (c ColumnSet) MarshalJSON() ([]byte, error) {
	type plain ColumnSet
	return typed("ColumnSet", plain(c))
}

// Column is one column of a ColumnSet; Width is "auto", "stretch", a
// weight ("2") or pixels ("50px").
type Column struct {
	Items                    []Element `json:"items"`
	Width                    string    `json:"width,omitempty"`
	VerticalContentAlignment string    `json:"verticalContentAlignment,omitempty"`
}

// MarshalJSON adds the type.
func (c Column) MarshalJSON() ([]byte, error) {
	type plain Column
	return typed("Column", plain(c))
}

// Image shows a picture by URL (https or a data: URL).
type Image struct {
	URL                 string `json:"url"`
	AltText             string `json:"altText,omitempty"`
	Size                string `json:"size,omitempty"` // auto, stretch, small, medium, large
	Width               string `json:"width,omitempty"`
	HorizontalAlignment string `json:"horizontalAlignment,omitempty"`
}

func (Image) cardElement() {}

// MarshalJSON adds the element type.
func (i Image) MarshalJSON() ([]byte, error) {
	type plain Image
	return typed("Image", plain(i))
}

// Table is a grid of cells (Adaptive Cards 1.5).
type Table struct {
	Columns          []TableColumn `json:"columns"`
	Rows             []TableRow    `json:"rows"`
	FirstRowAsHeader bool          `json:"firstRowAsHeader"`
	ShowGridLines    bool          `json:"showGridLines"`
	Spacing          string        `json:"spacing,omitempty"`
}

func (Table) cardElement() {}

// MarshalJSON adds the element type.
func (t Table) MarshalJSON() ([]byte, error) {
	type plain Table
	return typed("Table", plain(t))
}

// TableColumn sets a column's relative width.
type TableColumn struct {
	Width int `json:"width"`
}

// TableRow is a row of cells.
type TableRow struct {
	Cells []TableCell `json:"cells"`
}

// MarshalJSON adds the type.
func (r TableRow) MarshalJSON() ([]byte, error) {
	type plain TableRow
	return typed("TableRow", plain(r))
}

// TableCell holds elements.
type TableCell struct {
	Items []Element `json:"items"`
}

// MarshalJSON adds the type.
func (c TableCell) MarshalJSON() ([]byte, error) {
	type plain TableCell
	return typed("TableCell", plain(c))
}

// ActionSet shows actions inside the body.
type ActionSet struct {
	Actions []Action `json:"actions"`
	Spacing string   `json:"spacing,omitempty"`
}

func (ActionSet) cardElement() {}

// MarshalJSON adds the element type.
func (a ActionSet) MarshalJSON() ([]byte, error) {
	type plain ActionSet
	return typed("ActionSet", plain(a))
}

// InputText is a text field; its value arrives under ID in the data of
// the Action.Execute that submits it.
type InputText struct {
	ID           string `json:"id"`
	Label        string `json:"label,omitempty"`
	Placeholder  string `json:"placeholder,omitempty"`
	Value        string `json:"value,omitempty"`
	IsRequired   bool   `json:"isRequired,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	IsMultiline  bool   `json:"isMultiline,omitempty"`
	MaxLength    int    `json:"maxLength,omitempty"`
	Regex        string `json:"regex,omitempty"`
}

func (InputText) cardElement() {}

// MarshalJSON adds the element type.
func (i InputText) MarshalJSON() ([]byte, error) {
	type plain InputText
	return typed("Input.Text", plain(i))
}

// InputDate is a date picker; its value (YYYY-MM-DD) arrives under ID in
// the data of the Action.Execute that submits it. Min and Max bound the
// dates offered (https://adaptivecards.io/explorer/Input.Date.html).
type InputDate struct {
	ID           string `json:"id"`
	Label        string `json:"label,omitempty"`
	Placeholder  string `json:"placeholder,omitempty"`
	Value        string `json:"value,omitempty"`
	Min          string `json:"min,omitempty"`
	Max          string `json:"max,omitempty"`
	IsRequired   bool   `json:"isRequired,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

func (InputDate) cardElement() {}

// MarshalJSON adds the element type.
func (i InputDate) MarshalJSON() ([]byte, error) {
	type plain InputDate
	return typed("Input.Date", plain(i))
}

// Choice is one option of an InputChoiceSet.
type Choice struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// InputChoiceSet is a drop-down (Style "compact") or radio list
// ("expanded").
type InputChoiceSet struct {
	ID            string   `json:"id"`
	Label         string   `json:"label,omitempty"`
	Choices       []Choice `json:"choices"`
	Value         string   `json:"value,omitempty"`
	Style         string   `json:"style,omitempty"`
	IsMultiSelect bool     `json:"isMultiSelect,omitempty"`
	IsRequired    bool     `json:"isRequired,omitempty"`
	ErrorMessage  string   `json:"errorMessage,omitempty"`
	Placeholder   string   `json:"placeholder,omitempty"`
}

func (InputChoiceSet) cardElement() {}

// MarshalJSON adds the element type.
func (i InputChoiceSet) MarshalJSON() ([]byte, error) {
	type plain InputChoiceSet
	return typed("Input.ChoiceSet", plain(i))
}

// ActionExecute is a button that sends an adaptiveCard/action invoke with
// Verb and Data (plus the card's inputs) to the bot.
type ActionExecute struct {
	Title string `json:"title"`
	Verb  string `json:"verb"`
	Data  any    `json:"data,omitempty"`
	ID    string `json:"id,omitempty"`
	// AssociatedInputs is "auto" (default: validate and send the inputs)
	// or "none".
	AssociatedInputs string `json:"associatedInputs,omitempty"`
	Style            string `json:"style,omitempty"` // default, positive, destructive
}

func (ActionExecute) cardAction() {}

// MarshalJSON adds the action type.
func (a ActionExecute) MarshalJSON() ([]byte, error) {
	type plain ActionExecute
	return typed("Action.Execute", plain(a))
}

// ActionShowCard reveals a nested card (a form) under the card.
type ActionShowCard struct {
	Title string `json:"title"`
	Card  Card   `json:"card"`
	ID    string `json:"id,omitempty"`
	Style string `json:"style,omitempty"`
}

func (ActionShowCard) cardAction() {}

// MarshalJSON adds the action type and marks the inner card as nested.
func (a ActionShowCard) MarshalJSON() ([]byte, error) {
	type plain ActionShowCard
	p := plain(a)
	p.Card.nested = true
	return typed("Action.ShowCard", p)
}

// ActionOpenURL opens a link.
type ActionOpenURL struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

func (ActionOpenURL) cardAction() {}

// MarshalJSON adds the action type.
func (a ActionOpenURL) MarshalJSON() ([]byte, error) {
	type plain ActionOpenURL
	return typed("Action.OpenUrl", plain(a))
}
