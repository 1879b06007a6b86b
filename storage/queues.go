package storage

import (
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/slabot/slabot/engine"
)

// queueSettings say how the jobs of one queue run.
type queueSettings struct {
	// Workers is how many of its jobs run at once in one process.
	Workers int
	// Timeout bounds one attempt: its context ends then. A job still
	// running well past it on a live worker is taken to be stuck and run
	// again (stuckAfter).
	Timeout time.Duration
	// MaxAttempts bounds the failures a job may have: Slack or a CRM
	// answering 5xx, the database away. Waits a platform asked for
	// (engine.RetryAfter, a 429 with Retry-After) are not failures and do
	// not count.
	MaxAttempts int
	// MaxBackoff caps the wait between two attempts.
	MaxBackoff time.Duration
}

// queues are the settings of each queue. Sending a message takes a second
// or two, and a Slack call is given up after 30 s; a report builds a
// chart and uploads it.
var queues = map[string]queueSettings{
	// A person's click: retried for about six minutes (its answer is
	// worth little later, but what they did is recorded).
	// A command may build figures over many leads: a minute.
	engine.QueuePeople: {Workers: 8, Timeout: time.Minute, MaxAttempts: 14, MaxBackoff: time.Minute},
	// Cards, reminders, escalations: about two hours of an outage.
	engine.QueueSend: {Workers: 4, Timeout: 30 * time.Second, MaxAttempts: 40, MaxBackoff: 5 * time.Minute},
	// Deadline checks: they only touch the database; two hours as well.
	engine.QueueTimers: {Workers: 4, Timeout: 30 * time.Second, MaxAttempts: 40, MaxBackoff: 5 * time.Minute},
	// CRM calls wait on other people's servers: a queue of their own keeps
	// a slow CRM from holding up cards, clicks and timers.
	engine.QueueCRM: {Workers: 4, Timeout: time.Minute, MaxAttempts: 40, MaxBackoff: 5 * time.Minute},
	// The weekly report: about three hours, then given up (the next
	// week's report follows).
	engine.QueueReports: {Workers: 1, Timeout: 5 * time.Minute, MaxAttempts: 24, MaxBackoff: 15 * time.Minute},
}

// defaultQueue is for a queue not named above.
var defaultQueue = queueSettings{Workers: 1, Timeout: time.Minute, MaxAttempts: 25, MaxBackoff: 5 * time.Minute}

func queueOf(name string) queueSettings {
	if q, ok := queues[name]; ok {
		return q
	}
	return defaultQueue
}

// longestTimeout is the longest attempt any queue allows.
func longestTimeout() time.Duration {
	d := defaultQueue.Timeout
	for _, q := range queues {
		d = max(d, q.Timeout)
	}
	return d
}

// stuckGrace is how long past its queue's timeout a job running on a live
// worker is left before it is taken to be stuck and run again: the
// context ended at the timeout, so a job still running then ignores it.
const stuckGrace = time.Minute

// stuckAfter is how long a job of the queue may run before it is rescued.
func (q queueSettings) stuckAfter() time.Duration { return q.Timeout + stuckGrace }

// retryPolicy retries soon at first (a Slack or database hiccup passes in
// seconds) and then every few minutes, as the job's queue says.
type retryPolicy struct{}

func (retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(queueOf(job.Queue).backoff(job.Attempt))
}

// backoff is the wait after the attempt-th failure: exponential from one
// second up to the queue's MaxBackoff, with jitter (between half and all
// of it) so that many jobs failed by one outage do not retry in lockstep.
func (q queueSettings) backoff(attempt int) time.Duration {
	d := time.Second << min(max(attempt-1, 0), 16)
	d = min(d, q.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// backoff is the wait of a worker that cannot start yet.
func backoff(attempt int) time.Duration { return defaultQueue.backoff(attempt) }
