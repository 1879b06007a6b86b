// Package bot is slabot's chat side for Slack: the Socket Mode loop, the
// hand-off card and its buttons, the modals, durable rate-limited sending,
// and the matching of reps to Slack users. It renders the engine's neutral
// notifications; the engine never calls Slack itself.
package bot
