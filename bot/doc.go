// Package bot is slabot's chat side, whatever the platform: what to tell
// whom and when (the hand-off card, reminders, escalations, ops alerts, the
// home view, the weekly report, answers to /sla), who may see which
// figures and do what, and the durable jobs that send it all and record
// what was sent.
//
// What the bot says is a view (package view): data, not markup. A platform
// adapter implements Chat to show views and reach people, and turns what
// people do into calls of Act, FormFor and Answer:
//
//	bot/slack   Slack: Socket Mode, Block Kit, modals, the App Home
//	bot/teams   Microsoft Teams: the Bot Framework endpoint, Adaptive Cards
//
// The engine decides; this package never imports storage or a platform's
// SDK.
package bot
