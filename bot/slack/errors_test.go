package slack_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	slackui "github.com/slabot/slabot/bot/slack"
	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

// TestWebAPIFailuresGoToTheQueuesBackoffAndRetryAfterIsHonoured is the
// rule for every Web API failure, pure: a 429 with Retry-After waits what
// Slack asked without using an attempt; a 429 without it and a 5xx are
// failures for the job queue's backoff, which counts them against the
// job's attempts; nothing is retried in place.
func TestWebAPIFailuresGoToTheQueuesBackoffAndRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		// wait is the Retry-After honoured; 0 means a failure counted by
		// the queue's backoff.
		wait time.Duration
	}{
		{"429WithRetryAfter", &slack.RateLimitedError{RetryAfter: 7 * time.Second}, 7 * time.Second},
		{"429WithRetryAfterZero", &slack.RateLimitedError{RetryAfter: 0}, 100 * time.Millisecond},
		{"429WithoutRetryAfter", slack.StatusCodeError{Code: http.StatusTooManyRequests, Status: "429 Too Many Requests"}, 0},
		{"500", slack.StatusCodeError{Code: http.StatusInternalServerError, Status: "500 Internal Server Error"}, 0},
		{"502", slack.StatusCodeError{Code: http.StatusBadGateway, Status: "502 Bad Gateway"}, 0},
		{"503", slack.StatusCodeError{Code: http.StatusServiceUnavailable, Status: "503 Service Unavailable"}, 0},
		{"504", slack.StatusCodeError{Code: http.StatusGatewayTimeout, Status: "504 Gateway Timeout"}, 0},
		{"SlackError", slack.SlackErrorResponse{Err: "fatal_error"}, 0},
		{"ConnectionRefused", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), 0},
	}
	chat := slackui.NewChat(slackui.ChatConfig{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := chat.Error("chat.postMessage", tt.err)
			if !strings.Contains(got.Error(), tt.err.Error()) {
				t.Errorf("%v does not say Slack's error %v", got, tt.err)
			}
			if engine.IsDropped(got) {
				t.Errorf("%v gives the job up; want it retried", got)
			}
			var re *engine.RetryError
			switch {
			case tt.wait > 0 && !errors.As(got, &re):
				t.Errorf("%v does not wait for Retry-After", got)
			case tt.wait > 0 && re.After != tt.wait:
				t.Errorf("waits %v, want %v", re.After, tt.wait)
			case tt.wait == 0 && errors.As(got, &re):
				t.Errorf("%v is retried after a fixed %v, uncounted; want the queue's backoff", got, re.After)
			}
		})
	}
}

// TestAPostWhoseTurnComesTooLateWaitsOutsideTheJob: with a channel's
// share of posts used up, a post whose turn comes after the job's time is
// up asks to run again then, rather than fail an attempt by timing out.
func TestAPostWhoseTurnComesTooLateWaitsOutsideTheJob(t *testing.T) {
	t.Parallel()
	fake := newFakeSlack(t)
	api := slack.New(slackfake.BotToken, slack.OptionAPIURL(fake.APIURL()))
	chat := slackui.NewChat(slackui.ChatConfig{API: api, PaceInterval: time.Hour, PaceBurst: 1})
	to := engine.Destination{Channel: "C0OPS"}
	if _, err := chat.Post(context.Background(), to, textMessage("first"), engine.PostKey{Kind: "note", Key: "1"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := chat.Post(ctx, to, textMessage("second"), engine.PostKey{Kind: "note", Key: "2"})
	var re *engine.RetryError
	if !errors.As(err, &re) || re.After < 59*time.Minute {
		t.Fatalf("the second post in an hour-long turn: %v; want a wait of about an hour", err)
	}
	if n := len(fake.Messages("C0OPS")); n != 1 {
		t.Errorf("%d messages posted, want 1", n)
	}
}

func textMessage(s string) view.Message {
	return view.Message{Summary: s, Blocks: []view.Block{view.Section{Lines: []view.Text{view.T(s)}}}}
}

// TestASlack503GoesBackToTheQueueAndUsesAnAttempt: while Slack answers
// 503, the card's job is not retried in place: it goes back to the queue
// as retryable with Slack's answer as its error, each failure counted as
// an attempt; once Slack is back the card arrives once.
func TestASlack503GoesBackToTheQueueAndUsesAnAttempt(t *testing.T) {
	t.Parallel()
	fake := newFakeSlack(t)
	e := newEnv(t, withFake(fake))
	fake.InjectServerErrorRatio(1, http.StatusServiceUnavailable, 1)
	l := e.handOff(demoLead("crm-503"))
	var handOff storage.JobInfo
	e.waitFor("the hand-off to fail and wait for the queue's backoff", func() bool {
		jobs, err := e.db.JobsOfLead(context.Background(), l.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			// River puts a job whose retry is due within its scheduler's
			// interval (5 s) straight back to available, a later one to
			// retryable: either is the queue's backoff, not a retry in place.
			if j.Kind == engine.JobHandOff && (j.State == "retryable" || j.State == "available") && j.Attempts >= 1 && strings.Contains(j.LastError, "503") {
				handOff = j
				return true
			}
		}
		return false
	})
	if handOff.Attempts < 1 || handOff.MaxAttempts != 40 {
		t.Errorf("the failed hand-off has attempt %d of %d, want its first of the send queue's 40", handOff.Attempts, handOff.MaxAttempts)
	}
	fake.InjectServerErrorRatio(0, 0, 1)
	// The next try comes when the queue's backoff says: on a loaded
	// machine the job may have failed a few times already, and its wait
	// doubles each time (1, 2, 4, 8, 16 s, jittered).
	dm := fake.DMChannel(ana)
	if _, err := fake.WaitForMessage(ctxTimeout(t, 60*time.Second), func(m slackfake.Message) bool {
		return m.Channel == dm && m.Metadata != nil && fmt.Sprint(m.Metadata.EventPayload["lead_id"]) == fmt.Sprint(l.ID)
	}); err != nil {
		t.Fatalf("no card for lead %d once Slack was back: %v", l.ID, err)
	}
	e.waitFor("the hand-off job to complete", func() bool {
		jobs, _ := e.db.JobsOfLead(context.Background(), l.ID)
		for _, j := range jobs {
			if j.Kind == engine.JobHandOff {
				handOff = j
			}
		}
		return handOff.State == "completed"
	})
	if handOff.Attempts < 2 {
		t.Errorf("the hand-off completed on attempt %d: its failure did not count", handOff.Attempts)
	}
	if n := e.cardsFor(ana, l.ID); n != 1 {
		t.Errorf("%d cards, want 1", n)
	}
}
