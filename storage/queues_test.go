package storage

import (
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/slabot/slabot/engine"
)

// TestEachQueueRetriesWithJitteredExponentialBackoffAndGivesUp checks the
// retry schedule of every queue: each wait grows exponentially from a
// second up to the queue's cap, is jittered (between half and all of its
// step), and the attempts end, after a total that fits the queue's work.
func TestEachQueueRetriesWithJitteredExponentialBackoffAndGivesUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		queue string
		// The expected total wait of a job that fails every attempt (the
		// middle of the jitter) lies in [least, most].
		least, most time.Duration
	}{
		{engine.QueuePeople, 3 * time.Minute, 15 * time.Minute},
		{engine.QueueSend, time.Hour, 3 * time.Hour},
		{engine.QueueTimers, time.Hour, 3 * time.Hour},
		{engine.QueueCRM, time.Hour, 3 * time.Hour},
		{engine.QueueReports, time.Hour, 5 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.queue, func(t *testing.T) {
			q, ok := queues[tt.queue]
			if !ok {
				t.Fatalf("the %s queue has no settings", tt.queue)
			}
			if q.MaxAttempts < 2 || q.Timeout <= 0 || q.Workers < 1 {
				t.Fatalf("settings %+v", q)
			}
			var expected time.Duration
			for attempt := 1; attempt < q.MaxAttempts; attempt++ {
				step := min(time.Second<<min(attempt-1, 20), q.MaxBackoff)
				seen := map[time.Duration]bool{}
				for range 200 {
					d := q.backoff(attempt)
					if d < step/2 || d > step {
						t.Fatalf("after failure %d the wait is %v, want within [%v, %v]", attempt, d, step/2, step)
					}
					seen[d] = true
				}
				if len(seen) < 2 {
					t.Errorf("after failure %d every wait is the same (%v): no jitter", attempt, step)
				}
				expected += step * 3 / 4
			}
			if expected < tt.least || expected > tt.most {
				t.Errorf("a job failing every attempt is retried for about %v, want between %v and %v", expected, tt.least, tt.most)
			}
			// The schedule River asks for is the queue's.
			job := &rivertype.JobRow{Queue: tt.queue, Attempt: q.MaxAttempts - 1}
			if wait := time.Until(retryPolicy{}.NextRetry(job)); wait > q.MaxBackoff || wait < q.MaxBackoff/2-time.Second {
				t.Errorf("River is told to retry the last attempt in %v, want within [%v, %v]", wait, q.MaxBackoff/2, q.MaxBackoff)
			}
			// A queued job carries its queue's attempts.
			_, opts, err := insertParams(engine.Job{Args: queueArgs(tt.queue)})
			if err != nil || opts.MaxAttempts != q.MaxAttempts {
				t.Errorf("a %s job is queued with %d attempts (%v), want %d", tt.queue, opts.MaxAttempts, err, q.MaxAttempts)
			}
			// A stuck job is rescued only after its queue's timeout.
			if q.stuckAfter() <= q.Timeout {
				t.Errorf("a job is taken as stuck after %v, before its timeout %v", q.stuckAfter(), q.Timeout)
			}
		})
	}
	if longestTimeout() < queues[engine.QueueReports].Timeout {
		t.Errorf("the longest timeout %v is shorter than the report's", longestTimeout())
	}
}

type queueArgs string

func (q queueArgs) Kind() string  { return "test.queue" }
func (q queueArgs) Queue() string { return string(q) }
