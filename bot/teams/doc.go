// Package teams speaks the Microsoft Teams (Bot Framework) protocol for
// slabot: it verifies the JWT on every inbound activity, decodes activities
// and answers invokes at POST /api/messages, obtains outbound
// client-credentials tokens, calls the Bot Connector (create a 1:1 chat,
// send, update in place, list a team's channels) at a paced rate, looks
// people up and installs the app through Microsoft Graph, and models
// Adaptive Cards 1.5 as plain Go values.
//
// It is the transport only: it knows nothing of leads, reps or views. The
// Teams adapter of the chat port renders views with the types here and
// implements ActivityHandler. Subpackage teamsfake is a Microsoft-compatible
// fake server that this package's clients talk to unchanged in tests.
//
// There is no Bot Framework SDK for Go; the shapes follow Microsoft's
// Bot Connector REST reference and the Teams platform documentation.
package teams
