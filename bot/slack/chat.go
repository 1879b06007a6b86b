package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/pace"
	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// postMargin is the time a post needs after its turn: a turn later than
// the job's deadline less this is left for a later run of the job.
const postMargin = 5 * time.Second

// Chat is slabot's way of talking on Slack: it finds people, posts and
// redraws views in their DMs and in channels, and finds a post an earlier
// attempt made (by the message metadata it carries), so a resend after a
// crash posts nothing twice. Posts to one channel are paced.
type Chat struct {
	api         *slack.Client
	pacer       *pace.Pacer
	logger      *slog.Logger
	sent        *prometheus.CounterVec
	rateLimited prometheus.Counter
	// afterPost lets a test stop the process between posting a card and
	// recording it, the moment a crash would cause a duplicate. It is set
	// before the Chat is used (see export_test.go) and nil otherwise.
	afterPost func(leadID int64)
}

// ChatConfig wires a Chat.
type ChatConfig struct {
	API    *slack.Client
	Logger *slog.Logger
	// Registry receives the Web API metrics; nil registers none.
	Registry prometheus.Registerer
	// PaceInterval and PaceBurst pace posts per channel (default one a
	// second with bursts of three, Slack's guidance for chat.postMessage).
	PaceInterval time.Duration
	PaceBurst    int
}

// NewChat returns a Chat for a Web API client.
func NewChat(cfg ChatConfig) *Chat {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PaceInterval <= 0 {
		cfg.PaceInterval = time.Second
	}
	if cfg.PaceBurst <= 0 {
		cfg.PaceBurst = 3
	}
	c := &Chat{
		api: cfg.API, pacer: pace.New(pace.Limits{Interval: cfg.PaceInterval, Burst: cfg.PaceBurst, DeadlineMargin: postMargin}, nil), logger: cfg.Logger,
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "slabot", Subsystem: "slack",
			Name: "messages_total", Help: "Slack messages posted or updated, by kind."}, []string{"kind"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "slabot", Subsystem: "slack",
			Name: "rate_limited_total", Help: "Web API calls Slack answered with 429 (retried after its Retry-After, or with the job queue's backoff without one)."}),
	}
	if cfg.Registry != nil {
		cfg.Registry.MustRegister(c.sent, c.rateLimited)
	}
	return c
}

// Platform is engine.PlatformSlack.
func (c *Chat) Platform() string { return engine.PlatformSlack }

// FindPerson looks a person up in the workspace by email:
// engine.ErrUnreachable when nobody has it or their account is deactivated.
func (c *Chat) FindPerson(ctx context.Context, email string) (engine.ChatIdentity, error) {
	u, err := c.api.GetUserByEmailContext(ctx, email)
	if err != nil {
		if strings.Contains(err.Error(), "users_not_found") {
			return engine.ChatIdentity{}, engine.Unreachable("no active Slack account has that email")
		}
		return engine.ChatIdentity{}, c.Error("users.lookupByEmail", err)
	}
	if u.Deleted {
		return engine.ChatIdentity{}, engine.Unreachable("no active Slack account: it is deactivated")
	}
	return engine.ChatIdentity{Platform: engine.PlatformSlack, Email: email, UserID: u.ID, TimeZone: u.TZ, Name: u.RealName}, nil
}

// FindPersonByID looks a Slack user up by id; ENOTFOUND, in words for
// people, when Slack knows no such user.
func (c *Chat) FindPersonByID(ctx context.Context, userID string) (engine.ChatIdentity, error) {
	u, err := c.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		if strings.Contains(err.Error(), "user_not_found") {
			return engine.ChatIdentity{}, engine.Errorf(engine.ENOTFOUND, "I can't find that person in Slack.")
		}
		return engine.ChatIdentity{}, c.Error("users.info", err)
	}
	return engine.ChatIdentity{Platform: engine.PlatformSlack, Email: strings.ToLower(u.Profile.Email), UserID: u.ID,
		TimeZone: u.TZ, Name: u.RealName}, nil
}

// Terms are Slack's words for the core's sentences about it.
func (c *Chat) Terms() bot.Terms {
	return bot.Terms{Name: "Slack", PickPerson: "pick the person from the list Slack shows as you type @, so the name becomes a link",
		Channel: "#smarketing"}
}

// ImagesInline is false: a Slack message shows no picture from bytes, so a
// picture is posted after its message, as an uploaded file.
func (c *Chat) ImagesInline() bool { return false }

// PublishHome publishes a person's App Home tab.
func (c *Chat) PublishHome(ctx context.Context, person engine.ChatIdentity, m view.Message) error {
	blocks, _ := Blocks(m)
	if len(blocks) > maxHomeBlocks {
		blocks = blocks[:maxHomeBlocks]
	}
	req := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}, CallbackID: "slabot.home"}
	if _, err := c.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: person.UserID, View: req}); err != nil {
		return c.Error("views.publish", err)
	}
	c.sent.WithLabelValues("home").Inc()
	return nil
}

// maxHomeBlocks is the most blocks a Home tab may have.
const maxHomeBlocks = 100

// Post posts a message and returns where it landed. The post carries key
// in its metadata, for FindPosted. A message that is only a picture is
// uploaded as a file to the channel.
func (c *Chat) Post(ctx context.Context, to engine.Destination, m view.Message, key engine.PostKey) (engine.MessageRef, error) {
	channel, err := c.conversation(ctx, to)
	if err != nil {
		return engine.MessageRef{}, err
	}
	if img, ok := onlyImage(m); ok {
		return c.upload(ctx, to, channel, img, key)
	}
	blocks, fallback := Blocks(m)
	if err := c.pacer.Wait(ctx, channel); err != nil {
		return engine.MessageRef{}, err
	}
	opts := []slack.MsgOption{slack.MsgOptionText(fallback, false), slack.MsgOptionMetadata(metadata(key))}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	postedTo, ts, err := c.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return engine.MessageRef{}, c.Error("chat.postMessage", err)
	}
	c.sent.WithLabelValues(key.Kind).Inc()
	if c.afterPost != nil && key.Kind == "card" {
		c.afterPost(key.LeadID)
	}
	return key.Ref(engine.PlatformSlack, to, postedTo, ts), nil
}

// FindPosted looks through the destination's recent history for a post
// carrying key; false when there is none.
func (c *Chat) FindPosted(ctx context.Context, to engine.Destination, key engine.PostKey) (engine.MessageRef, bool, error) {
	channel, err := c.conversation(ctx, to)
	if err != nil {
		return engine.MessageRef{}, false, err
	}
	if to.Person == nil {
		// History takes channel ids, and the policy names channels.
		id, err := c.ChannelID(ctx, channel)
		if err != nil {
			return engine.MessageRef{}, false, err
		}
		if id == "" {
			return engine.MessageRef{}, false, nil // not a channel slabot is in: it was never posted there
		}
		channel = id
	}
	want := metadata(key)
	ts, err := c.FindInHistory(ctx, channel, func(m slack.Message) bool { return sameKey(m.Metadata, want) })
	if err != nil || ts == "" {
		return engine.MessageRef{}, false, err
	}
	return key.Ref(engine.PlatformSlack, to, channel, ts), true, nil
}

func onlyImage(m view.Message) (view.Image, bool) {
	if len(m.Blocks) != 1 {
		return view.Image{}, false
	}
	img, ok := m.Blocks[0].(view.Image)
	return img, ok
}

// upload shares a picture in a channel (an id: the v2 upload takes no
// names), as its own post; the file's id is the post's id.
func (c *Chat) upload(ctx context.Context, to engine.Destination, channel string, img view.Image, key engine.PostKey) (engine.MessageRef, error) {
	if !looksLikeChannelID(channel) {
		id, err := c.ChannelID(ctx, channel)
		if err != nil {
			return engine.MessageRef{}, err
		}
		if id == "" {
			return engine.MessageRef{}, engine.DropJob(fmt.Errorf("slack: no channel %q to upload a picture to: invite slabot to it", channel))
		}
		channel = id
	}
	if err := c.pacer.Wait(ctx, channel); err != nil {
		return engine.MessageRef{}, err
	}
	name := img.Name
	if name == "" {
		name = "chart.png"
	}
	f, err := c.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Reader: bytes.NewReader(img.PNG), FileSize: len(img.PNG), Filename: name,
		Title: img.Title, AltTxt: img.Alt, Channel: channel,
	})
	if err != nil {
		return engine.MessageRef{}, c.Error("files.uploadV2", err)
	}
	c.sent.WithLabelValues(key.Kind).Inc()
	return key.Ref(engine.PlatformSlack, to, channel, f.ID), nil
}

// Update redraws a message in place: engine.ErrMessageGone when it was
// deleted or slabot may no longer edit it.
func (c *Chat) Update(ctx context.Context, ref engine.MessageRef, m view.Message) error {
	blocks, fallback := Blocks(m)
	_, _, _, err := c.api.UpdateMessageContext(ctx, ref.Conversation, ref.MessageID,
		slack.MsgOptionBlocks(blocks...), slack.MsgOptionText(fallback, false))
	if err != nil {
		if goneForGood(err) {
			return fmt.Errorf("chat.update: %w: %w", engine.ErrMessageGone, err)
		}
		return c.Error("chat.update", err)
	}
	c.sent.WithLabelValues(ref.Kind + "_update").Inc()
	return nil
}

// Error turns a Web API failure into a job error. A 429 with Retry-After
// (Slack sends the header with its 429s:
// https://docs.slack.dev/apis/web-api/rate-limits) waits as long as it
// asks: a wait Slack set, not a failure, so it uses none of the job's
// attempts. A 429 without the header and a 5xx are failures, never
// retried in place: they go back to the job queue, whose backoff
// (exponential with jitter, bounded per queue) counts them against the
// job's attempts. Anything else fails the same way, with Slack's error.
func (c *Chat) Error(what string, err error) error {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		c.rateLimited.Inc()
		return engine.RetryAfter(max(rl.RetryAfter, 100*time.Millisecond), fmt.Errorf("%s: %w", what, err))
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) && (sc.Code == http.StatusTooManyRequests || sc.Code >= http.StatusInternalServerError) {
		if sc.Code == http.StatusTooManyRequests {
			c.rateLimited.Inc()
		}
		return fmt.Errorf("%s: Slack answered %d; the job queue retries it with backoff: %w", what, sc.Code, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// conversation is the channel to post to: a person's DM (opened once per
// post: Slack answers with the same id) or the channel as named.
func (c *Chat) conversation(ctx context.Context, to engine.Destination) (string, error) {
	if to.Person == nil {
		return to.Channel, nil
	}
	ch, _, _, err := c.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{to.Person.UserID}, ReturnIM: true})
	if err != nil {
		return "", c.Error("conversations.open", err)
	}
	return ch.ID, nil
}

// Metadata event types that mark slabot's posts. Cards carry their lead
// and assignment (as since the first release); other posts their job's key.
var metadataTypes = map[string]string{
	"card": "slabot_lead_card", "reminder": "slabot_reminder", "escalation": "slabot_escalation", "ops_alert": "slabot_alert",
	"report": "slabot_weekly_report",
}

func metadata(key engine.PostKey) slack.SlackMetadata {
	typ := metadataTypes[key.Kind]
	if typ == "" {
		typ = "slabot_" + key.Kind
	}
	if key.Kind == "card" {
		return slack.SlackMetadata{EventType: typ, EventPayload: map[string]any{
			"lead_id":     strconv.FormatInt(key.LeadID, 10),
			"assigned_at": strconv.FormatInt(key.AssignedAt.UnixMicro(), 10),
		}}
	}
	if key.Kind == "report" {
		// As the first releases tagged a report: its week, and the slot
		// of a scheduled one (the key is "week@slot").
		week, slot, _ := strings.Cut(key.Key, "@")
		payload := map[string]any{"week": week}
		if slot != "" {
			payload["slot"] = slot
		}
		return slack.SlackMetadata{EventType: typ, EventPayload: payload}
	}
	payload := map[string]any{"key": key.Key}
	if key.LeadID != 0 {
		payload["lead_id"] = strconv.FormatInt(key.LeadID, 10)
	}
	return slack.SlackMetadata{EventType: typ, EventPayload: payload}
}

// sameKey reports whether a message's metadata names the same post.
func sameKey(got, want slack.SlackMetadata) bool {
	if got.EventType != want.EventType {
		return false
	}
	for _, field := range []string{"lead_id", "assigned_at", "key", "slot"} {
		w, ok := want.EventPayload[field]
		if ok && fmt.Sprint(got.EventPayload[field]) != fmt.Sprint(w) {
			return false
		}
	}
	return true
}

// historyPages bounds how far back a resend looks for an earlier post:
// five pages of 100 messages, far more than a retry's few minutes produce.
const historyPages = 5

// FindInHistory is the one check before a resend: it pages through a
// conversation's recent history for a message that match accepts,
// returning its ts or "". Only an app that may not read the conversation
// (a missing scope: installed from an older manifest, or a channel it may
// post to but not read) posts without the check, since a rare duplicate
// beats a message never sent; any other failure (a 5xx, a timeout) is
// retried, as posting then could double a message that went out before a
// crash.
func (c *Chat) FindInHistory(ctx context.Context, channel string, match func(slack.Message) bool) (string, error) {
	cursor := ""
	for range historyPages {
		hist, err := c.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: channel, Limit: 100, Cursor: cursor, IncludeAllMetadata: true})
		if err != nil {
			if cannotRead(err) {
				c.logger.Warn("cannot read a conversation to check for an earlier post; posting", "channel", channel, "err", err)
				return "", nil
			}
			return "", c.Error("conversations.history", err)
		}
		for _, m := range hist.Messages {
			if match(m) {
				return m.Timestamp, nil
			}
		}
		if !hist.HasMore || hist.ResponseMetaData.NextCursor == "" {
			break
		}
		cursor = hist.ResponseMetaData.NextCursor
	}
	return "", nil
}

// cannotRead reports whether Slack refused a history read for good: the
// app lacks the scope, or may not read that conversation at all.
func cannotRead(err error) bool {
	return hasCode(err, "missing_scope", "not_allowed_token_type", "not_in_channel", "channel_not_found")
}

// goneForGood reports whether Slack refused an update for good: the
// message or its channel is gone, or the app may no longer edit it.
func goneForGood(err error) bool {
	return hasCode(err, "message_not_found", "cant_update_message", "channel_not_found", "is_archived", "not_in_channel")
}

func hasCode(err error, codes ...string) bool {
	for _, code := range codes {
		if strings.Contains(err.Error(), code) {
			return true
		}
	}
	return false
}

// ChannelID turns a channel as the policy names it, a name or an id, into
// an id: conversations.history takes ids only. "" when no channel slabot
// can see has the name.
func (c *Chat) ChannelID(ctx context.Context, channel string) (string, error) {
	if looksLikeChannelID(channel) {
		return channel, nil
	}
	name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(channel), "#"))
	params := &slack.GetConversationsParameters{ExcludeArchived: true, Limit: 200, Types: []string{"public_channel", "private_channel"}}
	for {
		chans, cursor, err := c.api.GetConversationsContext(ctx, params)
		if err != nil {
			return "", c.Error("conversations.list", err)
		}
		for _, ch := range chans {
			if strings.EqualFold(ch.Name, name) {
				return ch.ID, nil
			}
		}
		if cursor == "" {
			return "", nil
		}
		params.Cursor = cursor
	}
}

// looksLikeChannelID: Slack's ids are a C, G or D and upper-case letters
// and digits; channel names are lower case.
func looksLikeChannelID(s string) bool {
	if len(s) < 2 || !strings.ContainsRune("CGD", rune(s[0])) {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
