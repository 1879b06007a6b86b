// Package pace spaces the messages slabot sends to each conversation, so
// that a chat platform's per-conversation rate limit is kept rather than
// met with refusals: on average one message per interval, bursts of a few
// after a quiet spell, and at most so many in any hour. Both chat adapters
// use it, each with its platform's limits.
//
// A Pacer books each message a turn (the generic cell rate algorithm, with
// an hourly budget on top), so concurrent senders queue in order. A turn
// too far off is not waited for: Wait returns engine.RetryAfter, and the
// job queue runs the job again when the turn is near.
package pace

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/slabot/slabot/engine"
)

// ErrPaced is wrapped in an engine.RetryError when a conversation's next
// turn is further off than the Pacer waits.
var ErrPaced = errors.New("pace: the conversation's next turn is further off than slabot waits")

// Limits are a platform's pace for one conversation, and how long a
// sender may wait for its turn.
type Limits struct {
	// Interval is the average time between two messages (at least 1 ns).
	Interval time.Duration
	// Burst is how many messages may go at once after a quiet spell
	// (0 counts as 1: none at once).
	Burst int
	// PerHour caps the messages in any hour (0: no cap).
	PerHour int
	// MaxWait is the longest Wait blocks (0: as long as the context lets).
	MaxWait time.Duration
	// DeadlineMargin is the time a message needs after its turn: a turn
	// later than the context's deadline less this is not waited for, since
	// the job would time out for nothing.
	DeadlineMargin time.Duration
}

// Pacer keeps Limits for each conversation. Safe for concurrent use.
type Pacer struct {
	limits Limits
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error

	mu    sync.Mutex
	convs map[string]*conversation
	calls int
}

// conversation is the pace of one conversation.
type conversation struct {
	// due is the theoretical time of the next message: a message may go
	// once due less Burst-1 intervals has come.
	due time.Time
	// sent holds the turns booked in the last hour, oldest first (only
	// with a PerHour cap).
	sent []time.Time
}

// New returns a Pacer that keeps limits by the clock now (nil: time.Now).
func New(limits Limits, now func() time.Time) *Pacer {
	if limits.Interval <= 0 {
		limits.Interval = time.Nanosecond
	}
	if limits.Burst < 1 {
		limits.Burst = 1
	}
	if now == nil {
		now = time.Now
	}
	return &Pacer{limits: limits, now: now, sleep: sleepContext, convs: map[string]*conversation{}}
}

// Wait blocks until conversation may receive one more message, and books
// that turn. When the turn is further off than MaxWait, or later than
// ctx's deadline allows, it books nothing and returns
// engine.RetryAfter(wait, ErrPaced); when ctx ends first, ctx's error.
func (p *Pacer) Wait(ctx context.Context, conversation string) error {
	deadline, _ := ctx.Deadline()
	at, err := p.book(conversation, deadline)
	if err != nil {
		return err
	}
	return p.sleep(ctx, at.Sub(p.now()))
}

// book reserves the earliest turn of conversation, unless it comes later
// than the limits or deadline (zero: none) let a sender wait.
func (p *Pacer) book(id string, deadline time.Time) (time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.calls++
	if p.calls%1024 == 0 {
		p.forgetIdle(now)
	}
	c := p.convs[id]
	if c == nil {
		c = &conversation{}
		p.convs[id] = c
	}
	hourAgo := now.Add(-time.Hour)
	drop := 0
	for drop < len(c.sent) && !c.sent[drop].After(hourAgo) {
		drop++
	}
	c.sent = c.sent[drop:]

	due := c.due
	if due.Before(now) {
		due = now
	}
	at := due.Add(-time.Duration(p.limits.Burst-1) * p.limits.Interval)
	if at.Before(now) {
		at = now
	}
	if n := p.limits.PerHour; n > 0 && len(c.sent) >= n {
		// The turn frees when the message n places back is an hour old.
		if free := c.sent[len(c.sent)-n].Add(time.Hour); free.After(at) {
			at = free
		}
	}
	wait := at.Sub(now)
	if p.limits.MaxWait > 0 && wait > p.limits.MaxWait ||
		!deadline.IsZero() && at.After(deadline.Add(-p.limits.DeadlineMargin)) && wait > 0 {
		return time.Time{}, engine.RetryAfter(wait, ErrPaced)
	}
	if at.After(due) {
		due = at
	}
	c.due = due.Add(p.limits.Interval)
	if p.limits.PerHour > 0 {
		c.sent = append(c.sent, at)
	}
	return at, nil
}

// forgetIdle drops the conversations whose pace no longer holds anything
// back: nothing due ahead and nothing sent in the last hour.
func (p *Pacer) forgetIdle(now time.Time) {
	for id, c := range p.convs {
		if c.due.Before(now) && (len(c.sent) == 0 || now.Sub(c.sent[len(c.sent)-1]) > time.Hour) {
			delete(p.convs, id)
		}
	}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
