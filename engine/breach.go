package engine

import "time"

// BreachKind names which commitment of the SLA a lead missed.
type BreachKind string

// The kinds of breach.
const (
	// BreachFirstTouch: no touch before the first-touch deadline.
	BreachFirstTouch BreachKind = "first_touch"
	// BreachCadence: fewer than the required touches within the cadence window.
	BreachCadence BreachKind = "cadence"
)

// Breach records one missed commitment on one lead.
type Breach struct {
	LeadID   int64
	Kind     BreachKind
	Rule     string
	RepEmail string
	Team     string
	// Due is the deadline that was missed; At is when the breach was detected.
	Due time.Time
	At  time.Time
}

// BreachAction is what the agreement says to do when a lead is breached.
type BreachAction string

// The breach actions a rule may list in on_breach.
const (
	ActionNotifyManager     BreachAction = "notify_manager"
	ActionReassign          BreachAction = "reassign"
	ActionReturnToMarketing BreachAction = "return_to_marketing"
)

// BreachActions lists every known action.
var BreachActions = []BreachAction{ActionNotifyManager, ActionReassign, ActionReturnToMarketing}
