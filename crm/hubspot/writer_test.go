package hubspot

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

// TestWhatAHubSpotFailureDoesToTheJob is the table of retry decisions that
// need no database: a wait HubSpot names is kept, other retryable answers
// go to the queue's backoff, the rest give the write up.
func TestWhatAHubSpotFailureDoesToTheJob(t *testing.T) {
	t.Parallel()
	w := &Writer{}
	cases := []struct {
		name      string
		err       error
		wantAfter time.Duration // a RetryAfter of this long
		wantPlain bool          // an ordinary error: the queue's backoff
		wantDrop  bool
	}{
		{"429 with Retry-After", &APIError{Status: 429, RetryAfter: 3 * time.Second}, 3 * time.Second, false, false},
		{"429 without Retry-After backs off", &APIError{Status: 429}, 0, true, false},
		{"the daily limit waits an hour", &APIError{Status: 429, Daily: true, RetryAfter: time.Hour}, time.Hour, false, false},
		{"423 Locked with Retry-After", &APIError{Status: http.StatusLocked, RetryAfter: 10 * time.Second}, 10 * time.Second, false, false},
		{"477 Migration in Progress with Retry-After", &APIError{Status: 477, RetryAfter: time.Minute}, time.Minute, false, false},
		{"477 without Retry-After backs off", &APIError{Status: 477}, 0, true, false},
		{"502 backs off", &APIError{Status: 502}, 0, true, false},
		{"no answer backs off", errors.New("connection reset"), 0, true, false},
		{"400 gives up", &APIError{Status: 400}, 0, false, true},
		{"404 gives up", &APIError{Status: 404}, 0, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := w.failed(context.Background(), engine.CRMEventArgs{}, c.err)
			var re *engine.RetryError
			isRetry := errors.As(got, &re)
			switch {
			case c.wantAfter > 0:
				if !isRetry || re.After != c.wantAfter {
					t.Fatalf("%v; want a retry after %s", got, c.wantAfter)
				}
			case c.wantPlain:
				if isRetry || engine.IsDropped(got) || !errors.Is(got, c.err) {
					t.Fatalf("%v; want the error itself, for the queue's backoff", got)
				}
			case c.wantDrop:
				if !engine.IsDropped(got) {
					t.Fatalf("%v; want the write given up", got)
				}
			}
		})
	}
}

func TestRetryAfterIsReadOnlyFromTheHeaderHubSpotSent(t *testing.T) {
	t.Parallel()
	resp := func(status int, h map[string]string) *http.Response {
		r := &http.Response{StatusCode: status, Header: http.Header{}}
		for k, v := range h {
			r.Header.Set(k, v)
		}
		return r
	}
	for _, c := range []struct {
		name string
		resp *http.Response
		body string
		want time.Duration
	}{
		{"423 with Retry-After", resp(423, map[string]string{"Retry-After": "7"}), "", 7 * time.Second},
		{"477 with Retry-After", resp(477, map[string]string{"Retry-After": "30"}), "", 30 * time.Second},
		{"429 with only the interval header", resp(429, map[string]string{"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}), `{"policyName":"SECONDLY"}`, 0},
		{"the daily limit", resp(429, nil), `{"policyName":"DAILY"}`, time.Hour},
		{"a 500 with Retry-After is a 5xx", resp(500, map[string]string{"Retry-After": "9"}), "", 0},
	} {
		if got := apiError(c.resp, []byte(c.body)).RetryAfter; got != c.want {
			t.Errorf("%s: RetryAfter %s, want %s", c.name, got, c.want)
		}
	}
}
