// Package slack is slabot's Slack adapter. App receives what people do
// over Socket Mode (clicks, modal submissions, /sla, the App Home opened),
// records each delivery as a durable job and turns it into the bot's
// Actions and Answers; Chat implements the bot's chat port on the Web API
// (people by email, posts found again by their metadata after a crash,
// paced per channel); this file renders views as Block Kit and mrkdwn,
// escaping what people typed, within the limits Slack enforces.
// Subpackage slackfake is a Slack that speaks the real protocol, for tests
// and the demo.
package slack

import (
	"strings"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot/view"
)

// Block Kit limits a rendered message respects however long its text is.
const (
	MaxHeader      = 150  // characters of a header block
	MaxSectionText = 3000 // bytes of a section's text (Slack counts characters; bytes are the safe bound)
	MaxFieldText   = 2000 // bytes of one field
	MaxButtonText  = 75   // characters of a button label
	MaxFallback    = 3000 // bytes of a message's text fallback
	maxURL         = 3000 // characters of a button's link
)

// markers are the emoji shortcodes of view's markers.
var markers = map[view.Marker]string{
	view.Done: ":white_check_mark:", view.Alarm: ":rotating_light:", view.Warning: ":warning:",
	view.Snoozed: ":zzz:", view.Away: ":palm_tree:", view.Refused: ":no_entry_sign:", view.Stopped: ":no_entry:",
	view.Unsure: ":thinking_face:", view.Announce: ":mega:", view.Team: ":busts_in_silhouette:",
	view.Celebrate: ":tada:", view.Calendar: ":calendar:", view.Plan: ":spiral_calendar_pad:",
	view.Behind: ":red_circle:", view.Near: ":large_yellow_circle:", view.OnTarget: ":large_green_circle:",
	view.Waiting: ":hourglass:", view.Pending: ":hourglass_flowing_sand:", view.Deal: ":handshake:",
	view.Next: ":arrow_right:", view.Hello: ":wave:", view.Up: ":arrow_upper_right:", view.Down: ":arrow_lower_right:",
	view.Reminder: ":alarm_clock:",
}

// Escape escapes text for mrkdwn, so what people typed cannot become a
// link or a mention.
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// Mrkdwn renders a line of spans as Slack mrkdwn. Neighbouring spans set
// in the same style share one pair of marks, so a bold title beginning
// with a marker is one bold run ("*:calendar: October*"): Slack does not
// read "*a**b*" as bold.
func Mrkdwn(t view.Text) string {
	var b strings.Builder
	for i := 0; i < len(t); {
		j := i + 1
		for j < len(t) && sameRun(t[i], t[j]) {
			j++
		}
		var run strings.Builder
		for _, s := range t[i:j] {
			run.WriteString(spanMrkdwn(s))
		}
		b.WriteString(styled(run.String(), t[i].Style))
		i = j
	}
	return b.String()
}

// sameRun says whether two spans can share their style's marks: same
// style, one that has marks, and no link (a link is marked on its own).
func sameRun(a, b view.Span) bool {
	return a.Style != 0 && a.Style == b.Style && a.URL == "" && b.URL == ""
}

// spanMrkdwn is a span's marker, or its escaped text as a link if it is one.
func spanMrkdwn(s view.Span) string {
	if s.Marker != "" {
		return markers[s.Marker]
	}
	text := Escape(s.Text)
	if s.URL != "" {
		text = "<" + s.URL + "|" + text + ">"
	}
	return text
}

// styled sets text in a style's marks.
func styled(text string, st view.Style) string {
	if st&view.Code != 0 {
		text = "`" + text + "`"
	}
	if st&view.Emphasis != 0 {
		text = "_" + text + "_"
	}
	if st&view.Strong != 0 {
		text = "*" + text + "*"
	}
	return text
}

// Lines renders lines one under the other.
func Lines(lines []view.Text) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = Mrkdwn(l)
	}
	return strings.Join(out, "\n")
}

// Blocks renders a message as Block Kit and its text fallback. Images are
// left out: Slack shows a picture from a URL or an uploaded file, which the
// sender uploads beside the message.
func Blocks(m view.Message) ([]slack.Block, string) {
	var blocks []slack.Block
	for _, blk := range m.Blocks {
		if b := block(blk); b != nil {
			blocks = append(blocks, b)
		}
	}
	return blocks, view.ClipBytes(Escape(m.Summary), MaxFallback)
}

func block(blk view.Block) slack.Block {
	switch b := blk.(type) {
	case view.Heading:
		return slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, view.Clip(b.Text, MaxHeader), true, false))
	case view.Section:
		return slack.NewSectionBlock(mrkdwn(view.ClipBytes(Lines(b.Lines), MaxSectionText)), nil, nil)
	case view.Fields:
		fields := make([]*slack.TextBlockObject, len(b.Fields))
		for i, f := range b.Fields {
			fields[i] = mrkdwn(view.ClipBytes(Lines(f.Lines), MaxFieldText))
		}
		return slack.NewSectionBlock(nil, fields, nil)
	case view.Context:
		return slack.NewContextBlock("", mrkdwn(view.ClipBytes(Lines(b.Lines), MaxSectionText)))
	case view.Divider:
		return slack.NewDividerBlock()
	case view.Table:
		return slack.NewSectionBlock(mrkdwn(view.ClipBytes(Lines(tableLines(b)), MaxSectionText)), nil, nil)
	case view.Actions:
		return actions(b)
	}
	return nil
}

// tableLines sets a table as a list, as mrkdwn has no tables: the first
// column's header in bold as the list's title, then a bullet a row, naming
// it by its first cell, with the other cells after a colon, joined by " · ".
// The other headers are left out and so are empty cells: a row on a phone
// reads as a sentence ("Ana: 67% on time · 4 open"), so its cells say what
// they count.
func tableLines(t view.Table) []view.Text {
	var lines []view.Text
	if len(t.Columns) > 0 && t.Columns[0] != "" {
		lines = append(lines, view.T(view.B(t.Columns[0])))
	}
	for _, row := range t.Rows {
		if len(row) == 0 {
			continue
		}
		line := view.T("• ", row[0])
		sep := ": "
		for _, cell := range row[1:] {
			if len(cell) == 0 {
				continue
			}
			line = view.T(line, sep, cell)
			sep = " · "
		}
		lines = append(lines, line)
	}
	return lines
}

func actions(a view.Actions) slack.Block {
	var elems []slack.BlockElement
	for _, c := range a.Controls {
		switch c := c.(type) {
		case view.Button:
			btn := slack.NewButtonBlockElement(c.Action, c.Value, plain(view.Clip(c.Label, MaxButtonText)))
			switch c.Style {
			case view.Primary:
				btn.Style = slack.StylePrimary
			case view.Danger:
				btn.Style = slack.StyleDanger
			}
			if c.URL != "" {
				if len(c.URL) > maxURL {
					continue // Slack refuses the whole message over one long link
				}
				btn.URL = c.URL
			}
			elems = append(elems, btn)
		case view.Choice:
			opts := make([]*slack.OptionBlockObject, len(c.Options))
			for i, o := range c.Options {
				opts[i] = slack.NewOptionBlockObject(o.Value, plain(view.Clip(o.Label, MaxButtonText)), nil)
			}
			elems = append(elems, slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain(view.Clip(c.Placeholder, MaxButtonText)), c.Action, opts...))
		}
	}
	if len(elems) == 0 {
		return nil
	}
	return slack.NewActionBlock(a.ID, elems...)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}
