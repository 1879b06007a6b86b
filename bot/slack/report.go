package slack

import (
	"strings"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/slack/transcript"
)

// The weekly report on Slack: its figures as Block Kit, and those blocks
// as plain text for `slabot report --dry-run`. The chart goes beside the
// message as an uploaded file (Chat.Post).

// RenderReport renders the report's figures as Block Kit (at most a dozen
// blocks) and the notification text.
func RenderReport(v bot.ReportView) ([]slack.Block, string) { return Blocks(bot.ReportFigures(v)) }

// ReportText is the report as plain text, for tests and benchmarks:
// the blocks as the demo's transcript shows a message, a blank line
// between them.
func ReportText(blocks []slack.Block) string {
	var parts []string
	for _, bl := range blocks {
		parts = append(parts, strings.TrimRight(transcript.Style{}.Blocks(slack.Blocks{BlockSet: []slack.Block{bl}}, "", ""), "\n"))
	}
	return strings.Join(parts, "\n\n") + "\n"
}
