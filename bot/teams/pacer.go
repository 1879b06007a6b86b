package teams

import (
	"time"

	"github.com/slabot/slabot/bot/pace"
)

// Pace limits of Teams per conversation (design.md, "Pace").
const (
	MinMessageInterval = time.Second
	MaxMessagesPerHour = 1800
)

// ErrPaced is wrapped in an engine.RetryError when a conversation's
// budget would make a send wait longer than the pacer's MaxWait.
var ErrPaced = pace.ErrPaced

// Pacer spaces the messages of each conversation: the pacer both adapters
// use (bot/pace), with the Teams limits NewPacer gives it.
type Pacer = pace.Pacer

// PacerOptions configure a Pacer; zero values take the Teams limits.
type PacerOptions struct {
	Interval time.Duration
	PerHour  int
	// MaxWait is the longest a call waits; a longer wait returns
	// engine.RetryAfter(wait, ErrPaced) instead (0: 30 s).
	MaxWait time.Duration
	Now     func() time.Time
}

// NewPacer returns a pacer with the Teams limits unless opts say otherwise:
// at most one message a MinMessageInterval and MaxMessagesPerHour in any
// hour, per conversation.
func NewPacer(opts PacerOptions) *Pacer {
	if opts.Interval <= 0 {
		opts.Interval = MinMessageInterval
	}
	if opts.PerHour <= 0 {
		opts.PerHour = MaxMessagesPerHour
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 30 * time.Second
	}
	return pace.New(pace.Limits{Interval: opts.Interval, PerHour: opts.PerHour, MaxWait: opts.MaxWait}, opts.Now)
}
