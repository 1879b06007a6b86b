package engine

import "time"

// Chat platforms slabot can serve (SLABOT_CHAT).
const (
	PlatformSlack = "slack"
	PlatformTeams = "teams"
)

// ChatIdentity is who a person (a rep or a manager, by email) is on one
// chat platform, so a message can reach them without a directory lookup.
type ChatIdentity struct {
	Platform string
	Email    string
	// UserID is the platform's id of the person: a Slack user id, or the
	// Entra object id on Teams.
	UserID string
	// ConversationID, ServiceURL and TenantID reach the person's 1:1
	// conversation on Teams (empty on Slack, where a DM is opened by user).
	ConversationID string
	ServiceURL     string
	TenantID       string
	TimeZone       string
	Name           string
}

// MessageRef is a message slabot posted about a lead: where it is on its
// platform (opaque to everything but that platform's adapter) and what it
// is, so it can be redrawn in place and a resend after a crash recognised.
type MessageRef struct {
	ID     int64
	LeadID int64
	// Kind says what the message is: card, reminder, escalation.
	Kind string
	// Recipient is the email of the person it was sent to, or the channel
	// it was posted in.
	Recipient    string
	Platform     string
	Conversation string
	MessageID    string
	// AssignedAt is the assignment of the lead the message belongs to.
	AssignedAt time.Time
	// EventID is the event an escalation is about (0 for other kinds).
	EventID int64
	// QuietAt is when the message lost its buttons because its lead moved
	// on (zero while it has them).
	QuietAt time.Time
}
