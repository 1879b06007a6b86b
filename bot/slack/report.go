package slack

import (
	"strings"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot"
)

// The weekly report on Slack: its figures as Block Kit, and those blocks
// as plain text for `slabot report --dry-run`. The chart goes beside the
// message as an uploaded file (Chat.Post).

// RenderReport renders the report's figures as Block Kit (at most a dozen
// blocks) and the notification text.
func RenderReport(v bot.ReportView) ([]slack.Block, string) { return Blocks(bot.ReportFigures(v)) }

// ReportText is the report as plain text, for `slabot report --dry-run`.
func ReportText(blocks []slack.Block) string {
	var out []string
	for _, bl := range blocks {
		switch v := bl.(type) {
		case *slack.HeaderBlock:
			out = append(out, strings.ToUpper(v.Text.Text))
		case *slack.SectionBlock:
			if v.Text != nil {
				out = append(out, v.Text.Text)
			}
		case *slack.ContextBlock:
			for _, el := range v.ContextElements.Elements {
				if t, ok := el.(*slack.TextBlockObject); ok {
					out = append(out, t.Text)
				}
			}
		case *slack.DividerBlock:
			out = append(out, strings.Repeat("─", 40))
		}
	}
	text := strings.Join(out, "\n\n")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if len(l) > 2 && strings.HasPrefix(l, "_") && strings.HasSuffix(l, "_") {
			lines[i] = l[1 : len(l)-1]
		}
	}
	text = strings.Join(lines, "\n")
	return strings.NewReplacer("*", "", "&amp;", "&", "&lt;", "<", "&gt;", ">",
		":large_green_circle:", "●", ":large_yellow_circle:", "◐", ":red_circle:", "○",
		":mega:", "»", ":handshake:", "»", ":busts_in_silhouette:", "»", ":spiral_calendar_pad:", "»",
		":calendar:", "»", ":white_check_mark:", "✓", ":warning:", "!").Replace(text) + "\n"
}
