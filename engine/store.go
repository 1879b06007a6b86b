package engine

import (
	"context"
	"time"
)

// Tx is what can be read and changed inside one transaction (see
// ServiceStore.InTx; the storage package implements it on PostgreSQL), so a
// state change and the work it causes (messages, timers) commit together or
// not at all. Methods that find one thing return an ENOTFOUND error when
// there is none.
type Tx interface {
	// LockKey holds a lock on key until the transaction ends, serialising
	// transactions that work on the same thing (one external id, one contact).
	LockKey(ctx context.Context, key string) error
	// LeadByExternalID finds a lead by its CRM id or by an id linked to it.
	LeadByExternalID(ctx context.Context, externalID string) (*Lead, error)
	// LockLead reads a lead and holds it until the transaction ends, so that
	// concurrent actions on one lead apply one after the other.
	LockLead(ctx context.Context, id int64) (*Lead, error)
	// OpenLeadByContactEmail finds the oldest lead with this contact email
	// that is still with Sales.
	OpenLeadByContactEmail(ctx context.Context, email string) (*Lead, error)
	// LastReturnedLeadByContactEmail finds the lead with this contact email
	// that went back to Marketing last.
	LastReturnedLeadByContactEmail(ctx context.Context, email string) (*Lead, error)
	// CreateLead inserts a lead and sets its ID. A lead with the same
	// external id already present is an ECONFLICT error.
	CreateLead(ctx context.Context, l *Lead) error
	// InsertLeadIfNew inserts the lead unless its external id exists; it
	// reports whether it inserted. Concurrent callers with one id wait for
	// each other, so exactly one inserts.
	InsertLeadIfNew(ctx context.Context, l *Lead) (bool, error)
	UpdateLead(ctx context.Context, l *Lead) error
	// LinkExternalID records another external id for an existing lead; it
	// reports false when the id was already linked or used.
	LinkExternalID(ctx context.Context, externalID string, leadID int64) (bool, error)

	// AddTouch records a touch; with a Key that was used before it records
	// nothing and reports false.
	AddTouch(ctx context.Context, t *Touch) (bool, error)
	Touches(ctx context.Context, leadID int64) ([]Touch, error)

	AppendEvent(ctx context.Context, e *Event) error
	// Events lists a lead's history in order.
	Events(ctx context.Context, leadID int64) ([]Event, error)

	// AddMQL records a marketing-qualified lead; false when its external id
	// was recorded before.
	AddMQL(ctx context.Context, m *MQL) (bool, error)

	RepByEmail(ctx context.Context, email string) (*Rep, error)
	// TeamReps lists a team's reps in round-robin order.
	TeamReps(ctx context.Context, team string) ([]Rep, error)
	// LockTeamCursor reads the team's round-robin cursor and holds the team
	// until the transaction ends, so two hand-offs never pick the same turn.
	LockTeamCursor(ctx context.Context, team string) (int, error)
	SetTeamCursor(ctx context.Context, team string, cursor int) error

	// Enqueue adds durable work. A job whose UniqueKey exists is not added
	// again; Enqueue reports whether it added the job.
	Enqueue(ctx context.Context, j Job) (bool, error)
	// EnqueueAll adds several jobs in one round trip, each unless its
	// UniqueKey exists.
	EnqueueAll(ctx context.Context, jobs []Job) error
	// CancelJobs cancels the pending jobs of a lead whose kind is one of kinds.
	CancelJobs(ctx context.Context, leadID int64, kinds ...string) (int, error)

	// HasBreach reports whether a breach of this kind with this deadline
	// was recorded on the lead, so a deadline is acted on once.
	HasBreach(ctx context.Context, leadID int64, kind string, due time.Time) (bool, error)
	// DeactivateRep marks a rep inactive; it reports false when the rep
	// was inactive already (or is unknown), so one caller acts on it.
	DeactivateRep(ctx context.Context, email string, at time.Time) (bool, error)
	// OpenLeadIDsOfRep lists the leads still with Sales that the rep owns.
	OpenLeadIDsOfRep(ctx context.Context, email string) ([]int64, error)

	// LockRep reads a rep by email (any case) and holds the rep until the
	// transaction ends, so two availability changes apply one after the other.
	LockRep(ctx context.Context, email string) (*Rep, error)
	// SetRepAvailability records a rep's status and return date (zero for
	// none): a change on the rep, not on any lead.
	SetRepAvailability(ctx context.Context, email string, status RepStatus, until time.Time) error
	// CountOpenLeads counts the leads the rep owns that are still with Sales.
	CountOpenLeads(ctx context.Context, ownerEmail string) (int, error)

	// AppendRepEvent adds a row to the reps' append-only availability
	// history and sets its ID. Every change of a rep's status appends one,
	// in the transaction that makes the change.
	AppendRepEvent(ctx context.Context, e *RepEvent) error
	// RepEvents lists the availability history that bears on [from, to):
	// every rep's events before to, in order (by time, then as written).
	RepEvents(ctx context.Context, from, to time.Time) ([]RepEvent, error)
}

// MQL is a marketing-qualified lead, counted for Marketing's side of the funnel.
type MQL struct {
	ID         int64
	ExternalID string
	Source     string
	Segment    string
	At         time.Time
}
