// Package transcript renders Slack messages as plain or coloured terminal
// text: who received a message, where, what it says and which buttons it
// offers. `slabot demo` uses it to show what each person would see.
package transcript

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/slack-go/slack"
)

// Style turns colour on or off.
type Style struct{ Color bool }

func (s Style) wrap(code, text string) string {
	if !s.Color {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

// Bold, Dim, Accent and Warn format a piece of text.
func (s Style) Bold(t string) string   { return s.wrap("1", t) }
func (s Style) Dim(t string) string    { return s.wrap("2", t) }
func (s Style) Accent(t string) string { return s.wrap("36", t) }
func (s Style) Warn(t string) string   { return s.wrap("33", t) }

var (
	mrkdwnBold  = regexp.MustCompile(`\*([^*\n]+)\*`)
	mrkdwnLink  = regexp.MustCompile(`<([^|>]+)\|([^>]+)>`)
	emojiSymbol = map[string]string{
		":rotating_light:": "🚨", ":white_check_mark:": "✅", ":zzz:": "💤", ":warning:": "⚠️",
		":no_entry_sign:": "🚫", ":alarm_clock:": "⏰", ":bar_chart:": "📊", ":tada:": "🎉",
		":mega:": "📣", ":spiral_calendar_pad:": "🗓️", ":palm_tree:": "🌴", ":busts_in_silhouette:": "👥",
		":chart_with_upwards_trend:": "📈", ":large_green_circle:": "🟢", ":handshake:": "🤝", ":large_yellow_circle:": "🟡", ":red_circle:": "🔴", ":chart_with_downwards_trend:": "📉", ":construction:": "🚧",
	}
)

// Text turns Slack mrkdwn into terminal text.
func (s Style) Text(t string) string {
	for code, sym := range emojiSymbol {
		t = strings.ReplaceAll(t, code, sym)
	}
	t = mrkdwnLink.ReplaceAllString(t, "$2 ($1)")
	t = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(t)
	return mrkdwnBold.ReplaceAllStringFunc(t, func(m string) string { return s.Bold(m[1 : len(m)-1]) })
}

// Blocks renders Block Kit blocks as indented lines; with no blocks it
// renders the fallback text.
func (s Style) Blocks(blocks slack.Blocks, fallback, indent string) string {
	var b strings.Builder
	line := func(text string) {
		for _, l := range strings.Split(text, "\n") {
			b.WriteString(indent + l + "\n")
		}
	}
	if len(blocks.BlockSet) == 0 {
		line(s.Text(fallback))
		return b.String()
	}
	for _, bl := range blocks.BlockSet {
		switch v := bl.(type) {
		case *slack.HeaderBlock:
			line(s.Bold(s.Text(v.Text.Text)))
		case *slack.SectionBlock:
			if v.Text != nil {
				line(s.Text(v.Text.Text))
			}
			for _, f := range v.Fields {
				line(s.Text(f.Text))
			}
		case *slack.ContextBlock:
			for _, el := range v.ContextElements.Elements {
				if t, ok := el.(*slack.TextBlockObject); ok {
					line(s.Dim(s.Text(t.Text)))
				}
			}
		case *slack.ImageBlock:
			line(s.Dim("[image: " + v.AltText + "]"))
		case *slack.DividerBlock:
			line(s.Dim(strings.Repeat("─", 40)))
		case *slack.ActionBlock:
			var buttons []string
			for _, el := range v.Elements.ElementSet {
				switch x := el.(type) {
				case *slack.ButtonBlockElement:
					buttons = append(buttons, s.Accent("[ "+x.Text.Text+" ]"))
				case *slack.SelectBlockElement:
					if x.Placeholder != nil {
						buttons = append(buttons, s.Accent("[ "+x.Placeholder.Text+" ▾ ]"))
					}
				case *slack.OverflowBlockElement:
					buttons = append(buttons, s.Accent("[ … ]"))
				}
			}
			if len(buttons) > 0 {
				line(strings.Join(buttons, " "))
			}
		default:
			line(s.Dim(fmt.Sprintf("[%s block]", bl.BlockType())))
		}
	}
	return b.String()
}
