package slack

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/slabot/slabot/engine"
)

// errPaced is why a post waits for a later turn: its channel had its
// share of posts and the turn comes after the job's time is up.
var errPaced = errors.New("slack: the channel's pace leaves no turn before the job's time is up")

// pacer spaces posts to each channel: on average one per interval, with
// bursts of up to burst (the generic cell rate algorithm). Slack allows
// about one chat.postMessage a second per channel.
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	burst    int
	tat      map[string]time.Time // theoretical arrival time per channel
}

func newPacer(interval time.Duration, burst int) *pacer {
	return &pacer{interval: interval, burst: burst, tat: map[string]time.Time{}}
}

// paceMargin is the time a post needs after its turn comes.
const paceMargin = 5 * time.Second

// wait blocks until a post to channel is allowed, then books it. When the
// turn comes too late for ctx's deadline it asks, with engine.RetryAfter,
// to be run again then.
func (p *pacer) wait(ctx context.Context, channel string) error {
	for {
		p.mu.Lock()
		now := time.Now()
		tat := p.tat[channel]
		if tat.Before(now) {
			tat = now
		}
		allowAt := tat.Add(-time.Duration(p.burst-1) * p.interval)
		if !allowAt.After(now) {
			p.tat[channel] = tat.Add(p.interval)
			p.mu.Unlock()
			return nil
		}
		p.mu.Unlock()
		wait := allowAt.Sub(now)
		if deadline, ok := ctx.Deadline(); ok && now.Add(wait).After(deadline.Add(-paceMargin)) {
			// Waiting would outlast the job's timeout, failing an attempt
			// for nothing: the job comes back when the turn is near.
			return engine.RetryAfter(wait, errPaced)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}
