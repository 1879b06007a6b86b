package engine

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// What slabot tells CRMs. Every lead event that a CRM or an automation tool
// cares about is published as a CRM event of a contract type; publishing is
// queuing a JobCRMEvent in the transaction that records the event, so an
// event is published exactly when it happens, and never when the change
// rolls back. What the job does with it (webhooks, HubSpot) is the crm
// packages' business: the engine speaks no HTTP.

// The CRM event types (see "CRM loop" in the design): names a consumer
// subscribes to, part of the contract.
const (
	CRMHandOffCreated   = "handoff.created"
	CRMLeadAcknowledged = "lead.acknowledged"
	CRMTouchLogged      = "touch.logged"
	CRMLeadSnoozed      = "lead.snoozed"
	CRMLeadReturned     = "lead.returned"
	CRMSLABreached      = "sla.breached"
	CRMLeadReassigned   = "lead.reassigned"
	CRMOutcomeRecorded  = "outcome.recorded"
	CRMRepAway          = "rep.away"
	CRMRepBack          = "rep.back"
	// The accepted-lead loop's: an acceptance is published both as
	// lead.acknowledged (as before Accept replaced Acknowledge) and as
	// lead.accepted.
	CRMLeadAccepted = "lead.accepted"
	CRMLeadRejected = "lead.rejected"
	CRMLeadRerouted = "lead.rerouted"
	// lead.contested goes out when Marketing contests a rejection
	// (data.decision "pending") and again when the manager decides it
	// ("upheld" or "overturned").
	CRMLeadContested = "lead.contested"
	// CRMLeadRecycleDue: a lead returned "not now" reached its revisit
	// date (data.revisit_on, data.reason, data.returned_by; data.owner is
	// the rep who had it).
	CRMLeadRecycleDue = "lead.recycle_due"
)

// CRMEventTypes lists every type, in the order the README lists them.
var CRMEventTypes = []string{CRMHandOffCreated, CRMLeadAcknowledged, CRMTouchLogged, CRMLeadSnoozed,
	CRMLeadReturned, CRMSLABreached, CRMLeadReassigned, CRMOutcomeRecorded, CRMRepAway, CRMRepBack,
	CRMLeadAccepted, CRMLeadRejected, CRMLeadRerouted, CRMLeadContested, CRMLeadRecycleDue}

// Where a change came from, in CRM events: a person in chat, or the intake
// API (a CRM). A consumer skips what its own CRM sent.
const (
	OriginChat = "chat"
	OriginAPI  = "api"
)

// JobCRMEvent publishes one CRM event; QueueCRM is the queue of every job
// that talks to a CRM, so a slow CRM never holds up a card, a click or a
// timer.
const (
	JobCRMEvent = "crm.event"
	QueueCRM    = "crm"
)

// CRMEventArgs is one published event. Field names are stored.
type CRMEventArgs struct {
	Type string `json:"type"`
	// Subject names what the event is about: "lead:{id}" or "rep:{email}".
	// Events of one subject are delivered in the order they happened.
	Subject string `json:"subject"`
	// EventID is the id of the lead event (or, for rep events, of the rep
	// event); with Subject it names the event uniquely.
	EventID int64     `json:"event_id,string"`
	LeadID  int64     `json:"lead_id,omitempty"`
	At      time.Time `json:"at"`
	// Data is the event's data as webhooks publish it: external_id, owner,
	// by, origin and, per type, kind, reason...
	Data map[string]any `json:"data"`
	// What a CRM writer needs beyond Data: the lead's contact and CRM link,
	// and a touch's note.
	ContactEmail string `json:"contact_email,omitempty"`
	// Also: the event is published beside another type of the same lead
	// event (lead.accepted beside lead.acknowledged), so it needs an id of
	// its own.
	Also   bool   `json:"also,omitempty"`
	CRMURL string `json:"crm_url,omitempty"`
	Note   string `json:"note,omitempty"`
}

func (CRMEventArgs) Kind() string  { return JobCRMEvent }
func (CRMEventArgs) Queue() string { return QueueCRM }

// Origin is where the change came from (OriginChat or OriginAPI).
func (a CRMEventArgs) Origin() string { s, _ := a.Data["origin"].(string); return s }

// Str reads a text field of Data.
func (a CRMEventArgs) Str(key string) string { s, _ := a.Data[key].(string); return s }

// crmSwitch says what consumes CRM events besides the policy's webhooks:
// a CRM writer (HubSpot) turned on by the configuration, by the events it
// writes.
type crmSwitch struct {
	writer atomic.Pointer[func(CRMEventArgs) bool]
}

// PublishToCRMWriter turns on CRM events for a CRM writer (HubSpot), for
// the events wants accepts, even when the policy has no webhooks; nil
// turns it off.
func (s *Service) PublishToCRMWriter(wants func(CRMEventArgs) bool) {
	if wants == nil {
		s.crm.writer.Store(nil)
		return
	}
	s.crm.writer.Store(&wants)
}

// publishing reports whether CRM events may be queued at all.
func (s *Service) publishing() bool {
	if s.crm.writer.Load() != nil {
		return true
	}
	p := s.Policy()
	return p != nil && len(p.Webhooks) > 0
}

// wantsCRMEvent reports whether a webhook or the CRM writer takes the
// event: the others are not queued, so a webhook for outcomes alone costs
// the clicks and touches nothing.
func (s *Service) wantsCRMEvent(ev CRMEventArgs) bool {
	if w := s.crm.writer.Load(); w != nil && (*w)(ev) {
		return true
	}
	if p := s.Policy(); p != nil {
		for _, h := range p.Webhooks {
			if h.Wants(ev.Type) {
				return true
			}
		}
	}
	return false
}

// crmPublishingStore hands the Service's callbacks a Tx that publishes the
// events they append: one place, whatever the change.
type crmPublishingStore struct {
	ServiceStore
	s *Service
}

func (ps crmPublishingStore) InTx(ctx context.Context, fn func(Tx) error) error {
	return ps.ServiceStore.InTx(ctx, func(tx Tx) error {
		if !ps.s.publishing() {
			return fn(tx)
		}
		return fn(&crmPublishingTx{Tx: tx, s: ps.s})
	})
}

// crmPublishingTx queues a CRM event beside every lead or rep event worth
// publishing. It remembers the touch added last, whose note the touch's
// event does not carry.
type crmPublishingTx struct {
	Tx
	s         *Service
	lastTouch *Touch
}

func (t *crmPublishingTx) AddTouch(ctx context.Context, touch *Touch) (bool, error) {
	added, err := t.Tx.AddTouch(ctx, touch)
	if err == nil && added {
		t.lastTouch = touch
	}
	return added, err
}

func (t *crmPublishingTx) AppendEvent(ctx context.Context, e *Event) error {
	if err := t.Tx.AppendEvent(ctx, e); err != nil {
		return err
	}
	types := crmEventTypes(e)
	if len(types) == 0 {
		return nil
	}
	// The lead is locked (or was created) by this transaction already.
	l, err := t.Tx.LockLead(ctx, e.LeadID)
	if err != nil {
		return fmt.Errorf("engine: read the lead of a %s event to publish it: %w", types[0], err)
	}
	for i, typ := range types {
		args := leadCRMEvent(typ, e, l)
		if typ == CRMTouchLogged && t.lastTouch != nil && t.lastTouch.LeadID == l.ID {
			args.Note = t.lastTouch.Note
			if args.Note != "" {
				args.Data["note"] = args.Note
			}
		}
		if !t.s.wantsCRMEvent(args) {
			continue
		}
		// The first type keeps the key it always had; another type of the
		// same lead event is told apart by its name.
		key := fmt.Sprintf("%s:%s:%d", JobCRMEvent, args.Subject, e.ID)
		if i > 0 {
			key += ":" + typ
			args.Also = true
		}
		if _, err := t.Tx.Enqueue(ctx, Job{Args: args, LeadID: l.ID, UniqueKey: key}); err != nil {
			return err
		}
	}
	return nil
}

// crmEventTypes are the contract types a lead event is published as.
func crmEventTypes(e *Event) []string {
	switch {
	case e.Kind == "acknowledged":
		return []string{CRMLeadAcknowledged, CRMLeadAccepted}
	case e.Kind == EventRejected:
		return []string{CRMLeadRejected}
	case e.Kind == EventReassigned && e.Data["reroute"] == true:
		return []string{CRMLeadRerouted}
	case e.Kind == EventContested || e.Kind == EventContestDecided:
		return []string{CRMLeadContested}
	case e.Kind == EventRecycleDue:
		return []string{CRMLeadRecycleDue}
	}
	if typ := CRMEventType(e.Kind); typ != "" {
		return []string{typ}
	}
	return nil
}

func (t *crmPublishingTx) AppendRepEvent(ctx context.Context, e *RepEvent) error {
	if err := t.Tx.AppendRepEvent(ctx, e); err != nil {
		return err
	}
	var typ string
	switch e.Kind {
	case RepEventAway:
		typ = CRMRepAway
	case RepEventBack:
		typ = CRMRepBack
	default:
		return nil
	}
	by, origin := actorFields(e.Actor)
	data := map[string]any{"external_id": "", "owner": e.RepEmail, "by": by, "origin": origin}
	if !e.Until.IsZero() {
		data["until"] = e.Until.UTC().Format(time.RFC3339)
	}
	args := CRMEventArgs{Type: typ, Subject: "rep:" + strings.ToLower(e.RepEmail), EventID: e.ID, At: e.At, Data: data}
	if !t.s.wantsCRMEvent(args) {
		return nil
	}
	_, err := t.Tx.Enqueue(ctx, Job{Args: args,
		UniqueKey: fmt.Sprintf("%s:%s:%d", JobCRMEvent, args.Subject, e.ID)})
	return err
}

// CRMEventType is the contract type of a lead event's kind, or "" for a
// kind that is not published (reminders, card updates, links...).
func CRMEventType(kind string) string {
	switch kind {
	case "handed_off":
		return CRMHandOffCreated
	case "acknowledged":
		return CRMLeadAcknowledged
	case "touch":
		return CRMTouchLogged
	case "snoozed":
		return CRMLeadSnoozed
	case "returned":
		return CRMLeadReturned
	case EventBreach:
		return CRMSLABreached
	case EventReassigned:
		return CRMLeadReassigned
	}
	if _, ok := outcomes[kind]; ok {
		return CRMOutcomeRecorded
	}
	return ""
}

// systemsOfTheAPI are the actors that stand for a call of the intake API.
var systemsOfTheAPI = map[string]bool{"intake": true, "crm": true}

// actorFields turns an event's actor into the by and origin of a CRM
// event: a person acted in chat; the intake and the CRM came through the
// API; slabot's own decisions (a breach, an automatic reassignment) have no
// person and count as chat, the side slabot stands on.
func actorFields(actor string) (by, origin string) {
	switch {
	case strings.Contains(actor, "@"):
		return strings.ToLower(actor), OriginChat
	case systemsOfTheAPI[actor]:
		return "", OriginAPI
	}
	return "", OriginChat
}

// leadCRMEvent builds the published form of a lead event.
func leadCRMEvent(typ string, e *Event, l *Lead) CRMEventArgs {
	by, origin := actorFields(e.Actor)
	data := map[string]any{"external_id": l.ExternalID, "owner": l.OwnerEmail, "by": by, "origin": origin,
		"lead_id": l.ID, "contact_email": l.Contact.Email}
	str := func(k string) string { s, _ := e.Data[k].(string); return s }
	switch typ {
	case CRMHandOffCreated:
		data["source"], data["segment"], data["score"], data["rule"] = l.Source, l.Segment, l.Score, l.Rule
	case CRMTouchLogged:
		data["kind"], data["at"] = str("kind"), str("at")
		// The touch's own author, when it differs from who logged it.
		if b := str("by"); b != "" && data["by"] == "" {
			data["by"] = b
		}
		if o := str("origin"); o == "crm" {
			data["origin"] = OriginAPI
		}
	case CRMLeadSnoozed:
		data["until"], data["reason"] = str("until"), str("reason")
	case CRMLeadReturned:
		data["reason"] = str("reason")
		data["automatic"] = e.Data["automatic"] == true
		if d := str("revisit_on"); d != "" {
			data["revisit_on"] = d
		}
	case CRMLeadRecycleDue:
		data["revisit_on"], data["reason"] = str("revisit_on"), str("reason")
		data["returned_by"], data["returned_at"] = str("returned_by"), str("returned_at")
	case CRMSLABreached:
		data["kind"], data["rule"], data["due"] = str("kind"), str("rule"), str("due")
	case CRMLeadReassigned:
		data["from"], data["to"], data["reason"] = str("from"), str("to"), str("why")
		data["automatic"] = e.Data["automatic"] == true
	case CRMLeadRejected:
		data["category"], data["detail"], data["reason"] = str("category"), str("detail"), str("note")
	case CRMLeadRerouted:
		data["from"], data["to"], data["reason"] = str("from"), str("to"), str("why")
		data["category"], data["detail"] = str("category"), str("detail")
	case CRMLeadContested:
		data["category"], data["detail"], data["decision"] = str("category"), str("detail"), str("decision")
		data["rep"], data["reason"] = str("rep"), str("note")
		data["contested_by"] = str("contested_by")
		if e.Kind == EventContested {
			data["contested_by"] = by
		}
	case CRMOutcomeRecorded:
		data["kind"] = e.Kind
		data["amount"] = e.Data["amount"]
	}
	return CRMEventArgs{Type: typ, Subject: fmt.Sprintf("lead:%d", l.ID), EventID: e.ID, LeadID: l.ID,
		At: e.At, Data: data, ContactEmail: l.Contact.Email, CRMURL: l.CRMURL}
}
