package webhook

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

// TestDecide is the table of what one attempt's answer does to a delivery:
// no database, only the decision.
func TestDecide(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	backoff := func(n int) time.Duration { return time.Duration(n) * 10 * time.Second }
	fail := errors.New("failed")
	cases := []struct {
		name      string
		res       Result
		n         int
		elapsed   time.Duration
		wantState string
		wantRetry time.Duration
	}{
		{"200 is delivered", Result{Status: 200}, 1, 0, engine.DeliveryDelivered, 0},
		{"204 is delivered", Result{Status: 204}, 3, time.Hour, engine.DeliveryDelivered, 0},
		{"a 302 is retried like any failure", Result{Status: 302, Err: fail}, 1, 0, engine.DeliveryPending, 10 * time.Second},
		{"a 308 past the window parks", Result{Status: 308, Err: fail}, 40, 25 * time.Hour, engine.DeliveryParked, 0},
		{"410 parks at once", Result{Status: 410, Err: fail}, 1, 0, engine.DeliveryParked, 0},
		{"500 backs off", Result{Status: 500, Err: fail}, 2, time.Minute, engine.DeliveryPending, 20 * time.Second},
		{"no answer backs off", Result{Err: fail}, 3, time.Minute, engine.DeliveryPending, 30 * time.Second},
		{"429 waits its Retry-After when longer", Result{Status: 429, RetryAfter: 90 * time.Second, Err: fail}, 1, 0, engine.DeliveryPending, 90 * time.Second},
		{"503 waits its Retry-After when longer", Result{Status: 503, RetryAfter: 2 * time.Minute, Err: fail}, 1, 0, engine.DeliveryPending, 2 * time.Minute},
		{"a short Retry-After does not shorten the backoff", Result{Status: 429, RetryAfter: time.Second, Err: fail}, 3, 0, engine.DeliveryPending, 30 * time.Second},
		{"a Retry-After of a day is capped at an hour", Result{Status: 503, RetryAfter: 24 * time.Hour, Err: fail}, 1, 0, engine.DeliveryPending, maxRetryAfter},
		{"a 429 past the window parks", Result{Status: 429, RetryAfter: time.Minute, Err: fail}, 50, DefaultWindow, engine.DeliveryParked, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := start.Add(c.elapsed)
			a, retry := Decide(c.res, c.n, now, start, DefaultWindow, backoff)
			if a.State != c.wantState || retry != c.wantRetry {
				t.Fatalf("state %s, retry in %s; want %s, %s", a.State, retry, c.wantState, c.wantRetry)
			}
			if a.Status != c.res.Status || !a.At.Equal(now) {
				t.Errorf("attempt %+v does not record the status %d at %s", a, c.res.Status, now)
			}
			switch c.wantState {
			case engine.DeliveryPending:
				if !a.NextAt.Equal(now.Add(c.wantRetry)) || a.Error == "" {
					t.Errorf("pending attempt %+v: want next at %s and the error", a, now.Add(c.wantRetry))
				}
			case engine.DeliveryParked:
				if !strings.Contains(a.Error, "parked") {
					t.Errorf("parked attempt's error %q does not say so", a.Error)
				}
			}
		})
	}
}

func TestRetryAfterReadsSecondsAndDates(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"120": 2 * time.Minute, " 5 ": 5 * time.Second, "": 0, "soon": 0, "-3": 0,
		now.Add(time.Minute).Format(http.TimeFormat):  time.Minute,
		now.Add(-time.Minute).Format(http.TimeFormat): 0,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("Retry-After %q: %s, want %s", in, got, want)
		}
	}
}

// TestErrorsNameTheEndpointByItsOriginOnly: Go's *url.Error carries the
// full address, which for Zapier, Make or n8n holds the hook's secret.
func TestErrorsNameTheEndpointByItsOriginOnly(t *testing.T) {
	t.Parallel()
	endpoint := "https://user:pw@hooks.zapier.com/hooks/catch/123/s3cr3t/?token=abc"
	err := &url.Error{Op: "Post", URL: endpoint, Err: errors.New("dial tcp: lookup hooks.zapier.com: no such host")}
	got := RedactError(err, endpoint)
	for _, secret := range []string{"s3cr3t", "token=abc", "pw@", "/hooks/catch"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q shows %q", got, secret)
		}
	}
	if !strings.Contains(got, "https://hooks.zapier.com") || !strings.Contains(got, "no such host") {
		t.Errorf("%q should name https://hooks.zapier.com and the cause", got)
	}
	if o := EndpointOrigin(endpoint); o != "https://hooks.zapier.com" {
		t.Errorf("origin %q", o)
	}
}
