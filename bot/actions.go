package bot

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file is what people can do on a card, a reminder or an escalation,
// whichever platform they press the button on: the adapter reads the
// click or the submitted form into an Action, and Act carries it out.

// Action is what a person did: pressed a button (Verb is its action id),
// picked a touch, or submitted a form (Verb is the form's id).
type Action struct {
	Actor  engine.Actor
	Verb   string
	LeadID int64
	// Value is the touch kind picked, or, on an escalation's button, the
	// assignment it is about (Unix microseconds).
	Value string
	// EventID is the event an escalation's button is about.
	EventID int64
	// Key makes a redelivered click log one touch, not two.
	Key string
	// Inputs are a submitted form's values by input id.
	Inputs map[string]string
}

// Forms and their inputs. The ids are those of the first release's Slack
// modals, so a form open during an upgrade still submits.
const (
	formSnooze = "lead.snooze"
	formReturn = "lead.return"
	formReject = "lead.reject"

	inputSnoozeLength  = "snooze_length"
	inputSnoozeReason  = "snooze_reason"
	inputReturnCode    = "return_code"
	inputReturnDetails = "return_details"
	inputReturnRevisit = "return_revisit"

	inputRejectReason    = "reject_reason"
	inputRejectOwner     = "reject_owner"
	inputRejectDuplicate = "reject_duplicate"
	inputRejectNote      = "reject_note"
)

// rejectReasons are the answers of the reject form: a category of the
// contract, with its detail after a colon where it takes one from a list.
var rejectReasons = []struct{ Value, Label string }{
	{"wrong_owner", "Wrong owner: it belongs to someone else"},
	{"bad_data:phone", "Bad data: phone wrong or missing"},
	{"bad_data:email", "Bad data: email wrong or missing"},
	{"bad_data:company", "Bad data: company wrong or missing"},
	{"bad_data:other", "Bad data: something else"},
	{"not_our_buyer:size", "Not our buyer: company too small or too big"},
	{"not_our_buyer:industry", "Not our buyer: industry"},
	{"not_our_buyer:region", "Not our buyer: region"},
	{"not_our_buyer:role", "Not our buyer: role"},
	{"not_our_buyer:student", "Not our buyer: a student"},
	{"not_our_buyer:competitor", "Not our buyer: a competitor"},
	{"not_our_buyer:job_seeker", "Not our buyer: a job seeker"},
	{"not_our_buyer:other", "Not our buyer: something else"},
	{"duplicate", "Duplicate of another lead"},
}

func isRejectReason(v string) bool {
	for _, r := range rejectReasons {
		if r.Value == v {
			return true
		}
	}
	return false
}

// rejection reads the reject form's answers.
func rejection(inputs map[string]string) engine.Rejection {
	category, detail, _ := strings.Cut(strings.TrimSpace(inputs[inputRejectReason]), ":")
	r := engine.Rejection{Category: engine.RejectCategory(category), Detail: detail, Note: inputs[inputRejectNote]}
	switch r.Category {
	case engine.RejectWrongOwner:
		r.Detail = strings.TrimPrefix(strings.TrimSpace(inputs[inputRejectOwner]), "@")
	case engine.RejectDuplicate:
		r.Detail = inputs[inputRejectDuplicate]
	}
	return r
}

var snoozeLengths = []struct {
	Value, Label string
	D            time.Duration
}{
	{"30m", "30 minutes", 30 * time.Minute}, {"1h", "1 hour", time.Hour}, {"2h", "2 hours", 2 * time.Hour},
	{"4h", "4 hours", 4 * time.Hour}, {"1d", "1 day", 24 * time.Hour}, {"3d", "3 days", 72 * time.Hour},
}

// returnUnreachable is the return reason offered only once the rule's
// touches are logged or its window closed.
const returnUnreachable = "unable_to_reach"

// returnNotNow is the return reason that asks for a date to revisit.
const returnNotNow = "not_now"

// returnReasons are the reason codes Marketing hears back, reported weekly.
var returnReasons = []struct{ Value, Label string }{
	{"not_a_fit", "Not a fit (size, industry, region)"},
	{"no_budget", "No budget or no project"},
	{"bad_contact", "Wrong or missing contact details"},
	{"duplicate", "Duplicate of a lead or customer"},
	{"not_a_buyer", "Student, competitor or job seeker"},
	{returnNotNow, engine.ReturnReasonNotNow},
	{returnUnreachable, "Unable to reach after the agreed touches"},
	{"other", "Other (say why below)"},
}

func returnReasonLabel(code string) string {
	for _, r := range returnReasons {
		if r.Value == code {
			return r.Label
		}
	}
	return ""
}

func snoozeFor(v string) time.Duration {
	for _, s := range snoozeLengths {
		if s.Value == v {
			return s.D
		}
	}
	return 0
}

// Act carries out an action. A refusal (a stranger's click, a lead that
// moved on, a form missing an answer) is an engine error whose message is
// for the person; anything else is for the job queue to retry. A verb
// that needs a form first (snooze, return) is not an action: FormFor.
func (b *Bot) Act(ctx context.Context, a Action) (*engine.Lead, error) {
	switch a.Verb {
	case actionAck:
		return b.service.Acknowledge(ctx, a.LeadID, a.Actor)
	case actionTouch:
		l, _, err := b.service.LogTouch(ctx, a.LeadID, a.Actor,
			engine.TouchInput{Kind: engine.TouchKind(a.Value), Origin: b.chat.Platform(), Key: a.Key})
		return l, err
	case actionFeedback:
		l, err := b.service.CardFeedback(ctx, a.LeadID, a.Actor, a.Value)
		return l, politeIfConflict(err)
	case actionContest:
		l, err := b.service.Contest(ctx, a.LeadID, a.Actor, a.EventID, "")
		return l, politeIfConflict(err)
	case actionUphold, actionOverturn:
		l, err := b.service.DecideContest(ctx, a.LeadID, a.Actor, a.EventID, a.Verb == actionOverturn)
		return l, politeIfConflict(err)
	case formReject:
		if errs := ValidateForm(a.Verb, a.Inputs); errs != nil {
			for _, msg := range errs {
				return nil, engine.Errorf(engine.EINVALID, "%s", msg)
			}
		}
		return b.service.Reject(ctx, a.LeadID, a.Actor, rejection(a.Inputs))
	case formSnooze, formReturn:
		if errs := ValidateForm(a.Verb, a.Inputs); errs != nil {
			for _, msg := range errs {
				return nil, engine.Errorf(engine.EINVALID, "%s", msg)
			}
		}
		if a.Verb == formSnooze {
			return b.service.Snooze(ctx, a.LeadID, a.Actor, snoozeFor(a.Inputs[inputSnoozeLength]), a.Inputs[inputSnoozeReason])
		}
		switch a.Inputs[inputReturnCode] {
		case returnUnreachable:
			return b.service.ReturnUnreachable(ctx, a.LeadID, a.Actor, a.Inputs[inputReturnDetails])
		case returnNotNow:
			return b.service.ReturnNotNow(ctx, a.LeadID, a.Actor, a.Inputs[inputReturnRevisit], a.Inputs[inputReturnDetails])
		}
		reason := returnReasonLabel(a.Inputs[inputReturnCode])
		if details := a.Inputs[inputReturnDetails]; details != "" {
			reason += ": " + details
		}
		return b.service.ReturnToMarketing(ctx, a.LeadID, a.Actor, reason)
	case actionEscReassign, actionEscReturn, actionEscMoreTime:
		var assigned time.Time
		if us, err := strconv.ParseInt(a.Value, 10, 64); err == nil && us > 0 {
			assigned = time.UnixMicro(us)
		}
		switch a.Verb {
		case actionEscReassign:
			return b.service.ManagerReassign(ctx, a.LeadID, a.Actor, assigned)
		case actionEscReturn:
			return b.service.ManagerReturn(ctx, a.LeadID, a.Actor, assigned)
		default:
			return b.service.GiveMoreTime(ctx, a.LeadID, a.Actor, assigned)
		}
	}
	return nil, nil
}

// FormFor is the form a snooze or a return asks for, once the person may
// act on the lead: a stranger is refused before seeing a form.
func (b *Bot) FormFor(ctx context.Context, actor engine.Actor, leadID int64, verb string) (view.Form, error) {
	l, err := b.store.LeadByID(ctx, leadID)
	if err != nil {
		return view.Form{}, err
	}
	if err := b.service.Authorize(l, actor); err != nil {
		return view.Form{}, err
	}
	if !l.State.Open() {
		return view.Form{}, engine.Errorf(engine.EINVALID, "%s is already %s.", l.DisplayName(), l.State.Label())
	}
	switch verb {
	case actionReturn:
		d, err := b.cardData(ctx, l, actor.Email, b.zoneOf(ctx, actor.Email))
		if err != nil {
			return view.Form{}, err
		}
		return returnForm(d), nil
	case actionReject:
		return rejectForm(l), nil
	}
	return snoozeForm(l), nil
}

func snoozeForm(l *engine.Lead) view.Form {
	length := view.Input{ID: inputSnoozeLength, Label: "For", Placeholder: "How long?", Initial: snoozeLengths[1].Value}
	for _, s := range snoozeLengths {
		length.Options = append(length.Options, view.Option{Value: s.Value, Label: s.Label})
	}
	return view.Form{ID: formSnooze, Subject: strconv.FormatInt(l.ID, 10), Title: "Snooze reminders", Submit: "Snooze",
		Intro: []view.Text{view.T(view.B(l.DisplayName())),
			view.T("Snoozing silences reminders for a while. The SLA clock keeps running: the first-touch deadline does not move.")},
		Inputs: []view.Input{length,
			{ID: inputSnoozeReason, Label: "Why", Placeholder: "e.g. buyer asked to call back Monday", MaxLength: 300}},
	}
}

// unreachableGate is whether the card's lead may go back as unable to
// reach: once the rule's touches are logged or its window closed.
func unreachableGate(d cardData) engine.UnreachableGate {
	times := make([]time.Time, len(d.Touches))
	for i, t := range d.Touches {
		times[i] = t.At
	}
	if d.Now.IsZero() {
		return engine.UnreachableGate{Allowed: true}
	}
	return engine.UnreachableStatus(d.Rule, d.Lead, times, d.Now)
}

func returnForm(d cardData) view.Form {
	l := d.Lead
	gate := unreachableGate(d)
	code := view.Input{ID: inputReturnCode, Label: "Reason", Placeholder: "Choose a reason"}
	for _, r := range returnReasons {
		if r.Value == returnUnreachable && !gate.Allowed {
			continue
		}
		code.Options = append(code.Options, view.Option{Value: r.Value, Label: r.Label})
	}
	intro := []view.Text{view.T(view.B(l.DisplayName()),
		" goes back to Marketing and leaves your queue. The reason is reported to both teams every week.")}
	if !gate.Allowed {
		loc := d.Loc
		if loc == nil {
			loc = time.UTC
		}
		intro = append(intro, view.T("“Unable to reach” opens once the agreed touches are made: "+gate.Why(loc)+"."))
	}
	return view.Form{ID: formReturn, Subject: strconv.FormatInt(l.ID, 10), Title: "Return to Marketing", Submit: "Return lead",
		Intro: intro,
		Inputs: []view.Input{code,
			{ID: inputReturnDetails, Label: "Details", Placeholder: "What should Marketing know?", Multiline: true, MaxLength: 1000, Optional: true},
			revisitInput(d)},
	}
}

// revisitInput asks when Marketing should revisit a lead returned as "not
// now": a date of the lead's team calendar, a quarter ahead unless the
// rep picks another, from tomorrow to a year ahead.
func revisitInput(d cardData) view.Input {
	in := view.Input{ID: inputReturnRevisit, Label: "If not now: revisit on", Placeholder: "When should Marketing bring it back?",
		Date: true, Optional: true}
	if d.Policy == nil || d.Now.IsZero() {
		return in
	}
	first, last, def := engine.RevisitBounds(d.Policy, d.Lead, d.Now)
	in.Initial, in.Min, in.Max = def.String(), first.String(), last.String()
	return in
}

func rejectForm(l *engine.Lead) view.Form {
	reason := view.Input{ID: inputRejectReason, Label: "Why", Placeholder: "Choose a reason"}
	for _, r := range rejectReasons {
		reason.Options = append(reason.Options, view.Option{Value: r.Value, Label: r.Label})
	}
	return view.Form{ID: formReject, Subject: strconv.FormatInt(l.ID, 10), Title: "Reject lead", Submit: "Reject lead",
		Intro: []view.Text{view.T(view.B(l.DisplayName()),
			" is not yours to work? Say why. A lead for someone else goes straight to them with a fresh clock, and does not count against you; any other reason sends it back to Marketing.")},
		Inputs: []view.Input{reason,
			{ID: inputRejectOwner, Label: "Whose is it", Placeholder: "A rep's email or a team; empty if you don't know", MaxLength: 200, Optional: true},
			{ID: inputRejectDuplicate, Label: "Duplicate of", Placeholder: "The CRM id of the lead it repeats", MaxLength: 200, Optional: true},
			{ID: inputRejectNote, Label: "Note", Placeholder: "What should Marketing know?", Multiline: true, MaxLength: 1000, Optional: true}},
	}
}

// ValidateForm checks a submitted form: what to fix, by input id, or nil.
// The platform shows these beside the inputs, and the lead is not touched.
func ValidateForm(formID string, values map[string]string) map[string]string {
	value := func(id string) string { return strings.TrimSpace(values[id]) }
	errs := map[string]string{}
	switch formID {
	case formSnooze:
		if value(inputSnoozeReason) == "" {
			errs[inputSnoozeReason] = "Say why, so your manager knows the lead is in hand."
		}
		if snoozeFor(value(inputSnoozeLength)) == 0 {
			errs[inputSnoozeLength] = "Choose how long to snooze."
		}
	case formReturn:
		code := value(inputReturnCode)
		switch {
		case returnReasonLabel(code) == "":
			errs[inputReturnCode] = "Choose a reason: Marketing needs it to send better leads."
		case code == "other" && value(inputReturnDetails) == "":
			errs[inputReturnDetails] = "Say why you return the lead."
		case code == returnNotNow && value(inputReturnRevisit) == "":
			errs[inputReturnRevisit] = "Choose when Marketing should revisit the lead: a date from tomorrow to a year ahead."
		case code == returnNotNow:
			if _, err := engine.ParseCalendarDate(value(inputReturnRevisit)); err != nil {
				errs[inputReturnRevisit] = "That is not a date: choose one from tomorrow to a year ahead, written YYYY-MM-DD."
			}
		}
	case formReject:
		switch reason := value(inputRejectReason); {
		case !isRejectReason(reason):
			errs[inputRejectReason] = "Choose why: Marketing needs it to send better leads."
		case reason == string(engine.RejectDuplicate) && value(inputRejectDuplicate) == "":
			errs[inputRejectDuplicate] = "Name the lead this one repeats, by its CRM id."
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// EscalationView is an escalation as it stands now, for the platform to
// redraw where the manager pressed its button.
func (b *Bot) EscalationView(ctx context.Context, l *engine.Lead, eventID int64) (view.Message, bool, error) {
	// A rejection notice or a contest's decision request.
	if cd, ok, err := b.contestData(ctx, l, eventID); err != nil || ok {
		if err != nil {
			return view.Message{}, false, err
		}
		return contestMessage(cd), true, nil
	}
	// The decision is read back from the lead's history, as the redraw of
	// a message whose lead moved on does: whichever lands last says the same.
	d, err := b.escalationData(ctx, l, eventID)
	if err != nil || d == nil {
		return view.Message{}, false, err
	}
	if t := b.service.Policy().Team(l.Team); t != nil {
		d.Manager = t.Manager
	}
	return escalationMessage(*d), true, nil
}

// ActionOn reads what a press on a control of a card, a reminder, a home
// view or an escalation asks for: from the id of the control's row (the
// lead; for an escalation also the event escalated), the control's action
// and its value (a button's value, or the option picked). False for a
// control that only opens a link, or a row slabot did not draw.
func ActionOn(actor engine.Actor, row, verb, value string) (Action, bool) {
	if verb == actionOpenCRM {
		return Action{}, false
	}
	if a, ok := feedbackAction(actor, row, verb, value); ok {
		return a, true
	}
	if rest, ok := strings.CutPrefix(row, escBlockIDPfx); ok {
		if !isEscalationAction(verb) {
			return Action{}, false
		}
		leadPart, eventPart, _ := strings.Cut(rest, ":")
		leadID, err := strconv.ParseInt(leadPart, 10, 64)
		if err != nil || leadID <= 0 {
			return Action{}, false
		}
		eventID, _ := strconv.ParseInt(eventPart, 10, 64)
		return Action{Actor: actor, Verb: verb, LeadID: leadID, EventID: eventID, Value: value}, true
	}
	leadID, ok := leadIDFromBlock(row)
	if !ok {
		// A button of an older release named its lead in its value.
		leadID, _ = strconv.ParseInt(value, 10, 64)
	}
	switch verb {
	case actionAck, actionTouch, actionSnooze, actionReturn, actionReject:
	default:
		return Action{}, false
	}
	if leadID <= 0 {
		return Action{}, false
	}
	return Action{Actor: actor, Verb: verb, LeadID: leadID, Value: value}, true
}

// NeedsForm reports whether an action asks for a form (FormFor) before
// anything is done: a snooze, a return to Marketing.
func NeedsForm(verb string) bool {
	return verb == actionSnooze || verb == actionReturn || verb == actionReject
}

// IsForm reports whether id names one of slabot's forms.
func IsForm(id string) bool { return id == formSnooze || id == formReturn || id == formReject }

// Unrecorded is what a person reads when slabot could not confirm it
// recorded what they did (its database is not answering): after a button,
// to check the card; after a command or a form, to send it again (a
// command changes nothing worth checking first, and a form stays open with
// what they typed).
func Unrecorded(click bool) view.Text {
	next := "Please send it again in a moment."
	if click {
		next = "Look at the card again in a moment; if nothing changed, please try again."
	}
	return view.T(view.Waiting, " slabot could not confirm it recorded that: its database is not answering. "+next)
}

// FollowUpFailed is what a person reads when the work a command started
// after its answer (posting the report) failed.
func FollowUpFailed(err error) view.Text {
	return view.T(view.Warning, " "+engine.ErrorMessage(err))
}
