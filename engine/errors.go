package engine

import (
	"errors"
	"fmt"
)

// Error codes say what kind of failure happened, so that one place (the HTTP
// layer, the Slack layer) decides what the user sees.
const (
	ECONFLICT  = "conflict"
	EINTERNAL  = "internal"
	EINVALID   = "invalid"
	ENOTFOUND  = "not_found"
	EFORBIDDEN = "forbidden"
	// EUNAVAILABLE means the database did not answer in time or refused
	// the connection: nothing was decided, and the same request may be
	// sent again in a few seconds.
	EUNAVAILABLE = "unavailable"
)

// Error is a failure with a code and a message meant for the person who
// caused it. Internal errors carry their cause in Err and a generic message.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err: the message of its
// *Error, or a generic one for internal errors so no detail leaks.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return "Something went wrong on our side; it has been logged. Please try again in a minute."
}
