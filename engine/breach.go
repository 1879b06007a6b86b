package engine

import "time"

// BreachKind names which commitment of the SLA a lead missed.
type BreachKind string

// The kinds of breach.
const (
	// BreachFirstTouch: no touch before the first-touch deadline.
	BreachFirstTouch BreachKind = "first_touch"
	// BreachAccept: the lead was not accepted (nor touched) before the
	// rule's accept_within deadline.
	BreachAccept BreachKind = "accept"
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

// EventBreach is the lead event that records a breach.
const EventBreach = "breach"

// BreachEvent is the lead event that records b, so reports can count it.
func BreachEvent(b Breach) *Event {
	return &Event{LeadID: b.LeadID, At: b.At, Kind: EventBreach, Actor: "slabot", Data: map[string]any{
		"kind": string(b.Kind), "rule": b.Rule, "rep": b.RepEmail, "team": b.Team, "due": b.Due.Format(time.RFC3339Nano)}}
}

// BreachFromEvent reads a breach back from its lead event.
func BreachFromEvent(e Event) (Breach, bool) {
	if e.Kind != EventBreach {
		return Breach{}, false
	}
	str := func(k string) string { s, _ := e.Data[k].(string); return s }
	due, _ := time.Parse(time.RFC3339Nano, str("due"))
	return Breach{LeadID: e.LeadID, Kind: BreachKind(str("kind")), Rule: str("rule"), RepEmail: str("rep"),
		Team: str("team"), Due: due, At: e.At}, true
}
