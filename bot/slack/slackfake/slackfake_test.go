package slackfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/slabot/slabot/bot/slack/slackfake"
)

func newFake(t *testing.T, opts ...slackfake.Option) (*slackfake.Server, *slack.Client) {
	t.Helper()
	fake := slackfake.New(opts...)
	t.Cleanup(fake.Close)
	api := slack.New(slackfake.BotToken,
		slack.OptionAPIURL(fake.APIURL()),
		slack.OptionAppLevelToken(slackfake.AppToken))
	return fake, api
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func slackErr(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

func TestPostMessageToUserLandsInDMWithMetadata(t *testing.T) {
	fake, api := newFake(t)
	fake.AddUser(slackfake.User{ID: "U100", Name: "anna", RealName: "Anna A", Email: "anna@example.com"})
	ctx := ctxT(t, 5*time.Second)

	md := slack.SlackMetadata{EventType: "lead_handoff", EventPayload: map[string]any{"lead_id": "L-42"}}
	btn := slack.NewButtonBlockElement("claim", "L-42", slack.NewTextBlockObject("plain_text", "Claim", false, false))
	ch, ts, err := api.PostMessageContext(ctx, "U100",
		slack.MsgOptionText("new lead", false),
		slack.MsgOptionBlocks(slack.NewActionBlock("acts", btn)),
		slack.MsgOptionMetadata(md))
	if err != nil {
		t.Fatal(err)
	}
	if dm := fake.DMChannel("U100"); ch != dm || !strings.HasPrefix(ch, "D") {
		t.Fatalf("posted to %q, want DM %q", ch, dm)
	}

	msgs := fake.Messages("U100")
	if len(msgs) != 1 || msgs[0].TS != ts || msgs[0].Metadata == nil ||
		msgs[0].Metadata.EventType != "lead_handoff" || msgs[0].Metadata.EventPayload["lead_id"] != "L-42" {
		t.Fatalf("stored messages = %+v", msgs)
	}
	blocks, err := msgs[0].DecodeBlocks()
	if err != nil || len(blocks.BlockSet) != 1 {
		t.Fatalf("blocks = %v, %v", blocks, err)
	}

	hist, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: ch, IncludeAllMetadata: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist.Messages) != 1 || hist.Messages[0].Metadata.EventType != "lead_handoff" ||
		hist.Messages[0].Metadata.EventPayload["lead_id"] != "L-42" || hist.Messages[0].Timestamp != ts {
		t.Fatalf("history = %+v", hist.Messages)
	}
	// Without include_all_metadata Slack leaves metadata out.
	hist, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch})
	if err != nil {
		t.Fatal(err)
	}
	if hist.Messages[0].Metadata.EventType != "" {
		t.Fatalf("metadata returned without include_all_metadata: %+v", hist.Messages[0].Metadata)
	}

	// conversations.open gives the same stable DM.
	c, _, already, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U100"}})
	if err != nil || c.ID != ch || !already {
		t.Fatalf("open = %+v %v %v", c, already, err)
	}
}

func TestHistoryPaging(t *testing.T) {
	fake, api := newFake(t)
	fake.AddChannel("C200", "smarketing")
	ctx := ctxT(t, 5*time.Second)
	var tss []string
	for i := 0; i < 5; i++ {
		// Names resolve like Slack: "#name" and "name" both work.
		target := "#smarketing"
		if i%2 == 1 {
			target = "smarketing"
		}
		ch, ts, err := api.PostMessageContext(ctx, target, slack.MsgOptionText("m", false))
		if err != nil || ch != "C200" {
			t.Fatalf("post: %q %v", ch, err)
		}
		tss = append(tss, ts)
	}
	h, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C200", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 2 || h.Messages[0].Timestamp != tss[4] || h.Messages[1].Timestamp != tss[3] || !h.HasMore {
		t.Fatalf("newest first with limit: %+v", h)
	}
	h, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: "C200", Oldest: tss[1], Latest: tss[3]})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 1 || h.Messages[0].Timestamp != tss[2] {
		t.Fatalf("oldest/latest exclusive: %+v", h.Messages)
	}
	h, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: "C200", Oldest: tss[1], Latest: tss[3], Inclusive: true})
	if err != nil || len(h.Messages) != 3 {
		t.Fatalf("inclusive: %+v %v", h, err)
	}
	if n := fake.MaxPostsInWindow("smarketing", time.Second); n != 5 {
		t.Fatalf("MaxPostsInWindow = %d", n)
	}
}

func TestUsers(t *testing.T) {
	fake, api := newFake(t)
	fake.AddUser(slackfake.User{ID: "U1", Name: "anna", Email: "Anna@Example.com", TZ: "Europe/Berlin", TZOffset: 3600})
	fake.AddUser(slackfake.User{ID: "U2", Name: "bob", Email: "bob@example.com"})
	fake.DeactivateUser("U2")
	ctx := ctxT(t, 5*time.Second)

	u, err := api.GetUserByEmailContext(ctx, "anna@example.com")
	if err != nil || u.ID != "U1" || u.TZ != "Europe/Berlin" || u.TZOffset != 3600 || u.Profile.Email != "Anna@Example.com" {
		t.Fatalf("lookup = %+v, %v", u, err)
	}
	if _, err := api.GetUserByEmailContext(ctx, "nobody@example.com"); slackErr(err) != "users_not_found" {
		t.Fatalf("unknown email: %v", err)
	}
	if _, err := api.GetUserByEmailContext(ctx, "bob@example.com"); slackErr(err) != "users_not_found" {
		t.Fatalf("deactivated email: %v", err)
	}
	if u, err := api.GetUserInfoContext(ctx, "U2"); err != nil || !u.Deleted {
		t.Fatalf("info = %+v, %v", u, err)
	}
	all, err := api.GetUsersContext(ctx, slack.GetUsersOptionLimit(2))
	if err != nil || len(all) != 3 { // bot + 2, over two pages
		t.Fatalf("users.list = %d, %v", len(all), err)
	}
}

func TestAuthUnknownMethodAndInjectedErrors(t *testing.T) {
	fake, api := newFake(t)
	ctx := ctxT(t, 5*time.Second)
	if _, err := api.AuthTestContext(ctx); err != nil {
		t.Fatal(err)
	}
	bad := slack.New("xoxb-wrong", slack.OptionAPIURL(fake.APIURL()))
	if _, err := bad.AuthTestContext(ctx); slackErr(err) != "invalid_auth" {
		t.Fatalf("bad token: %v", err)
	}
	appOnly := slack.New(slackfake.AppToken, slack.OptionAPIURL(fake.APIURL()))
	if _, err := appOnly.AuthTestContext(ctx); slackErr(err) != "not_allowed_token_type" {
		t.Fatalf("app token on web api: %v", err)
	}
	// Any method slack-go can call; the fake does not implement reactions.
	if err := api.AddReactionContext(ctx, "tada", slack.ItemRef{Channel: "C1", Timestamp: "1.0"}); slackErr(err) != "unknown_method" {
		t.Fatalf("unknown method: %v", err)
	}
	if len(fake.Calls("reactions.add")) != 1 {
		t.Fatal("unknown method not recorded")
	}
	fake.InjectError("auth.test", "fatal_error", 1)
	if _, err := api.AuthTestContext(ctx); slackErr(err) != "fatal_error" {
		t.Fatalf("injected: %v", err)
	}
	if _, err := api.AuthTestContext(ctx); err != nil {
		t.Fatalf("after injection: %v", err)
	}
}

func TestRateLimitInjection(t *testing.T) {
	fake, api := newFake(t)
	fake.AddChannel("C1", "general")
	ctx := ctxT(t, 5*time.Second)
	fake.InjectRateLimit("chat.postMessage", 1, 7*time.Second)
	_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false))
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Fatalf("err = %#v", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false)); err != nil {
		t.Fatal(err)
	}
	calls := fake.Calls("chat.postMessage")
	if len(calls) != 2 || calls[0].Status != 429 || calls[0].Error != "ratelimited" || calls[1].Params.Get("text") != "hi" {
		t.Fatalf("calls = %+v", calls)
	}
	if len(fake.Messages("C1")) != 1 || len(fake.PostTimes("C1")) != 1 {
		t.Fatal("rate-limited post was stored")
	}

	fake.InjectRateLimitRatio(1, 0, 1)
	if _, err := api.AuthTestContext(ctx); !errors.As(err, &rl) || rl.RetryAfter != 0 {
		t.Fatalf("ratio: %v", err)
	}
	fake.ClearFaults()
	if _, err := api.AuthTestContext(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestBlockLimits(t *testing.T) {
	fake, api := newFake(t)
	fake.AddChannel("C1", "general")
	ctx := ctxT(t, 5*time.Second)
	long := strings.Repeat("x", 3001)
	_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionBlocks(
		slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", long, false, false), nil, nil)))
	if slackErr(err) != "invalid_blocks" {
		t.Fatalf("err = %v", err)
	}
}

func TestUploadFileV2(t *testing.T) {
	fake, api := newFake(t)
	fake.AddChannel("C300", "smarketing")
	ctx := ctxT(t, 5*time.Second)
	png := []byte("\x89PNG fake chart bytes")
	sum, err := api.UploadFileContext(ctx, slack.UploadFileParameters{
		Reader: strings.NewReader(string(png)), FileSize: len(png), Filename: "chart.png",
		Title: "Weekly leads", Channel: "C300", InitialComment: "This week",
	})
	if err != nil {
		t.Fatal(err)
	}
	files := fake.Files()
	if len(files) != 1 || files[0].ID != sum.ID || string(files[0].Content) != string(png) ||
		files[0].Title != "Weekly leads" || files[0].InitialComment != "This week" ||
		len(files[0].Channels) != 1 || files[0].Channels[0] != "C300" || !files[0].Completed {
		t.Fatalf("files = %+v", files)
	}
	msgs := fake.Messages("C300")
	if len(msgs) != 1 || msgs[0].Text != "This week" || len(msgs[0].Files) != 1 || msgs[0].Files[0] != sum.ID {
		t.Fatalf("share message = %+v", msgs)
	}
}

// bot runs slack-go's socketmode client against the fake and hands every
// event to handle on the event loop, as a real bot would.
type bot struct {
	api *slack.Client
	sm  *socketmode.Client
}

func startBot(t *testing.T, api *slack.Client, handle func(b *bot, ev socketmode.Event)) *bot {
	t.Helper()
	b := &bot{api: api, sm: socketmode.New(api)}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- b.sm.RunContext(ctx) }()
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		for {
			select {
			case ev := <-b.sm.Events:
				handle(b, ev)
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-runErr:
		case <-time.After(3 * time.Second):
			t.Error("socketmode client did not stop")
		}
		<-loopDone
	})
	return b
}

func TestSocketModeInteractiveAckAndResponseURL(t *testing.T) {
	fake, api := newFake(t)
	fake.AddUser(slackfake.User{ID: "U100", Name: "anna"})
	ctx := ctxT(t, 10*time.Second)

	var mu sync.Mutex
	var hellos int
	var got []slack.InteractionCallback
	startBot(t, api, func(b *bot, ev socketmode.Event) {
		switch ev.Type {
		case socketmode.EventTypeHello:
			mu.Lock()
			hellos++
			mu.Unlock()
		case socketmode.EventTypeInteractive:
			cb := ev.Data.(slack.InteractionCallback)
			mu.Lock()
			got = append(got, cb)
			mu.Unlock()
			b.sm.Ack(*ev.Request)
			// Replace the original message through response_url, as a
			// bot does after a claim.
			_, _, _, _ = b.api.SendMessageContext(context.Background(), cb.Channel.ID,
				slack.MsgOptionReplaceOriginal(cb.ResponseURL), slack.MsgOptionText("claimed by "+cb.User.ID, false))
		}
	})

	btn := slack.NewButtonBlockElement("claim", "L-42", slack.NewTextBlockObject("plain_text", "Claim", false, false))
	_, ts, err := api.PostMessageContext(ctx, "U100", slack.MsgOptionText("lead", false),
		slack.MsgOptionBlocks(slack.NewActionBlock("acts", btn)))
	if err != nil {
		t.Fatal(err)
	}
	msg, ok := fake.GetMessage("U100", ts)
	if !ok {
		t.Fatal("message not stored")
	}
	res, err := fake.ClickButton(ctx, "U100", msg, "claim", "")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Acked || res.Ack.Latency <= 0 || res.Envelope.Type != "interactive" {
		t.Fatalf("result = %+v", res)
	}
	if acks := fake.Acks(); len(acks) != 1 || acks[0].EnvelopeID != res.Envelope.EnvelopeID || !acks[0].Known {
		t.Fatalf("acks = %+v", acks)
	}
	mu.Lock()
	if hellos < 1 || len(got) != 1 {
		t.Fatalf("hellos=%d callbacks=%d", hellos, len(got))
	}
	cb := got[0]
	mu.Unlock()
	if cb.Type != slack.InteractionTypeBlockActions || len(cb.ActionCallback.BlockActions) != 1 ||
		cb.ActionCallback.BlockActions[0].ActionID != "claim" || cb.ActionCallback.BlockActions[0].Value != "L-42" ||
		cb.ActionCallback.BlockActions[0].BlockID != "acts" || cb.User.ID != "U100" ||
		cb.Container.MessageTs != ts || cb.Message.Timestamp != ts || cb.TriggerID == "" || cb.ResponseURL == "" {
		t.Fatalf("callback = %+v", cb)
	}
	m, err := fake.WaitForMessage(ctx, func(m slackfake.Message) bool { return m.TS == ts && m.Updates == 1 })
	if err != nil || m.Text != "claimed by U100" || len(fake.ResponseURLPosts()) != 1 {
		t.Fatalf("replace_original: %+v %v", m, err)
	}
}

func TestSocketModeReconnectsAfterDisconnectAndDrop(t *testing.T) {
	fake, api := newFake(t)
	fake.AddUser(slackfake.User{ID: "U100", Name: "anna"})
	ctx := ctxT(t, 10*time.Second)
	var mu sync.Mutex
	var events []slackevents.EventsAPIEvent
	startBot(t, api, func(b *bot, ev socketmode.Event) {
		if ev.Type == socketmode.EventTypeEventsAPI {
			mu.Lock()
			events = append(events, ev.Data.(slackevents.EventsAPIEvent))
			mu.Unlock()
			b.sm.Ack(*ev.Request)
		}
	})
	if err := fake.WaitForConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if n := fake.Disconnect("refresh_requested"); n != 1 {
		t.Fatalf("told %d connections", n)
	}
	res, err := fake.AppHomeOpened(ctx, "U100")
	if err != nil || !res.Acked {
		t.Fatalf("after disconnect: %+v %v", res, err)
	}
	if fake.ConnectCount() != 2 || res.Envelope.ConnID != 2 {
		t.Fatalf("connect count %d, delivered on %d", fake.ConnectCount(), res.Envelope.ConnID)
	}
	if fake.DropConnections() < 1 {
		t.Fatal("nothing dropped")
	}
	res, err = fake.AppHomeOpened(ctx, "U100")
	if err != nil || !res.Acked || fake.ConnectCount() != 3 {
		t.Fatalf("after drop: %+v %v count=%d", res, err, fake.ConnectCount())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 {
		t.Fatalf("events = %d", len(events))
	}
	inner, ok := events[1].InnerEvent.Data.(*slackevents.AppHomeOpenedEvent)
	if !ok || inner.User != "U100" || inner.Tab != "home" || inner.Channel != fake.DMChannel("U100") {
		t.Fatalf("inner = %#v", events[1].InnerEvent.Data)
	}
	for _, ci := range fake.ConnInfos() {
		if ci.PingsSent < 1 {
			t.Fatalf("no ping on connection %+v", ci)
		}
	}
}

func TestRedeliveryOfUnackedEvent(t *testing.T) {
	fake, api := newFake(t, slackfake.WithAckTimeout(150*time.Millisecond), slackfake.WithRedelivery(2))
	fake.AddUser(slackfake.User{ID: "U100", Name: "anna"})
	ctx := ctxT(t, 10*time.Second)
	startBot(t, api, func(b *bot, ev socketmode.Event) {
		// Lose the first delivery, as a crashed replica would.
		if ev.Type == socketmode.EventTypeEventsAPI && ev.Request.RetryAttempt > 0 {
			b.sm.Ack(*ev.Request)
		}
	})
	res, err := fake.AppHomeOpened(ctx, "U100")
	if err != nil || res.Attempts != 2 || res.Envelope.RetryAttempt != 1 || res.Envelope.RetryReason != "timeout" {
		t.Fatalf("res = %+v, %v", res, err)
	}
	envs := fake.Envelopes()
	if len(envs) != 2 || envs[0].EnvelopeID == envs[1].EnvelopeID || string(envs[0].Payload) != string(envs[1].Payload) {
		t.Fatalf("envelopes = %+v", envs)
	}
}

func TestSlashCommandModalSubmit(t *testing.T) {
	fake, api := newFake(t)
	fake.AddUser(slackfake.User{ID: "U100", Name: "anna"})
	fake.AddChannel("C1", "sales")
	ctx := ctxT(t, 10*time.Second)
	submitted := make(chan slack.InteractionCallback, 1)
	startBot(t, api, func(b *bot, ev socketmode.Event) {
		switch ev.Type {
		case socketmode.EventTypeSlashCommand:
			cmd := ev.Data.(slack.SlashCommand)
			b.sm.Ack(*ev.Request, map[string]any{"text": "opening form"})
			input := slack.NewInputBlock("reason",
				slack.NewTextBlockObject("plain_text", "Reason", false, false), nil,
				slack.NewPlainTextInputBlockElement(nil, "reason_input"))
			_, err := b.api.OpenViewContext(context.Background(), cmd.TriggerID, slack.ModalViewRequest{
				Type: slack.VTModal, CallbackID: "release",
				Title:  slack.NewTextBlockObject("plain_text", "Release lead", false, false),
				Submit: slack.NewTextBlockObject("plain_text", "Release", false, false),
				Blocks: slack.Blocks{BlockSet: []slack.Block{input}},
			})
			if err != nil {
				t.Errorf("views.open: %v", err)
			}
		case socketmode.EventTypeInteractive:
			cb := ev.Data.(slack.InteractionCallback)
			b.sm.Ack(*ev.Request)
			submitted <- cb
		}
	})
	res, err := fake.SlashCommand(ctx, "U100", "#sales", "/leads", "release L-42")
	if err != nil || !res.Acked {
		t.Fatalf("slash: %+v %v", res, err)
	}
	if _, err := fake.WaitForMessage(ctx, func(m slackfake.Message) bool {
		return m.Ephemeral && m.To == "U100" && m.Text == "opening form" && m.Channel == "C1"
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.WaitForCall(ctx, "views.open", func(c slackfake.Call) bool { return c.Error == "" }); err != nil {
		t.Fatal(err)
	}
	views := fake.OpenViews("U100")
	if len(views) != 1 || views[0].CallbackID != "release" {
		t.Fatalf("open views = %+v", views)
	}
	if _, err := fake.SubmitView(ctx, "U100", views[0], map[string]map[string]any{
		"reason": {"reason_input": "duplicate"}}); err != nil {
		t.Fatal(err)
	}
	cb := <-submitted
	if cb.Type != slack.InteractionTypeViewSubmission || cb.View.CallbackID != "release" ||
		cb.View.State.Values["reason"]["reason_input"].Value != "duplicate" {
		t.Fatalf("submission = %+v", cb.View.State)
	}
	if len(fake.OpenViews("U100")) != 0 {
		t.Fatal("modal still open after empty ack")
	}
}

func TestUnackedInteractiveTimesOut(t *testing.T) {
	fake, api := newFake(t, slackfake.WithAckTimeout(100*time.Millisecond), slackfake.WithRedelivery(3))
	fake.AddUser(slackfake.User{ID: "U100", Name: "anna"})
	ctx := ctxT(t, 5*time.Second)
	startBot(t, api, func(*bot, socketmode.Event) {})
	btn := slack.NewButtonBlockElement("claim", "v", slack.NewTextBlockObject("plain_text", "Claim", false, false))
	_, ts, err := api.PostMessageContext(ctx, "U100", slack.MsgOptionBlocks(slack.NewActionBlock("a", btn)))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := fake.GetMessage("U100", ts)
	// Interactive envelopes are never redelivered, whatever WithRedelivery says.
	res, err := fake.ClickButton(ctx, "U100", m, "claim", "")
	if !errors.Is(err, slackfake.ErrNotAcked) || res.Attempts != 1 {
		t.Fatalf("res = %+v, %v", res, err)
	}
}

func TestHomePublishAndJSONBodies(t *testing.T) {
	fake, api := newFake(t)
	fake.AddUser(slackfake.User{ID: "U100", Name: "anna"})
	ctx := ctxT(t, 5*time.Second)
	_, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U100", View: slack.HomeTabViewRequest{
		Type:   slack.VTHomeTab,
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewHeaderBlock(slack.NewTextBlockObject("plain_text", "My leads", false, false))}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	v, ok := fake.HomeView("U100")
	if !ok || v.Type != slack.VTHomeTab || len(v.Blocks.BlockSet) != 1 {
		t.Fatalf("home = %+v", v)
	}
	calls := fake.Calls("views.publish")
	var body map[string]json.RawMessage
	if len(calls) != 1 || json.Unmarshal(calls[0].JSON, &body) != nil || calls[0].Params.Get("user_id") != "U100" {
		t.Fatalf("call = %+v", calls)
	}
}

func TestChatUpdateEphemeralDeleteAndChannels(t *testing.T) {
	fake, api := newFake(t)
	fake.AddUser(slackfake.User{ID: "U1", Name: "anna"})
	fake.AddUser(slackfake.User{ID: "U2", Name: "bob"})
	fake.AddChannel("C1", "smarketing")
	fake.AddPrivateChannel("G1", "secret")
	fake.SetChannelMembers("C1", "U1")
	ctx := ctxT(t, 5*time.Second)

	ch, ts, err := api.PostMessageContext(ctx, "#smarketing", slack.MsgOptionText("v1 <@U1>", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "smarketing", ts, slack.MsgOptionText("v2", false)); slackErr(err) != "channel_not_found" {
		t.Fatalf("chat.update by name: %v", err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, ch, ts, slack.MsgOptionText("v2", false)); err != nil {
		t.Fatal(err)
	}
	m, _ := fake.GetMessage(ch, ts)
	if m.Text != "v2" || m.Updates != 1 || len(m.Edits) != 1 || m.Edits[0].Text != "v1 <@U1>" || m.Edits[0].ReplacedBy != "chat.update" {
		t.Fatalf("after update: %+v", m)
	}
	if _, err := api.PostEphemeralContext(ctx, ch, "U2", slack.MsgOptionText("psst", false)); slackErr(err) != "user_not_in_channel" {
		t.Fatalf("ephemeral to non-member: %v", err)
	}
	if _, err := api.PostEphemeralContext(ctx, ch, "U1", slack.MsgOptionText("psst", false)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.DeleteMessageContext(ctx, ch, ts); err != nil {
		t.Fatal(err)
	}
	h, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: ch})
	if err != nil || len(h.Messages) != 0 {
		t.Fatalf("history hides deleted and ephemeral: %+v %v", h, err)
	}
	msgs := fake.Messages(ch)
	if len(msgs) != 2 || !msgs[0].Deleted || !msgs[1].Ephemeral || msgs[1].To != "U1" {
		t.Fatalf("stored = %+v", msgs)
	}

	info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C1"})
	if err != nil || info.Name != "smarketing" || !info.IsChannel {
		t.Fatalf("info = %+v %v", info, err)
	}
	all, err := api.GetAllConversationsContext(ctx, slack.GetConversationsOptionLimit(1),
		slack.GetConversationsOptionTypes([]string{"public_channel", "private_channel"}))
	if err != nil || len(all) != 2 {
		t.Fatalf("list = %+v %v", all, err)
	}
}

func TestPacingLatencyAndChannelRateLimit(t *testing.T) {
	fake, api := newFake(t, slackfake.WithChannelRateLimit(1, 2))
	fake.AddChannel("C1", "general")
	ctx := ctxT(t, 5*time.Second)
	fake.SetLatency(50 * time.Millisecond)
	start := time.Now()
	var rl *slack.RateLimitedError
	for i := 0; i < 3; i++ {
		_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false))
		if i < 2 && err != nil {
			t.Fatal(err)
		}
		if i == 2 && (!errors.As(err, &rl) || rl.RetryAfter != time.Second) {
			t.Fatalf("third post in burst: %v", err)
		}
	}
	if time.Since(start) < 150*time.Millisecond {
		t.Fatal("latency not applied")
	}
	if n := fake.MaxPostsInWindow("C1", time.Second); n != 2 {
		t.Fatalf("MaxPostsInWindow = %d", n)
	}
}

func TestMultipleConnectionsAndDebugURL(t *testing.T) {
	fake, api := newFake(t)
	fake.AddUser(slackfake.User{ID: "U1", Name: "anna"})
	ctx := ctxT(t, 5*time.Second)
	ack := func(b *bot, ev socketmode.Event) {
		if ev.Request != nil && ev.Request.EnvelopeID != "" {
			b.sm.Ack(*ev.Request)
		}
	}
	startBot(t, api, ack)
	// A second replica with debug on: slack-go then adds
	// debug_reconnects=true to the URL, which must still dial.
	api2 := slack.New(slackfake.BotToken, slack.OptionAPIURL(fake.APIURL()),
		slack.OptionAppLevelToken(slackfake.AppToken), slack.OptionDebug(true),
		slack.OptionLog(discardLogger{}))
	startBot(t, api2, ack)
	if err := fake.WaitForConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for i := 0; i < 4; i++ {
		res, err := fake.SendEvent(ctx, map[string]any{"type": "app_mention", "user": "U1", "text": "hi", "channel": "C1"})
		if err != nil || !res.Acked {
			t.Fatalf("event %d: %+v %v", i, res, err)
		}
		seen[res.Envelope.ConnID] = true
	}
	if len(seen) != 2 {
		t.Fatalf("envelopes went to connections %v, want both", seen)
	}
}

type discardLogger struct{}

func (discardLogger) Output(int, string) error { return nil }

func TestClientReconnectsWithoutPings(t *testing.T) {
	fake, api := newFake(t, slackfake.WithPingInterval(0))
	ctx := ctxT(t, 5*time.Second)
	sm := socketmode.New(api, socketmode.OptionPingInterval(100*time.Millisecond))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sm.RunContext(runCtx)
	}()
	go func() {
		for {
			select {
			case <-sm.Events:
			case <-runCtx.Done():
				return
			}
		}
	}()
	defer func() { cancel(); <-done }()
	// slack-go's dead-man timer gives up on a connection that sees no
	// WebSocket ping within its interval and dials again.
	if err := fake.WaitForConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for fake.ConnectCount() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("client did not reconnect without pings")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestATypedMessageIsDeliveredOnlyToASubscribedAppWithTheScope(t *testing.T) {
	for _, tt := range []struct {
		name      string
		opts      []slackfake.Option
		delivered bool
	}{
		{"Subscribed", []slackfake.Option{slackfake.WithEvents("message.im")}, true},
		{"NotSubscribed", nil, false},
		{"WithoutImHistory", []slackfake.Option{slackfake.WithEvents("message.im"), slackfake.WithBotScopes("chat:write")}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake, api := newFake(t, tt.opts...)
			fake.AddUser(slackfake.User{ID: "U100", Name: "anna"})
			ctx := ctxT(t, 10*time.Second)
			var mu sync.Mutex
			var events []slackevents.EventsAPIEvent
			startBot(t, api, func(b *bot, ev socketmode.Event) {
				if ev.Type == socketmode.EventTypeEventsAPI {
					mu.Lock()
					events = append(events, ev.Data.(slackevents.EventsAPIEvent))
					mu.Unlock()
					b.sm.Ack(*ev.Request)
				}
			})
			if err := fake.WaitForConnections(ctx, 1); err != nil {
				t.Fatal(err)
			}
			res, m, err := fake.TypeInDM(ctx, "U100", "leads")
			if err != nil || m.Text != "leads" || m.Channel != fake.DMChannel("U100") {
				t.Fatalf("TypeInDM = %+v, %v", m, err)
			}
			if !tt.delivered {
				if res.Attempts != 0 || len(fake.Envelopes()) != 0 {
					t.Errorf("an app without the subscription or im:history was sent %+v", fake.Envelopes())
				}
				return
			}
			if !res.Acked {
				t.Fatalf("not acknowledged: %+v", res)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(events) != 1 {
				t.Fatalf("%d events", len(events))
			}
			inner, ok := events[0].InnerEvent.Data.(*slackevents.MessageEvent)
			if !ok || inner.User != "U100" || inner.Text != "leads" || inner.ChannelType != "im" ||
				inner.Channel != fake.DMChannel("U100") || inner.TimeStamp != m.TS || inner.SubType != "" || inner.BotID != "" {
				t.Fatalf("inner = %#v", events[0].InnerEvent.Data)
			}
		})
	}
}
