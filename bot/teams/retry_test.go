package teams_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/teams"
)

// TestRetryOf is the decision every connector and Graph failure goes
// through: only a 429 that says when waits in place (uncounted); the
// other failures Microsoft asks to retry go to the job queue's
// exponential backoff, counted against the job's attempts; the rest are
// not retried.
func TestRetryOf(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		status int
		header string
		want   teams.Retry
		wait   time.Duration
	}{
		{"429 with seconds", http.StatusTooManyRequests, "3", teams.RetryAfterWait, 3 * time.Second},
		{"429 with a fraction", http.StatusTooManyRequests, "0.5", teams.RetryAfterWait, 500 * time.Millisecond},
		{"429 with zero waits a little", http.StatusTooManyRequests, "0", teams.RetryAfterWait, 100 * time.Millisecond},
		{"429 with an HTTP date", http.StatusTooManyRequests, now.Add(90 * time.Second).Format(http.TimeFormat), teams.RetryAfterWait, 90 * time.Second},
		{"429 without Retry-After", http.StatusTooManyRequests, "", teams.RetryWithBackoff, 0},
		{"429 with an unreadable Retry-After", http.StatusTooManyRequests, "soon", teams.RetryWithBackoff, 0},
		{"412", http.StatusPreconditionFailed, "", teams.RetryWithBackoff, 0},
		{"500", http.StatusInternalServerError, "", teams.RetryWithBackoff, 0},
		{"502", http.StatusBadGateway, "", teams.RetryWithBackoff, 0},
		{"503 even with Retry-After", http.StatusServiceUnavailable, "5", teams.RetryWithBackoff, 0},
		{"504", http.StatusGatewayTimeout, "", teams.RetryWithBackoff, 0},
		{"507", http.StatusInsufficientStorage, "", teams.RetryWithBackoff, 0},
		{"400", http.StatusBadRequest, "", teams.NoRetry, 0},
		{"403", http.StatusForbidden, "", teams.NoRetry, 0},
		{"404", http.StatusNotFound, "", teams.NoRetry, 0},
		{"409", http.StatusConflict, "", teams.NoRetry, 0},
		{"413", http.StatusRequestEntityTooLarge, "", teams.NoRetry, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, wait := teams.RetryOf(tc.status, tc.header, now)
			if got != tc.want || wait != tc.wait {
				t.Errorf("RetryOf(%d, %q) = %v, %v; want %v, %v", tc.status, tc.header, got, wait, tc.want, tc.wait)
			}
		})
	}
}
