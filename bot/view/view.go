// Package view is what slabot says, as data: messages made of headings,
// lines of styled text, fields, tables, images and controls. Each chat
// adapter renders a view in its own markup (Block Kit on Slack, Adaptive
// Cards on Teams), escaping what people typed on the way; nothing here
// knows a platform's syntax.
package view

import "strings"

// Marker is a status sign at the start of a line or beside a figure. Each
// adapter draws it its own way (an emoji shortcode on Slack, the emoji on
// Teams).
type Marker string

// Markers slabot uses. The names say what they mean, not how they look.
const (
	Done      Marker = "done"      // ✅ done, on time
	Alarm     Marker = "alarm"     // 🚨 overdue, breached
	Warning   Marker = "warning"   // ⚠️ needs attention
	Snoozed   Marker = "snoozed"   // 💤 reminders paused
	Away      Marker = "away"      // 🌴 out of office
	Refused   Marker = "refused"   // 🚫 not allowed
	Stopped   Marker = "stopped"   // ⛔ cannot go on
	Unsure    Marker = "unsure"    // 🤔 not understood
	Announce  Marker = "announce"  // 📣 a report, news for all
	Team      Marker = "team"      // 👥 a team
	Celebrate Marker = "celebrate" // 🎉 won, met
	Calendar  Marker = "calendar"  // 📆 a period
	Plan      Marker = "plan"      // 🗓️ the agreement's dates
	Behind    Marker = "behind"    // 🔴 far from target
	Near      Marker = "near"      // 🟡 close to target
	OnTarget  Marker = "on_target" // 🟢 target met
	Waiting   Marker = "waiting"   // ⌛ could not confirm yet
	Pending   Marker = "pending"   // ⏳ in progress
	Deal      Marker = "deal"      // 🤝 opportunity
	Next      Marker = "next"      // ➡️ moved on to
	Hello     Marker = "hello"     // 👋 welcome
	Up        Marker = "up"        // ↗️ rising
	Down      Marker = "down"      // ↘️ falling
	Reminder  Marker = "reminder"  // ⏰ a deadline is near
)

// Markers are all the markers above, for an adapter's test that each one
// has a sign of its own. TestMarkersListsEveryMarker keeps it complete.
var Markers = []Marker{Done, Alarm, Warning, Snoozed, Away, Refused, Stopped,
	Unsure, Announce, Team, Celebrate, Calendar, Plan, Behind, Near, OnTarget,
	Waiting, Pending, Deal, Next, Hello, Up, Down, Reminder}

// emoji are the markers as the emoji their names stand for, for the
// renderers that show a marker as its emoji (Teams, a terminal); Slack
// writes its own shortcodes.
var emoji = map[Marker]string{
	Done: "✅", Alarm: "🚨", Warning: "⚠️", Snoozed: "💤", Away: "🌴",
	Refused: "🚫", Stopped: "⛔", Unsure: "🤔", Announce: "📣", Team: "👥",
	Celebrate: "🎉", Calendar: "📆", Plan: "🗓️", Behind: "🔴", Near: "🟡",
	OnTarget: "🟢", Waiting: "⌛", Pending: "⏳", Deal: "🤝", Next: "➡️",
	Hello: "👋", Up: "↗️", Down: "↘️", Reminder: "⏰",
}

// Emoji is the marker as an emoji ("" for a marker slabot does not have).
func (m Marker) Emoji() string { return emoji[m] }

// Style is how a span of text is set.
type Style uint8

// Styles; they combine.
const (
	Strong Style = 1 << iota
	Emphasis
	Code
)

// Span is a piece of a line: text in a style, a link, or a marker.
type Span struct {
	Text   string
	Style  Style
	URL    string // a link when set; Text is its label
	Marker Marker // a marker when set; Text is empty
}

// Text is one line (or, with "\n" inside a span, a few lines) of spans.
type Text []Span

// T builds a Text from its parts: a string is plain text, a Span or a
// Marker is itself, a Text is spliced in. Any other value panics: a view
// is built by code, so a wrong part is a bug to find in tests.
func T(parts ...any) Text {
	var t Text
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			if p != "" {
				t = append(t, Span{Text: p})
			}
		case Span:
			t = append(t, p)
		case Marker:
			t = append(t, Span{Marker: p})
		case Text:
			t = append(t, p...)
		default:
			panic("view.T: a part must be a string, Span, Marker or Text")
		}
	}
	return t
}

// B is text in bold.
func B(s string) Span { return Span{Text: s, Style: Strong} }

// Bold is T with every part in bold, markers included: a title that
// begins with its marker reads as one bold run.
func Bold(parts ...any) Text {
	t := T(parts...)
	for i := range t {
		t[i].Style |= Strong
	}
	return t
}

// I is text in italics.
func I(s string) Span { return Span{Text: s, Style: Emphasis} }

// C is text set as code (a command to type).
func C(s string) Span { return Span{Text: s, Style: Code} }

// Link is a link with a label.
func Link(label, url string) Span { return Span{Text: label, URL: url} }

// Plain is the text of t without styles or markers, and without the space
// around them at its ends, for summaries and logs.
func (t Text) Plain() string {
	var n int
	for _, s := range t {
		n += len(s.Text)
	}
	out := make([]byte, 0, n)
	for _, s := range t {
		out = append(out, s.Text...)
	}
	return strings.TrimSpace(string(out))
}

// Block is one part of a message.
type Block interface{ isBlock() }

// Heading is a message's title line, plain text.
type Heading struct{ Text string }

// Section is a paragraph: lines one under the other.
type Section struct{ Lines []Text }

// Fields are short paragraphs set side by side where there is room.
type Fields struct{ Fields []Section }

// Context is small print: where figures come from, what happened so far.
type Context struct{ Lines []Text }

// Divider is a rule between parts of a message.
type Divider struct{}

// Table is figures in rows; a platform without tables shows a row a line.
type Table struct {
	Columns []string
	Rows    [][]Text
}

// Image is a picture carried in the message (a chart). Name is a file
// name for platforms that share pictures as files.
type Image struct {
	PNG   []byte
	Alt   string
	Title string
	Name  string
}

// Actions is a row of controls; ID names the row (the lead it acts on).
type Actions struct {
	ID       string
	Controls []Control
	// Aside marks a row that follows a message's own controls (a question
	// asked below a card), not an item of a list: a platform that draws a
	// message's last row apart from the rest keeps this one in its place.
	Aside bool
	// Item marks the controls of one item of a list (a lead among the
	// leads listed), not of the whole message: a platform that draws a
	// message's own controls apart keeps an item's beside the item, even
	// when the list has only one.
	Item bool
}

func (Heading) isBlock() {}
func (Section) isBlock() {}
func (Fields) isBlock()  {}
func (Context) isBlock() {}
func (Divider) isBlock() {}
func (Table) isBlock()   {}
func (Image) isBlock()   {}
func (Actions) isBlock() {}

// Control is a button or a choice in an Actions row.
type Control interface{ isControl() }

// ButtonStyle says how much a button stands out.
type ButtonStyle uint8

// Button styles.
const (
	Default ButtonStyle = iota
	Primary
	Danger
)

// Button acts when pressed (Action with Value), or opens URL. A button
// with a Form asks for it first: a platform that can show a form inside
// the message (Teams) opens it in place; another (Slack) asks slabot for
// the form when the button is pressed.
type Button struct {
	Action string
	Value  string
	Label  string
	Style  ButtonStyle
	URL    string
	Form   *Form
}

// Choice is a menu that acts as soon as an option is picked.
type Choice struct {
	Action      string
	Placeholder string
	Options     []Option
}

// Option is one entry of a Choice.
type Option struct{ Value, Label string }

func (Button) isControl() {}
func (Choice) isControl() {}

// Message is one message: its blocks, and a one-line summary for
// notifications and clients that show no blocks.
type Message struct {
	Summary string
	Blocks  []Block
}

// String writes t in a plain markup of its own, for tests and logs: **bold**,
// _italics_, `code`, [label](url) and :marker:, with no escaping. No chat
// platform reads it; each adapter renders Text in its own syntax.
func (t Text) String() string {
	var b strings.Builder
	for _, s := range t {
		if s.Marker != "" {
			b.WriteString(":" + string(s.Marker) + ":")
			continue
		}
		text := s.Text
		if s.URL != "" {
			text = "[" + text + "](" + s.URL + ")"
		}
		if s.Style&Code != 0 {
			text = "`" + text + "`"
		}
		if s.Style&Emphasis != 0 {
			text = "_" + text + "_"
		}
		if s.Style&Strong != 0 {
			text = "**" + text + "**"
		}
		b.WriteString(text)
	}
	return b.String()
}

// Lines writes lines one under the other, as Text.String does.
func Lines(lines []Text) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l.String()
	}
	return strings.Join(out, "\n")
}
