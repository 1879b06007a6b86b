package slack

import (
	"context"
	"sync"
	"time"
)

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

// wait blocks until a post to channel is allowed, then books it.
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
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(allowAt.Sub(now)):
		}
	}
}
