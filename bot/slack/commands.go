package slack

import (
	"context"
	"encoding/json"
	"html"
	"regexp"
	"strings"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// maxMessageBlocks is the most blocks a message may have.
const maxMessageBlocks = 50

// onSlashCommand answers /sla through the command's response_url,
// privately unless the user added "share".
func (a *App) onSlashCommand(ctx context.Context, cmd slack.SlashCommand) error {
	r := a.Answer(ctx, cmd.UserID, cmd.Command, CommandText(cmd.Text))
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

// slackEvent is what slabot reads of an Events API delivery
// (https://docs.slack.dev/reference/events/message.im/).
type slackEvent struct {
	Event struct {
		Type        string `json:"type"`
		Subtype     string `json:"subtype"`
		User        string `json:"user"`
		BotID       string `json:"bot_id"`
		Tab         string `json:"tab"`
		Channel     string `json:"channel"`
		ChannelType string `json:"channel_type"`
		Text        string `json:"text"`
		TS          string `json:"ts"`
		Hidden      bool   `json:"hidden"`
	} `json:"event"`
	Authorizations []struct {
		UserID string `json:"user_id"`
		IsBot  bool   `json:"is_bot"`
	} `json:"authorizations"`
}

// botUserID is slabot's own user id, as the delivery's authorization names it.
func (e *slackEvent) botUserID() string {
	for _, a := range e.Authorizations {
		if a.IsBot {
			return a.UserID
		}
	}
	return ""
}

// typedToSlabot reports whether the event is a message a person typed to
// slabot in its DM (message.im): not slabot's own posts (which carry its
// bot_id), nor another bot's, nor an edit, deletion or any other message
// with a subtype.
func (e *slackEvent) typedToSlabot() bool {
	ev := e.Event
	return ev.Type == "message" && ev.ChannelType == "im" && ev.Subtype == "" && !ev.Hidden && ev.BotID == "" &&
		ev.User != "" && ev.User != e.botUserID() && ev.Channel != "" && strings.TrimSpace(ev.Text) != ""
}

// worthRecording reports whether an Events API delivery has work in it:
// slabot's echo of its own DM posts, and edits, are acknowledged and
// dropped at once rather than queued.
func worthRecording(body []byte) bool {
	var e slackEvent
	if json.Unmarshal(body, &e) != nil {
		return true // the job says why it cannot be read
	}
	return e.Event.Type != "message" || e.typedToSlabot()
}

// onEvent handles Events API deliveries: the App Home opened, and messages
// typed to slabot in its DM.
func (a *App) onEvent(ctx context.Context, job engine.Job, body []byte) error {
	var e slackEvent
	if err := json.Unmarshal(body, &e); err != nil {
		a.logger.Warn("ignoring an event slabot cannot read", "err", err)
		return nil
	}
	ev := e.Event
	switch {
	case ev.Type == "app_home_opened" && ev.User != "" && (ev.Tab == "home" || ev.Tab == ""):
		return a.OpenHome(ctx, ev.User)
	case e.typedToSlabot():
		return a.answerDM(ctx, job, &e)
	}
	return nil
}

// answerDM answers a command typed in slabot's DM, in the DM: the same
// text /sla takes, with an optional leading "sla", "/sla" or mention of
// slabot. A retry first looks for the answer an earlier attempt posted.
func (a *App) answerDM(ctx context.Context, job engine.Job, e *slackEvent) error {
	to := engine.Destination{Channel: e.Event.Channel}
	key := engine.PostKey{Kind: "answer", Key: e.Event.TS}
	if job.Attempts > 1 {
		if _, found, err := a.chat.FindPosted(ctx, to, key); err != nil || found {
			return err
		}
	}
	r := a.Answer(ctx, e.Event.User, "sla", DMCommandText(e.Event.Text, e.botUserID()))
	if _, err := a.chat.Post(ctx, to, r.Message, key); err != nil {
		return err
	}
	if r.After != nil {
		if err := r.After(ctx); err != nil {
			a.logger.Error("a command's follow-up failed", "err", err)
			note := view.Message{Summary: engine.ErrorMessage(err), Blocks: []view.Block{view.Section{Lines: []view.Text{bot.FollowUpFailed(err)}}}}
			_, err = a.chat.Post(ctx, to, note, engine.PostKey{Kind: "answer_followup", Key: e.Event.TS})
			return err
		}
	}
	return nil
}

// DMCommandText turns a message typed to slabot into the text /sla takes:
// white space collapsed, a leading mention of slabot (<@botUserID>),
// "/sla" or "sla" dropped, and the rest as CommandText reads it.
// "sla status team week" → "status team week".
func DMCommandText(text, botUserID string) string {
	text = strings.TrimSpace(strings.Join(strings.Fields(text), " "))
	for {
		first, rest, _ := strings.Cut(text, " ")
		switch {
		case strings.EqualFold(first, "/sla"), strings.EqualFold(first, "sla"),
			botUserID != "" && (first == "<@"+botUserID+">" || strings.HasPrefix(first, "<@"+botUserID+"|")):
			text = strings.TrimSpace(rest)
			continue
		}
		return CommandText(text)
	}
}

var (
	mentionPattern = regexp.MustCompile(`<@([UW][A-Z0-9]+)(?:\|([^>]*))?>`)
	mailtoPattern  = regexp.MustCompile(`<mailto:([^|>]+)(?:\|[^>]*)?>`)
)

// CommandText is a command typed on Slack as the core's grammar reads it:
// each mention of a person (<@U123|ana>, or <@U123> without the name)
// the core's person token (bot.PersonToken), and each email Slack made a
// link of (<mailto:ana@example.com|ana@example.com>) the bare address.
// Marks of a person token someone typed are scrubbed first, so that only
// a mention becomes one.
func CommandText(text string) string {
	text = bot.ScrubPersonTokens(text)
	text = mentionPattern.ReplaceAllStringFunc(text, func(mention string) string {
		m := mentionPattern.FindStringSubmatch(mention)
		return bot.PersonToken(m[1], html.UnescapeString(m[2]))
	})
	return mailtoPattern.ReplaceAllString(text, "$1")
}
