package pace

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

// clock is a test's time: it moves only when the test says so.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newClock() *clock { return &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)} }

// booked books n turns of conversation in a row and returns them as
// offsets from the clock's time.
func booked(t *testing.T, p *Pacer, c *clock, conversation string, n int) []time.Duration {
	t.Helper()
	var turns []time.Duration
	for range n {
		at, err := p.book(conversation, time.Time{})
		if err != nil {
			t.Fatalf("turn %d: %v", len(turns)+1, err)
		}
		turns = append(turns, at.Sub(c.t))
	}
	return turns
}

func TestABurstGoesAtOnceThenOneAnInterval(t *testing.T) {
	c := newClock()
	p := New(Limits{Interval: time.Second, Burst: 3}, c.now)
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second}
	if got := booked(t, p, c, "a", 5); !slices.Equal(got, want) {
		t.Errorf("turns %v, want %v", got, want)
	}
	if got := booked(t, p, c, "b", 1); got[0] != 0 {
		t.Errorf("another conversation waits %v", got[0])
	}
	// After a quiet spell the burst is there again.
	c.t = c.t.Add(time.Minute)
	if got := booked(t, p, c, "a", 4); !slices.Equal(got, []time.Duration{0, 0, 0, time.Second}) {
		t.Errorf("after a minute's quiet, turns %v", got)
	}
}

func TestWithoutABurstMessagesGoOneAnInterval(t *testing.T) {
	c := newClock()
	p := New(Limits{Interval: time.Second}, c.now)
	if got, want := booked(t, p, c, "a", 3), []time.Duration{0, time.Second, 2 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("turns %v, want %v", got, want)
	}
}

func TestTheHourlyBudgetHoldsTheNextMessageUntilTheFirstIsAnHourOld(t *testing.T) {
	c := newClock()
	p := New(Limits{Interval: time.Second, PerHour: 1800, MaxWait: time.Minute}, c.now)
	start := c.t
	for i := range 1800 {
		at, err := p.book("c", time.Time{})
		if err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
		c.t = at // the sender waits for its turn
	}
	c.t = c.t.Add(time.Second)
	_, err := p.book("c", time.Time{})
	var retry *engine.RetryError
	if !errors.As(err, &retry) || !errors.Is(err, ErrPaced) {
		t.Fatalf("message 1801: %v, want RetryAfter(ErrPaced)", err)
	}
	if want := start.Add(time.Hour).Sub(c.t); retry.After != want {
		t.Errorf("retry after %v, want %v", retry.After, want)
	}
	c.t = start.Add(time.Hour + time.Second)
	if _, err := p.book("c", time.Time{}); err != nil {
		t.Errorf("after the hour: %v", err)
	}
}

func TestATurnTooFarOffIsNotWaitedForNorBooked(t *testing.T) {
	c := newClock()
	p := New(Limits{Interval: time.Minute, MaxWait: 30 * time.Second}, c.now)
	booked(t, p, c, "a", 1)
	_, err := p.book("a", time.Time{})
	var retry *engine.RetryError
	if !errors.As(err, &retry) || !errors.Is(err, ErrPaced) || retry.After != time.Minute {
		t.Fatalf("a turn a minute off: %v, want RetryAfter(1m, ErrPaced)", err)
	}
	// The refused turn was not booked: it is still the next one.
	c.t = c.t.Add(40 * time.Second)
	if got := booked(t, p, c, "a", 1); got[0] != 20*time.Second {
		t.Errorf("the next turn is %v away, want 20s", got[0])
	}
}

func TestATurnPastTheJobsDeadlineIsNotWaitedFor(t *testing.T) {
	c := newClock()
	p := New(Limits{Interval: 10 * time.Second, DeadlineMargin: 5 * time.Second}, c.now)
	booked(t, p, c, "a", 1)
	// The turn in 10 s leaves the post 4 s of a job that ends in 14 s.
	_, err := p.book("a", c.t.Add(14*time.Second))
	var retry *engine.RetryError
	if !errors.As(err, &retry) || retry.After != 10*time.Second {
		t.Fatalf("got %v, want RetryAfter(10s, ErrPaced)", err)
	}
	// With 6 s to spare it waits.
	if at, err := p.book("a", c.t.Add(16*time.Second)); err != nil || at.Sub(c.t) != 10*time.Second {
		t.Errorf("got %v, %v; want the turn in 10s", at.Sub(c.t), err)
	}
}

func TestWaitSleepsUntilTheTurnAndStopsWithTheContext(t *testing.T) {
	c := newClock()
	p := New(Limits{Interval: time.Hour}, c.now)
	var slept []time.Duration
	p.sleep = func(ctx context.Context, d time.Duration) error {
		slept = append(slept, d)
		return ctx.Err()
	}
	ctx := context.Background()
	if err := p.Wait(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(slept, []time.Duration{0, time.Hour}) {
		t.Errorf("slept %v, want nothing then an hour", slept)
	}

	// The real sleep gives up when the context ends.
	p.sleep = sleepContext
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Wait(ended, "d"); !errors.Is(err, context.Canceled) {
		t.Errorf("waiting with an ended context: %v, want its error", err)
	}
}

func TestIdleConversationsAreForgotten(t *testing.T) {
	c := newClock()
	p := New(Limits{Interval: time.Second, PerHour: 10}, c.now)
	booked(t, p, c, "quiet", 1)
	c.t = c.t.Add(2 * time.Hour)
	for i := range 1023 {
		c.t = c.t.Add(time.Second)
		if _, err := p.book("busy", time.Time{}); err != nil && !errors.Is(err, ErrPaced) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if _, ok := p.convs["quiet"]; ok {
		t.Error("a conversation quiet for two hours is still kept")
	}
	if _, ok := p.convs["busy"]; !ok {
		t.Error("the busy conversation was forgotten")
	}
}
