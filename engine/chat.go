package engine

import (
	"errors"
	"fmt"
	"time"
)

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

// Destination is where a message goes: a person's 1:1 chat with slabot
// (Person set), or a channel as the policy names it.
type Destination struct {
	Person  *ChatIdentity
	Channel string
}

// String names the destination for logs: the channel, or the person's id
// on the platform (never their email).
func (d Destination) String() string {
	if d.Person != nil {
		return "user " + d.Person.UserID
	}
	return d.Channel
}

// PostKey names a post so that a resend after a crash can find the one
// that went out: what kind of message it is, the lead and assignment it is
// about, and a key unique to the post (the job's).
type PostKey struct {
	Kind       string
	LeadID     int64
	AssignedAt time.Time
	Key        string
}

// Ref is what slabot records of the post named k once it is on platform,
// as messageID in conversation: the recipient is the person's email, or
// the channel as the policy names it.
func (k PostKey) Ref(platform string, to Destination, conversation, messageID string) MessageRef {
	recipient := to.Channel
	if to.Person != nil {
		recipient = to.Person.Email
	}
	return MessageRef{Platform: platform, LeadID: k.LeadID, Kind: k.Kind, Recipient: recipient,
		Conversation: conversation, MessageID: messageID, AssignedAt: k.AssignedAt}
}

// UnreachableError says why a person cannot be reached on the chat
// platform (no account, deactivated, the app cannot be installed for
// them); it is ErrUnreachable.
type UnreachableError struct{ Reason string }

func (e *UnreachableError) Error() string        { return e.Reason }
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// Unreachable returns an UnreachableError with the reason, in words for
// the people an alert goes to.
func Unreachable(format string, args ...any) error {
	return &UnreachableError{Reason: fmt.Sprintf(format, args...)}
}

// Errors a chat platform's adapter answers with, besides RetryAfter.
var (
	// ErrUnreachable: the person has no active account on the platform,
	// or slabot cannot start a chat with them.
	ErrUnreachable = errors.New("not reachable on the chat platform")
	// ErrMessageGone: the message to redraw was deleted, or its
	// conversation closed to slabot, for good.
	ErrMessageGone = errors.New("the message is gone")
)

// ChatPost is a post an adapter recorded around its send, on a platform
// where it cannot look for it afterwards: SentAt is zero while the post
// may or may not have gone out.
type ChatPost struct {
	Platform     string
	Key          string
	Conversation string
	MessageID    string
	SentAt       time.Time
}

// ChatChannel is a channel slabot may post to, as the platform told it
// (Teams: the channels of the teams slabot was added to).
type ChatChannel struct {
	Platform   string
	ID         string
	Name       string
	TeamID     string
	TeamName   string
	ServiceURL string
	TenantID   string
}
