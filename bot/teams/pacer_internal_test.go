package teams

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

// TestTheTeamsPacerKeepsTheTeamsLimits: one message a second per
// conversation, and no more than the hour allows. How the pacer books
// turns is tested in bot/pace.
func TestTheTeamsPacerKeepsTheTeamsLimits(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	p := NewPacer(PacerOptions{Now: func() time.Time { return now }})
	ctx := context.Background()
	if err := p.Wait(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	// The second message of the same second waits a second: with the
	// clock standing still, the wait is cut short by an ended context.
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Wait(ended, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("a second message at once: %v, want to wait (here, for the ended context)", err)
	}
	// Another conversation is not held up.
	if err := p.Wait(ctx, "b"); err != nil {
		t.Errorf("conversation b: %v", err)
	}
	// Thirty seconds are the most a send waits: with 31 messages booked
	// (turns 0 to 30 s away), the 32nd would wait 31 s.
	for range 31 {
		_ = p.Wait(ended, "c")
	}
	err := p.Wait(ended, "c")
	var retry *engine.RetryError
	if !errors.As(err, &retry) || !errors.Is(err, ErrPaced) || retry.After != 31*time.Second {
		t.Errorf("the 32nd message at once: %v, want RetryAfter(31s, ErrPaced)", err)
	}
}
