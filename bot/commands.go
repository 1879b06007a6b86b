package bot

import (
	"context"
	"encoding/json"

	"github.com/slack-go/slack"
)

// onSlashCommand answers /sla through the command's response_url.
func (b *Bot) onSlashCommand(ctx context.Context, cmd slack.SlashCommand) error {
	text := "*slabot* keeps the Sales–Marketing SLA. New leads arrive in your DMs with buttons to acknowledge, log touches, snooze or return them."
	return b.respond(ctx, cmd.ResponseURL, text)
}

// respond posts a private answer to a response_url.
func (b *Bot) respond(ctx context.Context, responseURL, text string) error {
	if responseURL == "" {
		return nil
	}
	msg := &slack.WebhookMessage{Text: text, ResponseType: slack.ResponseTypeEphemeral}
	if err := slack.PostWebhookContext(ctx, responseURL, msg); err != nil {
		return b.slackError("response_url", err)
	}
	return nil
}

// onEvent handles Events API deliveries (the App Home).
func (b *Bot) onEvent(ctx context.Context, body []byte) error {
	var outer struct {
		Event json.RawMessage `json:"event"`
	}
	_ = json.Unmarshal(body, &outer)
	return nil
}
