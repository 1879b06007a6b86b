package teams

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/slabot/slabot/engine"
)

// Errors of the connector and Graph clients, matched with errors.Is.
var (
	// ErrNotInstalled: Teams answered 403 because the app is not installed
	// for the person (or the bot is no longer in the conversation).
	// Install it through Graph and try again.
	ErrNotInstalled = errors.New("teams: app not installed for the person")
	// ErrConversationNotFound: the conversation or activity is gone (404).
	ErrConversationNotFound = errors.New("teams: conversation or activity not found")
	// ErrUnknownPerson: Graph does not know the email (404).
	ErrUnknownPerson = errors.New("teams: no such person in the directory")
	// ErrAppNotInCatalog: the app is not in the organisation's app catalog.
	ErrAppNotInCatalog = errors.New("teams: app not found in the organisation's app catalog")
)

// APIError is a failed connector or Graph call.
type APIError struct {
	Method string
	// Path is the request path without the service URL (no personal data
	// beyond ids).
	Path    string
	Status  int
	Code    string
	Message string
	kind    error
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("teams: %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Unwrap returns the typed error the status maps to, if any.
func (e *APIError) Unwrap() error { return e.kind }

// TransientError marks a failure that the same call may survive when it is
// made again (412, 502, 504 and other 5xx).
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return "transient: " + e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// IsRetryable reports whether err is worth retrying: a TransientError or
// an engine.RetryError (429).
func IsRetryable(err error) bool {
	var t *TransientError
	var r *engine.RetryError
	return errors.As(err, &t) || errors.As(err, &r)
}

// DefaultBackoff is the wait after a 429 without Retry-After and after a
// transient failure.
const DefaultBackoff = 2 * time.Second

// responseError turns a non-2xx answer into the error callers match:
// 429 → engine.RetryAfter; 412/5xx → TransientError (wrapped in
// engine.RetryAfter too, so a job retries it soon); 404 →
// ErrConversationNotFound or notFound; 403 → forbidden (if non-nil).
func responseError(resp *http.Response, method, path string, forbidden, notFound error, now time.Time) error {
	apiErr := &APIError{Method: method, Path: path, Status: resp.StatusCode}
	apiErr.Code, apiErr.Message = decodeErrorBody(resp.Body)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return engine.RetryAfter(retryAfter(resp.Header.Get("Retry-After"), now), apiErr)
	case resp.StatusCode == http.StatusPreconditionFailed || resp.StatusCode >= 500:
		return engine.RetryAfter(DefaultBackoff, &TransientError{Err: apiErr})
	case resp.StatusCode == http.StatusForbidden && forbidden != nil:
		apiErr.kind = forbidden
	case resp.StatusCode == http.StatusNotFound && notFound != nil:
		apiErr.kind = notFound
	}
	return apiErr
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(header string, now time.Time) time.Duration {
	if header == "" {
		return DefaultBackoff
	}
	if secs, err := strconv.ParseFloat(header, 64); err == nil && secs >= 0 {
		return max(time.Duration(secs*float64(time.Second)), 100*time.Millisecond)
	}
	if at, err := http.ParseTime(header); err == nil {
		return max(at.Sub(now), 100*time.Millisecond)
	}
	return DefaultBackoff
}

// decodeErrorBody reads the {"error":{"code","message"}} body both the
// connector and Graph send.
func decodeErrorBody(body io.Reader) (code, message string) {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	data, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	if json.Unmarshal(data, &e) == nil {
		return e.Error.Code, firstLine(e.Error.Message)
	}
	return "", ""
}
