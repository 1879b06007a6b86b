package slackfake

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Identity of the fake workspace and app. The tokens are what the fake
// accepts unless WithTokens says otherwise.
const (
	BotToken   = "xoxb-0000000001-0000000002-slackfakebottoken"
	AppToken   = "xapp-1-A0SLABOT01-0000000003-slackfakeapptoken"
	TeamID     = "T0SLABOT01"
	TeamDomain = "slabot-fake"
	TeamName   = "Slabot Fake"
	AppID      = "A0SLABOT01"
	BotID      = "B0SLABOT01"
	BotUserID  = "U0SLABOT01"
	BotName    = "slabot"

	// VerificationToken is the deprecated per-app token Slack still puts
	// into payloads; socketmode does not check it.
	VerificationToken = "slackfake-verification-token"
)

// Errors returned by the user-simulation helpers.
var (
	// ErrNotAcked: the bot did not ack the envelope within the ack timeout
	// (Slack's is 3 s) on any delivery attempt.
	ErrNotAcked = errors.New("slackfake: envelope not acked in time")
	// ErrNoConnection: no Socket Mode connection was open to deliver to.
	ErrNoConnection = errors.New("slackfake: no socket mode connection")
	// ErrClosed: the server has been closed.
	ErrClosed = errors.New("slackfake: server closed")
)

// User is a workspace member as the fake knows it.
type User struct {
	ID       string // "U…"
	Name     string // handle, e.g. "anna"
	RealName string
	Email    string
	TZ       string // IANA name; "UTC" when empty
	TZOffset int    // seconds east of UTC
	Deleted  bool   // deactivated
	IsBot    bool
	IsAdmin  bool
}

// Call is one recorded Web API request, successful or not.
type Call struct {
	Method string
	// Params holds form fields, query parameters and, for JSON bodies, the
	// top-level fields (strings as is, anything else as JSON text). The
	// token is left out.
	Params url.Values
	// JSON is the raw body when the client sent JSON (views.*, apps.connections.open).
	JSON json.RawMessage
	At   time.Time
	// Status is the HTTP status returned (200, 429 for rate limits, or an
	// injected server error such as 500).
	Status int
	// Error is the Slack error code returned, "" on success.
	Error string
	// Response is the JSON body returned.
	Response json.RawMessage
}

// Message is a message as stored by the fake: posted by the bot through
// chat.postMessage / chat.postEphemeral, a response_url, a slash-command ack
// or a file share.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string
	User     string // author; BotUserID for the bot
	BotID    string
	Text     string
	// Blocks is the JSON array as stored (Slack fills in missing block_ids).
	Blocks      json.RawMessage
	Attachments json.RawMessage
	// Metadata is nil when the message has none.
	Metadata *slack.SlackMetadata
	Files    []string // file IDs shared with the message
	// Ephemeral messages are visible only to To.
	Ephemeral bool
	To        string
	Deleted   bool
	// Updates counts chat.update / replace_original edits; Edits holds the
	// versions before each edit, oldest first.
	Updates   int
	Edits     []Edit
	PostedAt  time.Time
	UpdatedAt time.Time
	// Via names what created the message: "chat.postMessage",
	// "chat.postEphemeral", "response_url", "ack" or
	// "files.completeUploadExternal".
	Via string
}

// Edit is an earlier version of an edited message.
type Edit struct {
	ReplacedAt time.Time
	// ReplacedBy is what replaced it: "chat.update", "response_url" or
	// "typed" (the person edited what they typed).
	ReplacedBy string
	Text       string
	Blocks     json.RawMessage
}

// DecodeBlocks decodes Blocks into slack-go's block types.
func (m Message) DecodeBlocks() (slack.Blocks, error) {
	var b slack.Blocks
	if len(m.Blocks) == 0 {
		return b, nil
	}
	err := json.Unmarshal(m.Blocks, &b)
	return b, err
}

// ContainsText reports whether s occurs in the text or in any string in
// the blocks (texts, values, IDs), which is what most assertions want.
func (m Message) ContainsText(s string) bool {
	if strings.Contains(m.Text, s) {
		return true
	}
	var v any
	if json.Unmarshal(m.Blocks, &v) != nil {
		return false
	}
	return containsString(v, s)
}

func containsString(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, s)
	case []any:
		for _, e := range x {
			if containsString(e, s) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if containsString(e, s) {
				return true
			}
		}
	}
	return false
}

// File is an upload made through files.getUploadURLExternal and friends.
type File struct {
	ID          string
	Name        string // filename given to getUploadURLExternal
	Title       string
	AltText     string
	SnippetType string
	Length      int // length declared to getUploadURLExternal
	Content     []byte
	Uploaded    bool // bytes were posted to the upload URL
	Completed   bool // files.completeUploadExternal succeeded
	Channels    []string
	ThreadTS    string
	// InitialComment is the text shared with the file.
	InitialComment string
	CreatedAt      time.Time
}

// Envelope is one Socket Mode envelope as sent to a connection. A
// redelivery is a separate Envelope with a new EnvelopeID.
type Envelope struct {
	EnvelopeID             string
	Type                   string // events_api | slash_commands | interactive
	Payload                json.RawMessage
	AcceptsResponsePayload bool
	RetryAttempt           int
	RetryReason            string
	ConnID                 int
	SentAt                 time.Time
}

// Ack is one acknowledgement received from the bot.
type Ack struct {
	EnvelopeID string
	// Payload is nil when the ack carried none.
	Payload json.RawMessage
	At      time.Time
	// Latency is the time from sending the envelope to receiving the ack;
	// zero when the envelope ID is unknown.
	Latency time.Duration
	ConnID  int
	Known   bool // the envelope ID was one the fake sent
	// Late: received after the ack timeout; Slack has given up by then and
	// ignores it (no response payload is applied).
	Late bool
	// Duplicate: the envelope had already been acked.
	Duplicate bool
	// Dropped: the frame was 20 KB or more, which Slack silently drops.
	Dropped bool
	Size    int
}

// EnvelopeResult is what a user-simulation helper returns: the delivery
// that got acked (or the last one tried) and the ack.
type EnvelopeResult struct {
	Envelope Envelope
	Attempts int
	Acked    bool
	Ack      Ack
	// EventID is set for events_api envelopes.
	EventID string
	// TriggerID and ResponseURL are set when the payload carried them.
	TriggerID   string
	ResponseURL string
}

// ResponseURLPost is one POST the bot made to a response_url.
type ResponseURLPost struct {
	URL             string
	Origin          string // "block_actions" or "slash_command"
	User            string
	Channel         string
	MessageTS       string // the message the action came from, if any
	Body            json.RawMessage
	Text            string
	ResponseType    string
	ReplaceOriginal bool
	DeleteOriginal  bool
	At              time.Time
	Status          int // HTTP status the fake answered with
}

// ConnInfo describes one Socket Mode connection.
type ConnInfo struct {
	ID            int
	OpenedAt      time.Time
	ClosedAt      time.Time // zero while open
	Draining      bool      // told to disconnect
	PingsSent     int
	PongsReceived int
	ClientPings   int
}
