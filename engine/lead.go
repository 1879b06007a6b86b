package engine

import (
	"fmt"
	"slices"
	"time"
)

// LeadState is where a lead stands in its life with Sales.
type LeadState string

// The lead lifecycle. Open states are those in which the SLA clock runs.
const (
	StateNew          LeadState = "new"
	StateNotified     LeadState = "notified"
	StateAcknowledged LeadState = "acknowledged"
	StateWorking      LeadState = "working"
	StateSnoozed      LeadState = "snoozed"
	StateReassigned   LeadState = "reassigned"
	StateReturned     LeadState = "returned_to_marketing"
	StateOpportunity  LeadState = "opportunity"
	StateWon          LeadState = "won"
	StateLost         LeadState = "lost"
	StateDisqualified LeadState = "disqualified"
)

// closingStates may be reached from any open state.
var closingStates = []LeadState{StateReassigned, StateReturned, StateOpportunity, StateWon, StateLost, StateDisqualified}

var transitions = map[LeadState][]LeadState{
	StateNew:          append([]LeadState{StateNotified, StateAcknowledged, StateWorking, StateSnoozed}, closingStates...),
	StateNotified:     append([]LeadState{StateAcknowledged, StateWorking, StateSnoozed}, closingStates...),
	StateAcknowledged: append([]LeadState{StateWorking, StateSnoozed}, closingStates...),
	StateWorking:      append([]LeadState{StateSnoozed}, closingStates...),
	StateSnoozed:      append([]LeadState{StateAcknowledged, StateWorking, StateSnoozed}, closingStates...),
	StateReassigned:   append([]LeadState{StateNotified, StateAcknowledged, StateWorking, StateSnoozed}, closingStates...),
	StateOpportunity:  {StateWon, StateLost},
	// Returned, won, lost and disqualified are final.
}

// Open reports whether the lead is still with Sales and its clocks run.
func (s LeadState) Open() bool {
	switch s {
	case StateNew, StateNotified, StateAcknowledged, StateWorking, StateSnoozed, StateReassigned:
		return true
	}
	return false
}

// Valid reports whether s is one of the known states.
func (s LeadState) Valid() bool {
	_, ok := transitions[s]
	return ok || s == StateReturned || s == StateWon || s == StateLost || s == StateDisqualified
}

// Label is the state in words for people.
func (s LeadState) Label() string {
	switch s {
	case StateNew:
		return "new"
	case StateNotified:
		return "waiting for the rep"
	case StateAcknowledged:
		return "accepted"
	case StateWorking:
		return "being worked"
	case StateSnoozed:
		return "snoozed"
	case StateReassigned:
		return "reassigned"
	case StateReturned:
		return "returned to Marketing"
	case StateOpportunity:
		return "opportunity"
	case StateWon:
		return "won"
	case StateLost:
		return "lost"
	case StateDisqualified:
		return "disqualified"
	}
	return string(s)
}

// CanTransition reports whether a lead in state from may move to state to.
func CanTransition(from, to LeadState) bool {
	return slices.Contains(transitions[from], to)
}

// Transition checks a move of the lead's state and returns an EINVALID error
// that a person can read when the move is impossible.
func Transition(from, to LeadState) error {
	if !to.Valid() {
		return Errorf(EINVALID, "%q is not a lead state", to)
	}
	if CanTransition(from, to) {
		return nil
	}
	if !from.Open() && from != StateOpportunity {
		return Errorf(EINVALID, "this lead is already %s, so it cannot become %s", from.Label(), to.Label())
	}
	return Errorf(EINVALID, "a lead that is %s cannot become %s", from.Label(), to.Label())
}

// Contact is the person behind a lead.
type Contact struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Title string `json:"title,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// Company is the organisation behind a lead.
type Company struct {
	Name      string `json:"name,omitempty"`
	Domain    string `json:"domain,omitempty"`
	Employees int    `json:"employees,omitempty"`
	// EmployeesRange is the head count as a range ("25-50"), when the
	// source gave one; Employees is then its lower bound.
	EmployeesRange string `json:"employees_range,omitempty"`
	Industry       string `json:"industry,omitempty"`
	Country        string `json:"country,omitempty"`
}

// Activity is what the lead did on the web before the hand-off.
type Activity struct {
	Visits    int      `json:"visits,omitempty"`
	Pages     []string `json:"pages,omitempty"`
	Downloads []string `json:"downloads,omitempty"`
}

// LeadContext is what travels with the lead so the rep can call prepared.
type LeadContext struct {
	Form     map[string]string `json:"form,omitempty"`
	Activity Activity          `json:"activity,omitzero"`
	// Omitted counts what the hand-off carried beyond what a lead keeps.
	Omitted Omitted `json:"omitted,omitzero"`
}

// Lead is a sales-qualified lead handed from Marketing to Sales.
type Lead struct {
	ID         int64
	ExternalID string
	Source     string
	Segment    string
	Score      int
	Contact    Contact
	Company    Company
	Context    LeadContext
	CRMURL     string
	Value      float64

	// OwnerEmail is the rep who holds the lead now; Team is that rep's team.
	OwnerEmail string
	Team       string
	// Rule is the name of the policy rule the lead falls under.
	Rule  string
	State LeadState

	// HandedOffAt is when Marketing handed the lead over (the CRM's time);
	// ReceivedAt when slabot received it; AssignedAt when the current owner
	// got it, which starts the rep's first-touch clock.
	HandedOffAt    time.Time
	ReceivedAt     time.Time
	AssignedAt     time.Time
	FirstTouchDue  time.Time
	AcknowledgedAt time.Time
	FirstTouchAt   time.Time
	SnoozedUntil   time.Time
	ClosedAt       time.Time
	// Reassignments counts automatic re-routings after a breach.
	Reassignments int
	ReturnReason  string
	Amount        float64
	UpdatedAt     time.Time
}

// DisplayName is how the lead is named in messages: the contact and company.
func (l *Lead) DisplayName() string {
	switch {
	case l.Contact.Name != "" && l.Company.Name != "":
		return fmt.Sprintf("%s (%s)", l.Contact.Name, l.Company.Name)
	case l.Contact.Name != "":
		return l.Contact.Name
	case l.Company.Name != "":
		return l.Company.Name
	case l.Contact.Email != "":
		return l.Contact.Email
	}
	return l.ExternalID
}

// TouchKind is the channel of a follow-up attempt.
type TouchKind string

// The kinds of touch a rep can log.
const (
	TouchCall     TouchKind = "call"
	TouchEmail    TouchKind = "email"
	TouchMeeting  TouchKind = "meeting"
	TouchLinkedIn TouchKind = "linkedin"
	TouchOther    TouchKind = "other"
)

// TouchKinds lists every kind in the order they are offered to reps.
var TouchKinds = []TouchKind{TouchCall, TouchEmail, TouchMeeting, TouchLinkedIn, TouchOther}

// Valid reports whether k is a known touch kind.
func (k TouchKind) Valid() bool { return slices.Contains(TouchKinds, k) }

// Touch is one follow-up attempt tied to a lead.
type Touch struct {
	ID      int64
	LeadID  int64
	Kind    TouchKind
	At      time.Time
	ByEmail string
	Note    string
	// Origin says where the touch was logged: "slack" or "crm".
	Origin string
	// Key makes a touch idempotent: a second touch with the same key is a repeat.
	Key string
}

// TouchTimes are the times of touches, in their order: what the cadence
// and the breach rules count.
func TouchTimes(touches []Touch) []time.Time {
	times := make([]time.Time, len(touches))
	for i, t := range touches {
		times[i] = t.At
	}
	return times
}

// Event is one entry of a lead's append-only history.
type Event struct {
	ID     int64
	LeadID int64
	At     time.Time
	Kind   string
	Actor  string
	Data   map[string]any
}

// RepStatus says whether a rep can receive leads.
type RepStatus string

// Rep statuses.
const (
	RepActive   RepStatus = "active"
	RepAway     RepStatus = "away"
	RepInactive RepStatus = "inactive"
)

// Rep is a salesperson who receives leads.
type Rep struct {
	ID    int64
	Email string
	Name  string
	Team  string
	// TimeZone is the rep's own zone, as their chat platform knows it.
	TimeZone  string
	Status    RepStatus
	AwayUntil time.Time
}

// Available reports whether the rep may receive a new lead at now.
func (r *Rep) Available(now time.Time) bool {
	switch r.Status {
	case RepActive:
		return true
	case RepAway:
		return !r.AwayUntil.IsZero() && !now.Before(r.AwayUntil)
	}
	return false
}
