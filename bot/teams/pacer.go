package teams

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/slabot/slabot/engine"
)

// Pace limits of Teams per conversation (design.md, "Pace").
const (
	MinMessageInterval = time.Second
	MaxMessagesPerHour = 1800
)

// ErrPaced is wrapped in an engine.RetryError when a conversation's
// budget would make a send wait longer than the pacer's MaxWait.
var ErrPaced = errors.New("teams: conversation is at its message rate limit")

// Pacer spaces the messages of each conversation: at most one per
// MinMessageInterval and MaxMessagesPerHour in any hour. It reserves a
// slot per call, so concurrent senders queue. Safe for concurrent use.
type Pacer struct {
	interval time.Duration
	perHour  int
	maxWait  time.Duration
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error

	mu    sync.Mutex
	convs map[string]*conversationPace
	calls int
}

type conversationPace struct {
	next time.Time
	// sent holds the reserved slots of the last hour, oldest first.
	sent []time.Time
}

// PacerOptions configure a Pacer; zero values take the Teams limits.
type PacerOptions struct {
	Interval time.Duration
	PerHour  int
	// MaxWait is the longest a call waits; a longer wait returns
	// engine.RetryAfter(wait, ErrPaced) instead (0: 30 s).
	MaxWait time.Duration
	Now     func() time.Time
}

// NewPacer returns a pacer with the Teams limits unless opts say otherwise.
func NewPacer(opts PacerOptions) *Pacer {
	p := &Pacer{interval: opts.Interval, perHour: opts.PerHour, maxWait: opts.MaxWait, now: opts.Now, convs: map[string]*conversationPace{}}
	if p.interval <= 0 {
		p.interval = MinMessageInterval
	}
	if p.perHour <= 0 {
		p.perHour = MaxMessagesPerHour
	}
	if p.maxWait <= 0 {
		p.maxWait = 30 * time.Second
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.sleep = sleepContext
	return p
}

// Wait blocks until conversationID may receive one more message, or
// returns a RetryError when that is further off than MaxWait, or the
// context's error.
func (p *Pacer) Wait(ctx context.Context, conversationID string) error {
	at, err := p.reserve(conversationID)
	if err != nil {
		return err
	}
	return p.sleep(ctx, at.Sub(p.now()))
}

// reserve books the earliest slot for the conversation.
func (p *Pacer) reserve(conversationID string) (time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.calls++
	if p.calls%1024 == 0 {
		p.forgetIdle(now)
	}
	c := p.convs[conversationID]
	if c == nil {
		c = &conversationPace{}
		p.convs[conversationID] = c
	}
	hourAgo := now.Add(-time.Hour)
	drop := 0
	for drop < len(c.sent) && !c.sent[drop].After(hourAgo) {
		drop++
	}
	c.sent = c.sent[drop:]

	at := now
	if c.next.After(at) {
		at = c.next
	}
	if len(c.sent) >= p.perHour {
		// The slot frees when the message perHour places back is an hour old.
		if free := c.sent[len(c.sent)-p.perHour].Add(time.Hour); free.After(at) {
			at = free
		}
	}
	if wait := at.Sub(now); wait > p.maxWait {
		return time.Time{}, engine.RetryAfter(wait, ErrPaced)
	}
	c.next = at.Add(p.interval)
	c.sent = append(c.sent, at)
	return at, nil
}

// forgetIdle drops conversations with nothing in the last hour.
func (p *Pacer) forgetIdle(now time.Time) {
	for id, c := range p.convs {
		if len(c.sent) == 0 || now.Sub(c.sent[len(c.sent)-1]) > time.Hour {
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
