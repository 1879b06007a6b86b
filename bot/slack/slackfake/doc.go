// Package slackfake is a Slack-compatible fake server for tests and the demo.
//
// It is an httptest server that the real slack-go client (package slack) and
// its Socket Mode client (package socketmode) talk to unchanged:
//
//	fake := slackfake.New()
//	defer fake.Close()
//	api := slack.New(slackfake.BotToken,
//		slack.OptionAPIURL(fake.APIURL()),
//		slack.OptionAppLevelToken(slackfake.AppToken))
//	sm := socketmode.New(api)
//
// The fake answers the Web API methods the bot uses (chat.*, conversations.*,
// users.*, views.*, the files v2 upload flow, auth.test and
// apps.connections.open), speaks Socket Mode on the ws:// URL it hands out
// (hello, envelopes, acks, WebSocket pings, disconnect), records everything,
// and lets a test inject rate limits, Slack errors, latency and dropped
// connections. It also plays the users: ClickButton, SubmitView, SlashCommand,
// AppHomeOpened, TypeInDM and EditInDM send the envelopes Slack would send and
// wait for the ack (the message events only to an app subscribed to
// message.im: WithEvents).
//
// The response shapes follow what Slack sends and what slack-go v0.35.0
// decodes; where Slack's behaviour is not documented the fake picks the
// stricter reading so that a bot which passes here does not lean on luck.
// All exported methods are safe for concurrent use.
package slackfake
