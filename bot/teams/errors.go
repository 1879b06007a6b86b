package teams

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/slabot/slabot/engine"
)

// Errors of the connector and Graph clients, matched with errors.Is.
var (
	// ErrNotInstalled: Teams answered 403 because the app is not installed
	// for the person (ForbiddenOperationException, or a 403 without a
	// code slabot knows). Install it through Graph and try again.
	ErrNotInstalled = errors.New("teams: app not installed for the person")
	// ErrWritesBlocked: Teams refused a write to a person's chat with the
	// subCode MessageWritesBlocked, which means they uninstalled slabot or
	// blocked it. It also matches ErrNotInstalled: an install through
	// Graph tells the two apart (409: it is installed, so they blocked it).
	ErrWritesBlocked = errors.New("teams: message writes to the conversation are blocked")
	// ErrBlocked: the person blocked slabot (ConversationBlockedByUser) or
	// the tenant's admin disabled it for them (BotDisabledByAdmin). Teams
	// asks bots to stop writing until the person writes to the bot.
	ErrBlocked = errors.New("teams: the person blocked slabot")
	// ErrNotInRoster: slabot is no longer in the conversation
	// (BotNotInConversationRoster): removed from the team, or uninstalled
	// from a chat. Teams asks bots to wait for the installationUpdate that
	// adds it again. It also matches ErrNotInstalled.
	ErrNotInRoster = errors.New("teams: slabot is not in the conversation's roster")
	// ErrMessageTooLarge: Teams refused an activity as too large (413
	// MessageSizeTooBig): send a smaller one, never the same one again.
	ErrMessageTooLarge = errors.New("teams: message too large for Teams")
	// ErrConversationNotFound: the conversation or activity is gone (404).
	ErrConversationNotFound = errors.New("teams: conversation or activity not found")
	// ErrUnknownPerson: Graph does not know the email (404).
	ErrUnknownPerson = errors.New("teams: no such person in the directory")
	// ErrAppNotInCatalog: the app is not in the organisation's app catalog.
	ErrAppNotInCatalog = errors.New("teams: app not found in the organisation's app catalog")
)

// Error codes of the Bot Connector that slabot acts on, as Microsoft lists
// them under "Status codes from bot conversational APIs"
// (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/conversation-messages#status-codes-from-bot-conversational-apis)
// and, for MessageWritesBlocked, a subCode inside the message of a 403
// (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/send-proactive-messages#understand-who-blocked-muted-or-uninstalled-a-bot).
const (
	CodeMessageWritesBlocked        = "MessageWritesBlocked"
	CodeConversationBlockedByUser   = "ConversationBlockedByUser"
	CodeBotDisabledByAdmin          = "BotDisabledByAdmin"
	CodeBotNotInConversationRoster  = "BotNotInConversationRoster"
	CodeForbiddenOperationException = "ForbiddenOperationException"
	CodeMessageSizeTooBig           = "MessageSizeTooBig"
)

// APIError is a failed connector or Graph call.
type APIError struct {
	Method string
	// Path is the request path without the service URL (no personal data
	// beyond ids).
	Path   string
	Status int
	Code   string
	// SubCode is the connector's subCode (MessageWritesBlocked), which it
	// sends inside the message.
	SubCode string
	Message string
	kind    error
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("teams: %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.SubCode != "" {
		msg += " " + e.SubCode
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Unwrap returns the typed error the status maps to, if any.
func (e *APIError) Unwrap() error { return e.kind }

// TransientError marks a failure that the same call may survive when it is
// made again later (a 429 without Retry-After, 412, 502, 503, 504 and other
// 5xx). It is returned as it is, not as an engine.RetryError: the job
// queue retries it with its own growing, jittered backoff, and each retry
// counts against the job's attempts, so a failure that lasts ends.
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return "transient: " + e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// IsRetryable reports whether err is worth retrying: a TransientError or
// an engine.RetryError (429 with Retry-After).
func IsRetryable(err error) bool {
	var t *TransientError
	var r *engine.RetryError
	return errors.As(err, &t) || errors.As(err, &r)
}

// Retry is what an answer asks of the caller.
type Retry int

const (
	// NoRetry: the same call fails again (4xx); do something else.
	NoRetry Retry = iota
	// RetryAfterWait: Teams said when (429 with Retry-After): wait that
	// long; the wait does not use up one of the job's attempts.
	RetryAfterWait
	// RetryWithBackoff: try again later with exponential backoff and
	// jitter, a bounded number of times (the job queue's retries).
	RetryWithBackoff
)

func (r Retry) String() string {
	switch r {
	case RetryAfterWait:
		return "retry after the wait Teams asked for"
	case RetryWithBackoff:
		return "retry with backoff"
	}
	return "do not retry"
}

// RetryOf decides what a failed answer asks for, from its status and its
// Retry-After header. Teams: retry 412, 502, 503 and 504 with exponential
// backoff, 429 after Retry-After or else with exponential backoff
// (conversation-messages#status-codes-retry-guidance, link above); Graph
// likewise for 429 (https://learn.microsoft.com/graph/throttling). Other
// 5xx are retried with backoff too: Microsoft lists 500 as not worth
// retrying, but a bounded number of tries costs little and a hand-off card
// dropped on one 500 costs a lead.
func RetryOf(status int, retryAfterHeader string, now time.Time) (Retry, time.Duration) {
	switch {
	case status == http.StatusTooManyRequests:
		if wait, ok := retryAfter(retryAfterHeader, now); ok {
			return RetryAfterWait, wait
		}
		return RetryWithBackoff, 0
	case status == http.StatusPreconditionFailed, status >= 500:
		return RetryWithBackoff, 0
	}
	return NoRetry, 0
}

// responseError turns a non-2xx answer into the error callers match:
// 429 with Retry-After → engine.RetryAfter; 429 without it, 412 and 5xx →
// TransientError; 413 → ErrMessageTooLarge; 404 → notFound; 403 → by its
// code (connector: blocked, not in the roster, not installed).
func responseError(resp *http.Response, method, path string, connector bool, notFound error, now time.Time) error {
	apiErr := &APIError{Method: method, Path: path, Status: resp.StatusCode}
	apiErr.Code, apiErr.SubCode, apiErr.Message = decodeErrorBody(resp.Body)
	switch retry, wait := RetryOf(resp.StatusCode, resp.Header.Get("Retry-After"), now); retry {
	case RetryAfterWait:
		return engine.RetryAfter(wait, apiErr)
	case RetryWithBackoff:
		return &TransientError{Err: apiErr}
	}
	switch {
	case resp.StatusCode == http.StatusRequestEntityTooLarge:
		apiErr.kind = ErrMessageTooLarge
	case resp.StatusCode == http.StatusForbidden && connector:
		apiErr.kind = forbiddenKind(apiErr.Code, apiErr.SubCode)
	case resp.StatusCode == http.StatusNotFound && notFound != nil:
		apiErr.kind = notFound
	}
	return apiErr
}

// forbiddenKind reads a connector's 403. Every kind but ErrBlocked also
// matches ErrNotInstalled: slabot is not (or no longer) there, and in a
// person's chat an install through Graph may put it back.
func forbiddenKind(code, subCode string) error {
	switch {
	case subCode == CodeMessageWritesBlocked || code == CodeMessageWritesBlocked:
		return errors.Join(ErrWritesBlocked, ErrNotInstalled)
	case code == CodeConversationBlockedByUser, code == CodeBotDisabledByAdmin:
		return ErrBlocked
	case code == CodeBotNotInConversationRoster:
		return errors.Join(ErrNotInRoster, ErrNotInstalled)
	}
	return ErrNotInstalled
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date;
// false when there is none or it cannot be read.
func retryAfter(header string, now time.Time) (time.Duration, bool) {
	header = strings.TrimSpace(header)
	if header == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(header, 64); err == nil && secs >= 0 {
		return max(time.Duration(secs*float64(time.Second)), 100*time.Millisecond), true
	}
	if at, err := http.ParseTime(header); err == nil {
		return max(at.Sub(now), 100*time.Millisecond), true
	}
	return 0, false
}

// decodeErrorBody reads the error bodies Microsoft sends: the Bot
// Framework's and Graph's {"error":{"code","message"}}, and the
// connector's {"errorCode":209,"message":"{\"subCode\":\"MessageWritesBlocked\",…}"}
// (send-proactive-messages, link above), whose message is itself JSON.
func decodeErrorBody(body io.Reader) (code, subCode, message string) {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"message"`
		SubCode string `json:"subCode"`
	}
	data, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	if json.Unmarshal(data, &e) != nil {
		return "", "", ""
	}
	code, message, subCode = e.Error.Code, e.Error.Message, e.SubCode
	if message == "" {
		message = e.Message
	}
	var inner struct {
		SubCode string `json:"subCode"`
		Details string `json:"details"`
	}
	if trimmed := strings.TrimSpace(message); strings.HasPrefix(trimmed, "{") && json.Unmarshal([]byte(trimmed), &inner) == nil {
		if subCode == "" {
			subCode = inner.SubCode
		}
		message = inner.Details
	}
	return code, subCode, firstLine(message)
}
