// Package teams is slabot's Microsoft Teams adapter. App receives what
// Teams sends to POST /api/messages (clicks on cards answered in place
// with the redrawn card, messages recorded as durable jobs and answered in
// the person's 1:1 chat, slabot installed or added to a team) and turns it
// into the bot's Actions and Answers; Chat implements the bot's chat port
// on the Bot Connector and Microsoft Graph (1:1 chats opened and the app
// installed when missing, posts recorded around their send, channels named
// "Team/Channel"); render.go draws views as Adaptive Cards 1.5.
//
// Beneath them is the protocol, spoken directly since there is no Bot
// Framework SDK for Go: the JWT check of every inbound activity
// (auth.go), client-credentials tokens (token.go), the connector at a
// paced rate (connector.go, pacer.go), Graph (graph.go) and Adaptive Cards
// as Go values (adaptive.go). Subpackage teamsfake is a Microsoft-compatible
// fake that all of it talks to unchanged in tests and the demo.
package teams
