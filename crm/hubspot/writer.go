package hubspot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/slabot/slabot/engine"
)

// Exactly one HubSpot object per event, however often its job runs:
//
//  1. The write has a row of its own (hubspot_writes), keyed by the event,
//     with a marker unique to the event ("slabotL12E345") that the object's
//     body carries.
//  2. Before a create is sent, the row records that it is being sent, and
//     that is committed. A create HubSpot refuses (4xx, 429, 423, 477)
//     clears it: the object surely does not exist. A create whose answer
//     never came (a crash, a timeout, a 5xx) leaves it set.
//  3. A run that finds it set looks for the object first: a search of the
//     object type for the marker (CONTAINS_TOKEN on the body property).
//     HubSpot's search index lags its writes, so it looks several times,
//     at SearchSchedule's offsets from the send (over about a minute), and
//     only after the last miss sends the create again.
//  4. The create carries the contact association (HubSpot's defined type
//     of that engagement to contacts), so a found object is on its contact
//     too, and the row is finished.

// JobWrite writes one event to HubSpot.
const JobWrite = "hubspot.write"

// WriteArgs is the event to write.
type WriteArgs struct {
	Event engine.CRMEventArgs `json:"event"`
}

func (WriteArgs) Kind() string  { return JobWrite }
func (WriteArgs) Queue() string { return engine.QueueCRM }

// Store is what the writer needs of storage.
type Store interface {
	HubSpotWriteFor(ctx context.Context, key, objectType, marker string) (*engine.HubSpotWrite, error)
	MarkHubSpotSent(ctx context.Context, key string, at time.Time) error
	CountHubSpotSearch(ctx context.Context, key string) (int, error)
	SetHubSpotObject(ctx context.Context, key, objectID string) error
	FinishHubSpotWrite(ctx context.Context, key, outcome string, associated bool, at time.Time) error
	ReportHubSpotScopeOnce(ctx context.Context, scope string, at time.Time, alert *engine.Job) (bool, error)
}

// DefaultSearchSchedule is when, counted from a create whose answer was
// lost, its object is looked for: HubSpot's search usually finds a new
// object within seconds, and sometimes takes most of a minute.
var DefaultSearchSchedule = []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 70 * time.Second}

// Writer writes events to HubSpot.
type Writer struct {
	Client *Client
	Store  Store
	Now    func() time.Time
	// SearchSchedule: see DefaultSearchSchedule (used when nil).
	SearchSchedule []time.Duration
	// OpsTeam is the team whose escalation channel hears of a missing
	// scope ("" for the logs only).
	OpsTeam string
	Logger  *slog.Logger
}

// Jobs returns the job that writes ev, or none when HubSpot does not take
// it: touches logged in chat, acknowledgements, returns and breaches.
// Nothing that came in through the API goes back.
func (w *Writer) Jobs(ev engine.CRMEventArgs) []engine.Job {
	if !Writes(ev) {
		return nil
	}
	return []engine.Job{{Args: WriteArgs{Event: ev}, LeadID: ev.LeadID,
		UniqueKey: fmt.Sprintf("%s:%s:%d", JobWrite, ev.Subject, ev.EventID)}}
}

// Writes reports whether an event is written to HubSpot.
func Writes(ev engine.CRMEventArgs) bool {
	if ev.LeadID == 0 || ev.Origin() == engine.OriginAPI {
		return false
	}
	switch ev.Type {
	case engine.CRMTouchLogged, engine.CRMLeadAcknowledged, engine.CRMLeadReturned, engine.CRMSLABreached,
		engine.CRMLeadRejected, engine.CRMLeadRerouted, engine.CRMLeadContested, engine.CRMLeadRecycleDue:
		return true
	}
	// lead.accepted is the same lead event as lead.acknowledged, whose
	// note says "accepted": one note, not two.
	return false
}

// Handler is the job handler of WriteArgs.
func (w *Writer) Handler() engine.JobHandler {
	return engine.Handle(func(ctx context.Context, job engine.Job, args WriteArgs) error {
		return w.Write(ctx, args.Event)
	})
}

// errSettling says a lost create's object may not be searchable yet.
var errSettling = errors.New("waiting for HubSpot's search to catch up with a create whose answer was lost")

// lookForLostCreate searches for the object of a create whose answer was
// lost, once per run at the schedule's offsets from the send. It returns
// the object's id when found; a RetryAfter until the next search is due;
// and "" with no error once the last search missed, when the create is
// to be sent again.
func (w *Writer) lookForLostCreate(ctx context.Context, ev engine.CRMEventArgs, key, objectType string, rec *engine.HubSpotWrite) (string, error) {
	schedule := w.SearchSchedule
	if schedule == nil {
		schedule = DefaultSearchSchedule
	}
	if rec.Searches >= len(schedule) {
		return "", nil
	}
	if wait := schedule[rec.Searches] - w.Now().Sub(rec.SentAt); wait > 0 {
		return "", engine.RetryAfter(wait, errSettling)
	}
	found, err := w.Client.Search(ctx, objectType,
		Filter{PropertyName: bodyProperty[objectType], Operator: "CONTAINS_TOKEN", Value: rec.Marker})
	if err != nil {
		return "", w.failed(ctx, ev, err)
	}
	if found != nil {
		return found.ID, nil
	}
	n, err := w.Store.CountHubSpotSearch(ctx, key)
	if err != nil {
		return "", err
	}
	if n >= len(schedule) {
		w.Logger.Info("a HubSpot create whose answer was lost is not found after a minute of searches: it is sent again",
			"lead_id", ev.LeadID, "event", ev.Type, "object", objectType, "searches", n)
		return "", nil
	}
	return "", engine.RetryAfter(max(schedule[n]-w.Now().Sub(rec.SentAt), 0), errSettling)
}

// Write makes the event's object on its contact, once.
func (w *Writer) Write(ctx context.Context, ev engine.CRMEventArgs) error {
	objectType, props := engagement(ev)
	key := fmt.Sprintf("%s:%d", ev.Subject, ev.EventID)
	rec, err := w.Store.HubSpotWriteFor(ctx, key, objectType, marker(ev))
	if err != nil {
		return err
	}
	if rec.Done {
		return nil
	}
	props[bodyProperty[objectType]] += "\n\n(" + rec.Marker + ")"
	contactID, err := w.contact(ctx, ev)
	if err != nil {
		return w.failed(ctx, ev, err)
	}
	if contactID == "" {
		w.Logger.Warn("HubSpot has no contact for this lead's email: its activity is not written there",
			"lead_id", ev.LeadID, "event", ev.Type)
		return w.Store.FinishHubSpotWrite(ctx, key, "no contact", false, w.Now())
	}
	if rec.ObjectID == "" && !rec.SentAt.IsZero() {
		found, err := w.lookForLostCreate(ctx, ev, key, objectType, rec)
		if err != nil {
			return err
		}
		if found != "" {
			rec.ObjectID = found
			if err := w.Store.SetHubSpotObject(ctx, key, found); err != nil {
				return err
			}
		}
	}
	if rec.ObjectID == "" {
		if err := w.Store.MarkHubSpotSent(ctx, key, w.Now()); err != nil {
			return err
		}
		id, err := w.Client.Create(ctx, objectType, props, contactID)
		if err != nil {
			var ae *APIError
			if errors.As(err, &ae) && ae.Status < 500 {
				// Refused: nothing was made, so the next run need not look.
				if err := w.Store.MarkHubSpotSent(ctx, key, time.Time{}); err != nil {
					return err
				}
			}
			return w.failed(ctx, ev, err)
		}
		rec.ObjectID = id
		if err := w.Store.SetHubSpotObject(ctx, key, id); err != nil {
			return err
		}
	}
	w.Logger.Debug("written to HubSpot", "lead_id", ev.LeadID, "event", ev.Type, "object", objectType, "id", rec.ObjectID)
	return w.Store.FinishHubSpotWrite(ctx, key, "written", true, w.Now())
}

// hubSpotRecord matches a HubSpot record address and takes its id.
var hubSpotRecord = regexp.MustCompile(`/record/0-1/(\d+)`)

// contact finds the lead's contact: the record the lead came from when it
// came from HubSpot, else a search by the contact's email.
func (w *Writer) contact(ctx context.Context, ev engine.CRMEventArgs) (string, error) {
	if u, err := url.Parse(ev.CRMURL); err == nil && strings.HasSuffix(u.Hostname(), "hubspot.com") {
		if m := hubSpotRecord.FindStringSubmatch(u.Path); m != nil {
			return m[1], nil
		}
	}
	if ev.ContactEmail == "" {
		return "", nil
	}
	return w.Client.ContactByEmail(ctx, ev.ContactEmail)
}

// Scopes are what a Service Key (or a private app) needs for slabot:
// contacts read (find the lead's contact), contacts write (create calls,
// emails, meetings and notes on it: engagements go with the contacts
// scopes), owners read (hubspot_owner_id to an email on hand-offs), and
// sales-email-read, without which HubSpot redacts email engagements, so a
// lost email create could not be found again.
var Scopes = []string{"crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.owners.read", "sales-email-read"}

// failed turns a HubSpot error into what the job does next: a 429, 423 or
// 477 with Retry-After waits as HubSpot asks; without it, and on a 5xx or
// no answer, the error goes back to the job queue, whose backoff (with
// jitter, counted against the job's attempts) applies; a missing scope or
// a refused token is reported once a day and the write given up (it
// cannot succeed until someone changes the key); another 4xx is given up.
func (w *Writer) failed(ctx context.Context, ev engine.CRMEventArgs, err error) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch {
	case ae.Retryable() && ae.RetryAfter > 0:
		return engine.RetryAfter(ae.RetryAfter, err)
	case ae.Retryable():
		return err
	case ae.Status == 401 || ae.Status == 403:
		scope := strings.Join(ae.MissingScopes, " or ")
		text := "HubSpot refuses slabot's key (" + ae.Error() + "): check HUBSPOT_TOKEN. It holds a Service Key " +
			"(HubSpot: Settings → Integrations → Service Keys) or an older private app's access token. " +
			"What reps log in chat until then is not copied to HubSpot."
		if ae.Status == 403 {
			if scope == "" {
				scope = "that HubSpot names in the key's call log"
			}
			text = "HubSpot refuses to let slabot write reps' activity: its key lacks the scope " + scope + ". " +
				"In HubSpot, open Settings → Integrations → Service Keys, pick slabot's key and add the scope " +
				"(slabot needs " + strings.Join(Scopes, ", ") + "); a key from an older private app takes it under " +
				"Development → Legacy apps → slabot → Scopes. Then put the key in HUBSPOT_TOKEN if it changed. " +
				"What reps log in chat until then is not copied to HubSpot."
		}
		var alert *engine.Job
		if w.OpsTeam != "" {
			alert = &engine.Job{Args: engine.OpsAlertArgs{Team: w.OpsTeam, Text: text}}
		}
		first, rerr := w.Store.ReportHubSpotScopeOnce(ctx, fmt.Sprintf("%d:%s", ae.Status, scope), w.Now(), alert)
		if rerr != nil {
			return rerr
		}
		if first {
			w.Logger.Error(text)
		}
		return engine.DropJob(err)
	}
	return engine.DropJob(err)
}

// bodyProperty is where each object type carries its text (and marker).
var bodyProperty = map[string]string{
	"calls": "hs_call_body", "emails": "hs_email_text", "meetings": "hs_meeting_body", "notes": "hs_note_body",
}

// marker is unique to the event, one token for HubSpot's search.
func marker(ev engine.CRMEventArgs) string {
	return "slabotL" + strconv.FormatInt(ev.LeadID, 10) + "E" + strconv.FormatInt(ev.EventID, 10)
}

// engagement is the object type and properties of an event.
func engagement(ev engine.CRMEventArgs) (string, map[string]string) {
	at := ev.At
	if t, err := time.Parse(time.RFC3339Nano, ev.Str("at")); err == nil && ev.Type == engine.CRMTouchLogged {
		at = t
	}
	ts := at.UTC().Format("2006-01-02T15:04:05.000Z")
	by := ev.Str("by")
	if by == "" {
		by = "slabot"
	}
	note := strings.TrimSpace(ev.Note)
	switch ev.Type {
	case engine.CRMTouchLogged:
		text := fmt.Sprintf("%s logged in chat by %s.", touchLabel(ev.Str("kind")), by)
		if note != "" {
			text = note + "\n\n" + text
		}
		switch ev.Str("kind") {
		case "call":
			return "calls", map[string]string{"hs_timestamp": ts, "hs_call_title": "Call (logged in slabot)",
				"hs_call_body": text, "hs_call_direction": "OUTBOUND", "hs_call_status": "COMPLETED"}
		case "email":
			return "emails", map[string]string{"hs_timestamp": ts, "hs_email_direction": "EMAIL",
				"hs_email_status": "SENT", "hs_email_subject": "Email (logged in slabot)", "hs_email_text": text}
		case "meeting":
			return "meetings", map[string]string{"hs_timestamp": ts, "hs_meeting_title": "Meeting (logged in slabot)",
				"hs_meeting_body": text, "hs_meeting_start_time": ts, "hs_meeting_end_time": ts,
				"hs_meeting_outcome": "COMPLETED"}
		}
		return "notes", map[string]string{"hs_timestamp": ts, "hs_note_body": text}
	case engine.CRMLeadAcknowledged:
		return "notes", map[string]string{"hs_timestamp": ts, "hs_note_body": fmt.Sprintf("Lead accepted in chat by %s.", by)}
	case engine.CRMLeadRejected:
		return "notes", map[string]string{"hs_timestamp": ts, "hs_note_body": rejectedNote(ev, by)}
	case engine.CRMLeadRerouted:
		return "notes", map[string]string{"hs_timestamp": ts,
			"hs_note_body": fmt.Sprintf("Lead re-routed: %s said it is not theirs; it now belongs to %s, with a fresh SLA clock.", ev.Str("from"), ev.Str("to"))}
	case engine.CRMLeadContested:
		return "notes", map[string]string{"hs_timestamp": ts, "hs_note_body": contestedNote(ev, by)}
	case engine.CRMLeadRecycleDue:
		return "notes", map[string]string{"hs_timestamp": ts, "hs_note_body": "Time to revisit this lead: the date Sales set when it was returned as not now has come."}
	case engine.CRMLeadReturned:
		return "notes", map[string]string{"hs_timestamp": ts,
			"hs_note_body": fmt.Sprintf("Lead returned to Marketing by %s. Reason: %s", by, ev.Str("reason"))}
	case engine.CRMSLABreached:
		return "notes", map[string]string{"hs_timestamp": ts,
			"hs_note_body": fmt.Sprintf("SLA breached (%s) under rule %s while with %s.",
				strings.ReplaceAll(ev.Str("kind"), "_", " "), ev.Str("rule"), ev.Str("owner"))}
	}
	return "notes", map[string]string{"hs_timestamp": ts, "hs_note_body": ev.Type}
}

func touchLabel(kind string) string {
	switch kind {
	case "call":
		return "Call"
	case "email":
		return "Email"
	case "meeting":
		return "Meeting"
	case "linkedin":
		return "LinkedIn message"
	}
	return "Touch"
}

// rejectedNote says who rejected the lead, in which category and why.
func rejectedNote(ev engine.CRMEventArgs, by string) string {
	text := fmt.Sprintf("Lead rejected in chat by %s: %s", by, words(ev.Str("category")))
	if d := ev.Str("detail"); d != "" {
		text += " (" + words(d) + ")"
	}
	text += "."
	if r := ev.Str("reason"); r != "" {
		text += " Note: " + r
	}
	return text
}

// contestedNote says who contested a rejection, or how the manager decided.
func contestedNote(ev engine.CRMEventArgs, by string) string {
	what := words(ev.Str("category"))
	if d := ev.Str("detail"); d != "" {
		what += ": " + words(d)
	}
	switch ev.Str("decision") {
	case engine.ContestUpheld:
		return fmt.Sprintf("Contested rejection (%s) upheld by %s: the lead stays with Marketing.", what, by)
	case engine.ContestOverturned:
		return fmt.Sprintf("Contested rejection (%s) overturned by %s: the lead is back with %s, accepted.", what, by, ev.Str("owner"))
	}
	text := fmt.Sprintf("Marketing (%s) contested the rejection by %s (%s).", by, ev.Str("rep"), what)
	if r := ev.Str("reason"); r != "" {
		text += " Why: " + r
	}
	return text
}

// words turns a contract value into words: "not_our_buyer" → "not our buyer".
func words(s string) string { return strings.ReplaceAll(s, "_", " ") }
