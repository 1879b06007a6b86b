// Package terminal renders a view for a terminal: what `slabot report
// --dry-run` and `slabot review` print. It is the third way slabot shows a
// view, beside Slack's Block Kit and Teams' Adaptive Cards, and the only
// one with no markup at all: what people typed, figures and cron
// schedules are printed exactly as they are, asterisks and backticks
// included.
package terminal

import (
	"strings"
	"unicode/utf8"

	"github.com/slabot/slabot/bot/view"
)

// Line is one line of text as a terminal shows it: markers as emoji,
// links as "label (url)", styles dropped.
func Line(t view.Text) string {
	var b strings.Builder
	for _, s := range t {
		switch {
		case s.Marker != "":
			b.WriteString(s.Marker.Emoji())
		case s.URL != "" && s.Text != "" && s.Text != s.URL:
			b.WriteString(s.Text + " (" + s.URL + ")")
		case s.URL != "":
			b.WriteString(s.URL)
		default:
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// Render writes m block by block, a blank line between blocks: a heading
// underlined, sections and small print line by line, tables in aligned
// columns, a picture as its description, and controls as the labels of
// what they offer.
func Render(m view.Message) string {
	var parts []string
	for _, bl := range m.Blocks {
		if s := block(bl); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return m.Summary + "\n"
	}
	return strings.Join(parts, "\n\n") + "\n"
}

func block(bl view.Block) string {
	switch bl := bl.(type) {
	case view.Heading:
		return bl.Text + "\n" + strings.Repeat("=", max(utf8.RuneCountInString(bl.Text), 3))
	case view.Section:
		return lines(bl.Lines)
	case view.Context:
		return lines(bl.Lines)
	case view.Fields:
		var out []string
		for _, f := range bl.Fields {
			out = append(out, lines(f.Lines))
		}
		return strings.Join(out, "\n")
	case view.Divider:
		return "---"
	case view.Table:
		return table(bl)
	case view.Image:
		alt := bl.Alt
		if alt == "" {
			alt = bl.Title
		}
		return "[picture: " + alt + "]"
	case view.Actions:
		var labels []string
		for _, c := range bl.Controls {
			switch c := c.(type) {
			case view.Button:
				labels = append(labels, "["+c.Label+"]")
			case view.Choice:
				labels = append(labels, "["+c.Placeholder+" ▾]")
			}
		}
		return strings.Join(labels, " ")
	}
	return ""
}

func lines(ls []view.Text) string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = Line(l)
	}
	return strings.Join(out, "\n")
}

// table aligns a table's columns by the number of characters in each
// cell, two spaces apart.
func table(t view.Table) string {
	rows := make([][]string, 0, len(t.Rows)+1)
	if len(t.Columns) > 0 {
		rows = append(rows, t.Columns)
	}
	for _, r := range t.Rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = Line(c)
		}
		rows = append(rows, cells)
	}
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	out := make([]string, len(rows))
	for ri, r := range rows {
		var b strings.Builder
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
			}
		}
		out[ri] = strings.TrimRight(b.String(), " ")
	}
	return strings.Join(out, "\n")
}
