package bot

import (
	"context"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slack-go/slack"

	slackui "github.com/slabot/slabot/bot/slack"
	"github.com/slabot/slabot/bot/view"
)

// The Slack side of views still built in this package; they move to
// bot/slack with the adapter.

const (
	maxHeader   = slackui.MaxHeader
	maxFallback = slackui.MaxFallback
)

// slackMessage renders a view as Block Kit and its fallback text.
func slackMessage(m view.Message) ([]slack.Block, string) { return slackui.Blocks(m) }

// slackActions renders an actions row as a Block Kit block.
func slackActions(a view.Actions) slack.Block {
	blocks, _ := slackui.Blocks(view.Message{Blocks: []view.Block{a}})
	if len(blocks) == 0 {
		return nil
	}
	return blocks[0]
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.ReplaceAll(line, "*", "")
}

// pacer and sentCounter let the Slack calls still made in this package
// pace and count through the adapter, which paces and counts its own.
type pacer struct{ chat *slackui.Chat }

func (p *pacer) wait(ctx context.Context, channel string) error { return p.chat.Pace(ctx, channel) }

type sentCounter struct{ chat *slackui.Chat }

func (s sentCounter) WithLabelValues(kind string) prometheus.Counter { return s.chat.Counter(kind) }

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}
