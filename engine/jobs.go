package engine

import (
	"fmt"
	"time"
)

// Kinds of durable job. Notifications are rendered by the chat adapter when
// sent; timers are decided by the engine when they fire.
const (
	// JobHandOff sends the hand-off card to the lead's owner.
	JobHandOff = "notify.handoff"
	// JobCardUpdate redraws a lead's card after a change.
	JobCardUpdate = "notify.card"
	// JobOpsAlert tells a team's escalation channel about a routing problem.
	JobOpsAlert = "notify.ops"
	// JobReminder nudges the owner before the first-touch deadline.
	JobReminder = "timer.reminder"
	// JobFirstTouchDue checks for a first-touch breach at the deadline.
	JobFirstTouchDue = "timer.first_touch"
	// JobCadenceDue checks the touch cadence at the end of its window.
	JobCadenceDue = "timer.cadence"
)

// TimerJobs are the jobs that belong to one assignment of a lead and are
// cancelled when it is reassigned or closed.
var TimerJobs = []string{JobReminder, JobFirstTouchDue, JobCadenceDue}

// firstTouchTimers are cancelled by the first touch.
var firstTouchTimers = []string{JobReminder, JobFirstTouchDue}

// assignmentKey names one assignment of a lead, so timers of an old owner
// never collide with (or masquerade as) the new owner's.
func assignmentKey(l *Lead) string {
	return fmt.Sprintf("%d:%d", l.ID, l.AssignedAt.UnixMicro())
}

// timerJobs plans the durable timers of a lead's current assignment.
func timerJobs(p *Policy, r *Rule, l *Lead) []Job {
	if l.AssignedAt.IsZero() {
		return nil
	}
	d := p.Deadlines(r, l.AssignedAt)
	key := assignmentKey(l)
	var jobs []Job
	for i, at := range d.Reminders {
		jobs = append(jobs, Job{Kind: JobReminder, LeadID: l.ID, RunAt: at,
			UniqueKey: fmt.Sprintf("%s:%s:%d", JobReminder, key, i),
			Payload:   map[string]any{"due": d.FirstTouchDue.Format(time.RFC3339Nano), "assigned_at": l.AssignedAt.Format(time.RFC3339Nano)}})
	}
	jobs = append(jobs, Job{Kind: JobFirstTouchDue, LeadID: l.ID, RunAt: d.FirstTouchDue,
		UniqueKey: fmt.Sprintf("%s:%s", JobFirstTouchDue, key),
		Payload:   map[string]any{"assigned_at": l.AssignedAt.Format(time.RFC3339Nano)}})
	if r.Touches.Count > 0 && !d.CadenceDue.IsZero() {
		jobs = append(jobs, Job{Kind: JobCadenceDue, LeadID: l.ID, RunAt: d.CadenceDue,
			UniqueKey: fmt.Sprintf("%s:%s", JobCadenceDue, key),
			Payload:   map[string]any{"assigned_at": l.AssignedAt.Format(time.RFC3339Nano)}})
	}
	return jobs
}

// Job is durable work for a worker: a message to send or a timer to fire.
type Job struct {
	ID        int64
	Kind      string
	LeadID    int64
	Payload   map[string]any
	RunAt     time.Time
	UniqueKey string
	Attempts  int
}

// RetryError asks the job queue to run a job again after a given delay, for
// example when Slack answered 429 with Retry-After.
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string { return "retry in " + e.After.String() + ": " + e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter wraps err so that the job is retried after d.
func RetryAfter(d time.Duration, err error) error { return &RetryError{After: d, Err: err} }
