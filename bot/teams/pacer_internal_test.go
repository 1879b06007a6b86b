package teams

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

func TestPacerSlots(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	p := NewPacer(PacerOptions{Now: func() time.Time { return now }, MaxWait: 2 * time.Hour})
	// Three sends at once to one conversation: one per second.
	for i := range 3 {
		at, err := p.reserve("a")
		if err != nil {
			t.Fatal(err)
		}
		if want := now.Add(time.Duration(i) * time.Second); !at.Equal(want) {
			t.Errorf("slot %d at %v, want %v", i, at, want)
		}
	}
	// Another conversation is not held up.
	if at, _ := p.reserve("b"); !at.Equal(now) {
		t.Errorf("conversation b waits until %v", at)
	}
}

func TestPacerHourlyBudget(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	p := NewPacer(PacerOptions{Now: func() time.Time { return now }, MaxWait: time.Minute})
	start := now
	for i := range MaxMessagesPerHour {
		at, err := p.reserve("c")
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		now = at // the sender waits for its slot
	}
	// The 1,801st within the hour must wait until the first is an hour old.
	now = now.Add(time.Second)
	_, err := p.reserve("c")
	var retry *engine.RetryError
	if !errors.As(err, &retry) || !errors.Is(err, ErrPaced) {
		t.Fatalf("message 1801: %v, want RetryAfter(ErrPaced)", err)
	}
	if want := start.Add(time.Hour).Sub(now); retry.After != want {
		t.Errorf("retry after %v, want %v", retry.After, want)
	}
	now = start.Add(time.Hour + time.Second)
	if _, err := p.reserve("c"); err != nil {
		t.Errorf("after the hour: %v", err)
	}
}

func TestPacerWaitHonoursContext(t *testing.T) {
	p := NewPacer(PacerOptions{Interval: time.Hour, MaxWait: 2 * time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := p.Wait(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx, "d"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second wait: %v, want the context's deadline", err)
	}
}
