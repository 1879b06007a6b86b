package bottest

import (
	"fmt"
	"strings"

	"github.com/slabot/slabot/bot/view"
)

// Render writes a view as neutral markup, one block after another, so a
// test can compare what a person would read, and what they could press,
// with cmp.Diff. It is no platform's markup: spans are written as
// view.Text.String writes them (**bold**, _italics_, `code`, [label](url),
// :marker:), and each kind of block has a sign of its own:
//
//	# heading
//	a section's lines
//	| a field's lines, one field a line, its lines joined by " / "
//	> small print
//	---
//	|| column | column    (a table's header, then a row a line)
//	![alt](name)
//	[Label](action=value) [Label](url) [Label](action form=Title) {placeholder: option, option}(action)
func Render(m view.Message) string {
	var b strings.Builder
	for _, block := range m.Blocks {
		switch v := block.(type) {
		case view.Heading:
			fmt.Fprintf(&b, "# %s\n", v.Text)
		case view.Section:
			for _, l := range v.Lines {
				b.WriteString(l.String() + "\n")
			}
		case view.Fields:
			for _, f := range v.Fields {
				lines := make([]string, len(f.Lines))
				for i, l := range f.Lines {
					lines[i] = l.String()
				}
				b.WriteString("| " + strings.Join(lines, " / ") + "\n")
			}
		case view.Context:
			for _, l := range v.Lines {
				b.WriteString("> " + l.String() + "\n")
			}
		case view.Divider:
			b.WriteString("---\n")
		case view.Table:
			b.WriteString("|| " + strings.Join(v.Columns, " | ") + "\n")
			for _, row := range v.Rows {
				cells := make([]string, len(row))
				for i, c := range row {
					cells[i] = c.String()
				}
				b.WriteString("|| " + strings.Join(cells, " | ") + "\n")
			}
		case view.Image:
			fmt.Fprintf(&b, "![%s](%s)\n", v.Alt, v.Name)
		case view.Actions:
			b.WriteString(renderControls(v.Controls) + "\n")
		default:
			fmt.Fprintf(&b, "?%T\n", block)
		}
	}
	return b.String()
}

func renderControls(controls []view.Control) string {
	out := make([]string, 0, len(controls))
	for _, c := range controls {
		switch v := c.(type) {
		case view.Button:
			target := v.Action
			switch {
			case v.URL != "":
				target = v.URL
			case v.Form != nil:
				target += " form=" + v.Form.Title
			case v.Value != "":
				target += "=" + v.Value
			}
			out = append(out, fmt.Sprintf("[%s](%s)", v.Label, target))
		case view.Choice:
			labels := make([]string, len(v.Options))
			for i, o := range v.Options {
				labels[i] = o.Label
			}
			out = append(out, fmt.Sprintf("{%s: %s}(%s)", v.Placeholder, strings.Join(labels, ", "), v.Action))
		default:
			out = append(out, fmt.Sprintf("?%T", c))
		}
	}
	return strings.Join(out, " ")
}

// RenderForm writes a form as neutral markup: its title, its intro, then
// an input a line with its options and what it starts with.
func RenderForm(f view.Form) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s [%s]\n", f.Title, f.Submit)
	for _, l := range f.Intro {
		b.WriteString(l.String() + "\n")
	}
	for _, in := range f.Inputs {
		line := "- " + in.Label
		if in.Optional {
			line += " (optional)"
		}
		if len(in.Options) > 0 {
			values := make([]string, len(in.Options))
			for i, o := range in.Options {
				values[i] = o.Value
			}
			line += ": " + strings.Join(values, ", ")
		}
		if in.Date {
			line += fmt.Sprintf(": a date from %s to %s", in.Min, in.Max)
		}
		if in.Initial != "" {
			line += " = " + in.Initial
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
