package slack

import (
	"context"
	"encoding/json"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot"
)

// maxMessageBlocks is the most blocks a message may have.
const maxMessageBlocks = 50

// onSlashCommand answers /sla through the command's response_url,
// privately unless the user added "share".
func (a *App) onSlashCommand(ctx context.Context, cmd slack.SlashCommand) error {
	r := a.Answer(ctx, cmd.UserID, cmd.Command, cmd.Text)
	if err := a.postReply(ctx, cmd.ResponseURL, r); err != nil {
		return err
	}
	if r.After != nil {
		if err := r.After(ctx); err != nil {
			a.logger.Error("a command's follow-up failed", "command", cmd.Command, "err", err)
			return a.respond(ctx, cmd.ResponseURL, Mrkdwn(bot.FollowUpFailed(err)))
		}
	}
	return nil
}

// postReply posts an answer to a response_url, rendered as Block Kit.
func (a *App) postReply(ctx context.Context, responseURL string, r bot.Reply) error {
	if responseURL == "" {
		return nil
	}
	blocks, fallback := Blocks(r.Message)
	msg := &slack.WebhookMessage{Text: fallback, ResponseType: slack.ResponseTypeEphemeral}
	if r.Share {
		msg.ResponseType = slack.ResponseTypeInChannel
	}
	if len(blocks) > 0 {
		if len(blocks) > maxMessageBlocks {
			blocks = blocks[:maxMessageBlocks]
		}
		msg.Blocks = &slack.Blocks{BlockSet: blocks}
	}
	if err := slack.PostWebhookContext(ctx, responseURL, msg); err != nil {
		return a.chat.Error("response_url", err)
	}
	return nil
}

// respond posts a private answer, in mrkdwn, to a response_url.
func (a *App) respond(ctx context.Context, responseURL, text string) error {
	if responseURL == "" {
		return nil
	}
	msg := &slack.WebhookMessage{Text: text, ResponseType: slack.ResponseTypeEphemeral}
	if err := slack.PostWebhookContext(ctx, responseURL, msg); err != nil {
		return a.chat.Error("response_url", err)
	}
	return nil
}

// onEvent handles Events API deliveries (the App Home).
func (a *App) onEvent(ctx context.Context, body []byte) error {
	var outer struct {
		Event struct {
			Type string `json:"type"`
			User string `json:"user"`
			Tab  string `json:"tab"`
		} `json:"event"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		a.logger.Warn("ignoring an event slabot cannot read", "err", err)
		return nil
	}
	ev := outer.Event
	if ev.Type == "app_home_opened" && ev.User != "" && (ev.Tab == "home" || ev.Tab == "") {
		return a.OpenHome(ctx, ev.User)
	}
	return nil
}
