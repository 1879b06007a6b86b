package engine

import (
	"context"
	"encoding/json"
	"errors"
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
	// JobAcceptDue checks, at the accept_within deadline, that the lead
	// was accepted.
	JobAcceptDue = "timer.accept"
	// JobCadenceDue checks the touch cadence at the end of its window.
	JobCadenceDue = "timer.cadence"
	// JobRecycleDue runs the revisit date of a lead returned "not now". It
	// outlives the lead's assignment: it is no TimerJob.
	JobRecycleDue = "timer.recycle_due"
	// JobRecycleNotice tells Marketing's channel a returned lead is due
	// for a revisit.
	JobRecycleNotice = "notify.recycle_due"
)

// TimerJobs are the jobs that belong to one assignment of a lead and are
// cancelled when it is reassigned or closed.
var TimerJobs = []string{JobReminder, JobFirstTouchDue, JobAcceptDue, JobCadenceDue}

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
	d := p.LeadDeadlines(r, l, l.AssignedAt)
	key := assignmentKey(l)
	jobs := firstTouchJobs(l, d, key)
	for i, at := range d.AcceptReminders {
		jobs = append(jobs, Job{LeadID: l.ID, RunAt: at,
			UniqueKey: fmt.Sprintf("%s:%s:accept:%d", JobReminder, key, i),
			Args:      ReminderArgs{Due: d.AcceptDue, AssignedAt: l.AssignedAt, Accept: true}})
	}
	if !d.AcceptDue.IsZero() {
		jobs = append(jobs, Job{LeadID: l.ID, RunAt: d.AcceptDue,
			UniqueKey: fmt.Sprintf("%s:%s", JobAcceptDue, key),
			Args:      AcceptDueArgs{AssignedAt: l.AssignedAt, Due: d.AcceptDue}})
	}
	if r.Touches.Count > 0 && !d.CadenceDue.IsZero() {
		jobs = append(jobs, Job{LeadID: l.ID, RunAt: d.CadenceDue,
			UniqueKey: fmt.Sprintf("%s:%s", JobCadenceDue, key),
			Args:      CadenceDueArgs{AssignedAt: l.AssignedAt}})
	}
	return jobs
}

// extensionTimers plans the reminders and the deadline check of a moved
// first-touch deadline. Their keys name the new deadline, since the
// assignment's own timers keep their keys (cancelled, but unique).
func extensionTimers(d Deadlines, l *Lead) []Job {
	return firstTouchJobs(l, d, fmt.Sprintf("%s:ext:%d", assignmentKey(l), d.FirstTouchDue.UnixMicro()))
}

// firstTouchJobs plans the reminders before the first-touch deadline
// d.FirstTouchDue and its check, for the lead's current assignment; key
// makes their unique keys. Each names the deadline it is for (Due): a
// reminder of a deadline since moved drops itself, and a stored check
// says which deadline it was planned for.
func firstTouchJobs(l *Lead, d Deadlines, key string) []Job {
	jobs := make([]Job, 0, len(d.Reminders)+1)
	for i, at := range d.Reminders {
		jobs = append(jobs, Job{LeadID: l.ID, RunAt: at,
			UniqueKey: fmt.Sprintf("%s:%s:%d", JobReminder, key, i),
			Args:      ReminderArgs{Due: d.FirstTouchDue, AssignedAt: l.AssignedAt}})
	}
	return append(jobs, Job{LeadID: l.ID, RunAt: d.FirstTouchDue,
		UniqueKey: JobFirstTouchDue + ":" + key,
		Args:      FirstTouchDueArgs{Due: d.FirstTouchDue, AssignedAt: l.AssignedAt}})
}

// Queues keep kinds of work apart, so that a person's click never waits
// behind a burst of paced sends or a night's worth of timers.
const (
	// QueuePeople carries what people did in chat: clicks, commands, events.
	QueuePeople = "people"
	// QueueSend carries the messages slabot sends on its own.
	QueueSend = "send"
	// QueueTimers carries deadline checks and reminders coming due.
	QueueTimers = "timers"
	// QueueReports carries scheduled reports, which take a while to build.
	QueueReports = "reports"
)

// JobArgs are the typed arguments of one kind of job. Kind names the kind;
// Queue says which queue it runs on. Args are stored as JSON: field names
// are part of the stored format and change only with a migration.
type JobArgs interface {
	Kind() string
	Queue() string
}

// Job is durable work: a message to send or a timer to fire. Enqueue reads
// Args, LeadID, RunAt and UniqueKey; a worker fills in ID and Attempts.
type Job struct {
	Args JobArgs
	// LeadID is the lead the job is about (0: none), so that a lead's
	// pending jobs can be cancelled together.
	LeadID int64
	// RunAt is when the job is due; zero means now.
	RunAt time.Time
	// UniqueKey, when set, makes enqueueing idempotent: a job with the same
	// key, in any state, means this one is not added.
	UniqueKey string

	ID int64
	// Attempts counts this run: 1 the first time, more after a failure or
	// after a worker died holding the job.
	Attempts int
}

// Kind is the kind of the job's args ("" without args).
func (j Job) Kind() string {
	if j.Args == nil {
		return ""
	}
	return j.Args.Kind()
}

// HandOffArgs: send the hand-off card to the lead's owner.
type HandOffArgs struct{}

func (HandOffArgs) Kind() string  { return JobHandOff }
func (HandOffArgs) Queue() string { return QueueSend }

// CardUpdateArgs: redraw every message showing the lead after a change.
type CardUpdateArgs struct{}

func (CardUpdateArgs) Kind() string  { return JobCardUpdate }
func (CardUpdateArgs) Queue() string { return QueueSend }

// OpsAlertArgs: tell a team's escalation channel something.
type OpsAlertArgs struct {
	Team string `json:"team"`
	Text string `json:"text"`
	// Reason and NamedOwner say why a hand-off was routed as it was.
	Reason     string `json:"reason,omitempty"`
	NamedOwner string `json:"named_owner,omitempty"`
}

func (OpsAlertArgs) Kind() string  { return JobOpsAlert }
func (OpsAlertArgs) Queue() string { return QueueSend }

// ReminderArgs: decide whether a reminder is due for the assignment that
// began at AssignedAt, before the first-touch deadline Due.
type ReminderArgs struct {
	Due        time.Time `json:"due,omitzero"`
	AssignedAt time.Time `json:"assigned_at,omitzero"`
	// RemindAt is when the reminder was planned, when it was held back
	// (a snooze, the rep's night) from its first time.
	RemindAt time.Time `json:"remind_at,omitzero"`
	// Accept: the reminder is about the accept_within deadline Due, not
	// the first touch.
	Accept bool `json:"accept,omitempty"`
}

func (ReminderArgs) Kind() string  { return JobReminder }
func (ReminderArgs) Queue() string { return QueueTimers }

// ReminderNoticeArgs: send a reminder the engine decided on; the fields
// are the reminder's.
type ReminderNoticeArgs struct {
	ReminderArgs
}

func (ReminderNoticeArgs) Kind() string  { return JobReminderNotice }
func (ReminderNoticeArgs) Queue() string { return QueueSend }

// FirstTouchDueArgs: check the first-touch deadline of an assignment.
type FirstTouchDueArgs struct {
	AssignedAt time.Time `json:"assigned_at,omitzero"`
	Due        time.Time `json:"due,omitzero"`
}

func (FirstTouchDueArgs) Kind() string  { return JobFirstTouchDue }
func (FirstTouchDueArgs) Queue() string { return QueueTimers }

// AcceptDueArgs: check the accept_within deadline of an assignment.
type AcceptDueArgs struct {
	AssignedAt time.Time `json:"assigned_at,omitzero"`
	Due        time.Time `json:"due,omitzero"`
}

func (AcceptDueArgs) Kind() string  { return JobAcceptDue }
func (AcceptDueArgs) Queue() string { return QueueTimers }

// CadenceDueArgs: check the touch cadence of an assignment.
type CadenceDueArgs struct {
	AssignedAt time.Time `json:"assigned_at,omitzero"`
}

func (CadenceDueArgs) Kind() string  { return JobCadenceDue }
func (CadenceDueArgs) Queue() string { return QueueTimers }

// RecycleDueArgs: the revisit date of a lead returned "not now"
// (RevisitOn, YYYY-MM-DD), due at Due, for the return made at ReturnedAt.
type RecycleDueArgs struct {
	RevisitOn  string    `json:"revisit_on"`
	Due        time.Time `json:"due,omitzero"`
	ReturnedAt time.Time `json:"returned_at,omitzero"`
}

func (RecycleDueArgs) Kind() string  { return JobRecycleDue }
func (RecycleDueArgs) Queue() string { return QueueTimers }

// RecycleNoticeArgs: tell Marketing's channel that the lead is due for a
// revisit; EventID is the lead's EventRecycleDue.
type RecycleNoticeArgs struct {
	EventID   int64  `json:"event_id,string"`
	RevisitOn string `json:"revisit_on"`
}

func (RecycleNoticeArgs) Kind() string  { return JobRecycleNotice }
func (RecycleNoticeArgs) Queue() string { return QueueSend }

// EscalationArgs: tell a manager (Target EscalateToManager) or a team's
// escalation channel (EscalateToChannel) about the event EventID.
type EscalationArgs struct {
	Target  string `json:"target"`
	EventID int64  `json:"event_id,string"`
	// Rep held the lead when it happened; Outcome says what slabot did.
	Rep     string `json:"rep,omitempty"`
	Team    string `json:"team,omitempty"`
	Outcome string `json:"outcome,omitempty"`
}

func (EscalationArgs) Kind() string  { return JobEscalation }
func (EscalationArgs) Queue() string { return QueueSend }

// JobHandler runs the jobs of one kind. Build one with Handle.
type JobHandler struct {
	Kind  string
	Queue string
	run   func(ctx context.Context, job Job, encoded []byte) error
}

// Handle makes the handler of the kind of T: the stored args are decoded
// into a T, set on job.Args and passed to fn.
func Handle[T JobArgs](fn func(ctx context.Context, job Job, args T) error) JobHandler {
	var zero T
	return JobHandler{Kind: zero.Kind(), Queue: zero.Queue(),
		run: func(ctx context.Context, job Job, encoded []byte) error {
			var args T
			if len(encoded) > 0 {
				if err := json.Unmarshal(encoded, &args); err != nil {
					return DropJob(fmt.Errorf("the stored arguments of a %s job cannot be read: %w", zero.Kind(), err))
				}
			}
			job.Args = args
			return fn(ctx, job, args)
		}}
}

// Run decodes encoded args and runs the job.
func (h JobHandler) Run(ctx context.Context, job Job, encoded []byte) error {
	if h.run == nil {
		return DropJob(fmt.Errorf("no handler for %s jobs", h.Kind))
	}
	return h.run(ctx, job, encoded)
}

// RetryError asks the job queue to run a job again after a given delay, for
// example when Slack answered 429 with Retry-After. Waiting so does not use
// up one of the job's attempts.
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string { return "retry in " + e.After.String() + ": " + e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter wraps err so that the job is retried after d.
func RetryAfter(d time.Duration, err error) error { return &RetryError{After: d, Err: err} }

// DroppedError tells the job queue that a job can never succeed and must
// not be retried.
type DroppedError struct{ Err error }

func (e *DroppedError) Error() string { return "dropped: " + e.Err.Error() }
func (e *DroppedError) Unwrap() error { return e.Err }

// DropJob wraps err so that the job is given up at once.
func DropJob(err error) error { return &DroppedError{Err: err} }

// IsDropped reports whether err gives the job up.
func IsDropped(err error) bool {
	var d *DroppedError
	return errors.As(err, &d)
}
