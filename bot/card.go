package bot

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// Action ids of the hand-off card's controls. The actions row's id carries
// the lead id ("lead:42").
const (
	actionAck      = "lead.ack"
	actionTouch    = "lead.touch"
	actionSnooze   = "lead.snooze"
	actionReturn   = "lead.return"
	actionReject   = "lead.reject"
	actionOpenCRM  = "lead.crm"
	leadBlockIDPfx = "lead:"
)

// Room a card gives to text of any length, in bytes: a section, one of the
// side-by-side fields. Every platform slabot serves takes at least this.
const (
	maxSectionText = 3000
	maxFieldText   = 2000
)

// cardData is everything a hand-off card shows.
type cardData struct {
	Lead    *engine.Lead
	Touches []engine.Touch
	Events  []engine.Event
	Rule    *engine.Rule // nil when the lead's rule left the policy
	Policy  *engine.Policy
	// Viewer is whose chat the card sits in; a card of a previous owner
	// says the lead moved on.
	Viewer string
	Loc    *time.Location
	Now    time.Time
}

// leadCard is the hand-off card: who, why now, what they did, the deadline
// in the viewer's time, the cadence, and the buttons that act.
func leadCard(d cardData) view.Message {
	l := d.Lead
	title := l.DisplayName()
	prefix := "New lead"
	switch {
	case d.Viewer != "" && d.Viewer != l.OwnerEmail:
		prefix = "Moved on"
	case !l.State.Open():
		prefix = strings.ToUpper(l.State.Label()[:1]) + l.State.Label()[1:]
	case l.State != engine.StateNew && l.State != engine.StateNotified && l.State != engine.StateReassigned:
		prefix = "Lead"
	}
	status := statusLines(d)
	blocks := []view.Block{
		view.Heading{Text: prefix + ": " + title},
		view.Section{Lines: status},
		view.Fields{Fields: []view.Section{contactField(l), companyField(l), whyNowField(l, d.Rule), activityField(l)}},
	}
	if form, ok := formText(l); ok {
		blocks = append(blocks, form)
	}
	if seen, ok := recycleSection(d); ok {
		blocks = append(blocks, seen)
	}
	if hist := historyLine(d); hist != nil {
		blocks = append(blocks, view.Context{Lines: []view.Text{hist}})
	}
	if actions, ok := cardActions(d); ok {
		blocks = append(blocks, actions)
	}
	blocks = append(blocks, feedbackBlocks(d)...)
	return view.Message{Summary: fmt.Sprintf("%s: %s. %s", prefix, title, status[0].Plain()), Blocks: blocks}
}

// LeadCard is a lead's hand-off card as viewer sees it at now, in loc,
// without the lead's history: a preview, and what a platform's rendering
// is tested with.
func LeadCard(l *engine.Lead, viewer string, loc *time.Location, now time.Time) view.Message {
	return leadCard(cardData{Lead: l, Viewer: viewer, Loc: loc, Now: now})
}

// statusLines says what the rep must do next and by when.
func statusLines(d cardData) []view.Text {
	l, now, loc := d.Lead, d.Now, d.Loc
	var lines []view.Text
	switch {
	case d.Viewer != "" && d.Viewer != l.OwnerEmail:
		owner := l.OwnerEmail
		if owner == "" {
			owner = "nobody yet"
		}
		lines = append(lines, view.T(view.B("This lead now belongs to "+owner+"."), " Nothing more to do here."))
	case l.State == engine.StateReturned:
		lines = append(lines, view.T(view.B("Returned to Marketing"), ": "+l.ReturnReason))
	case !l.State.Open():
		lines = append(lines, view.T(view.B("This lead is "+l.State.Label()+"."), " Nothing more is due."))
	case l.FirstTouchAt.IsZero():
		if due := acceptDue(d); !due.IsZero() && l.AcknowledgedAt.IsZero() {
			if now.Before(due) {
				lines = append(lines, view.T(view.B("Accept by "+clock(due, now, loc)), " — "+relative(due, now)))
			} else {
				lines = append(lines, view.T(view.Alarm, " ", view.B("Accepting is overdue"),
					fmt.Sprintf(" — it was due %s (%s)", relative(due, now), clock(due, now, loc))))
			}
		}
		if now.Before(l.FirstTouchDue) {
			lines = append(lines, view.T(view.B("First touch due "+relative(l.FirstTouchDue, now)), " — "+clock(l.FirstTouchDue, now, loc)))
		} else {
			lines = append(lines, view.T(view.Alarm, " ", view.B("First touch overdue"),
				fmt.Sprintf(" — it was due %s (%s)", relative(l.FirstTouchDue, now), clock(l.FirstTouchDue, now, loc))))
		}
	default:
		onTime := "on time"
		if l.FirstTouchAt.After(l.FirstTouchDue) {
			onTime = "late"
		}
		lines = append(lines, view.T(view.Done, fmt.Sprintf(" First touch done %s (%s)", clock(l.FirstTouchAt, now, loc), onTime)))
	}
	if d.Rule != nil && l.State.Open() && (d.Viewer == "" || d.Viewer == l.OwnerEmail) {
		cp := d.Policy.LeadCadence(d.Rule, l, l.AssignedAt, now, engine.TouchTimes(d.Touches))
		if cp.Required > 0 {
			lines = append(lines, view.T("Cadence: "+cp.String()))
		}
	}
	if l.State == engine.StateSnoozed && l.SnoozedUntil.After(now) {
		lines = append(lines, view.T(view.Snoozed, " Reminders snoozed until "+clock(l.SnoozedUntil, now, loc)+" — the SLA clock keeps running"))
	}
	return lines
}

// acceptDue is when the card's lead must be accepted under its rule's
// accept_within; zero when the rule sets none (or left the policy).
func acceptDue(d cardData) time.Time {
	if d.Rule == nil || d.Rule.AcceptWithin <= 0 || d.Lead.AssignedAt.IsZero() {
		return time.Time{}
	}
	return d.Policy.LeadDeadlines(d.Rule, d.Lead, d.Lead.AssignedAt).AcceptDue
}

func contactField(l *engine.Lead) view.Section {
	c := l.Contact
	name := c.Name
	if name == "" {
		name = "(no name)"
	}
	line := view.T(view.B(name))
	if c.Title != "" {
		line = view.T(line, ", "+c.Title)
	}
	lines := []view.Text{view.T(view.B("Who")), line}
	for _, s := range []string{c.Email, c.Phone} {
		if s != "" {
			lines = append(lines, view.T(s))
		}
	}
	return view.Section{Lines: lines}
}

func companyField(l *engine.Lead) view.Section {
	co := l.Company
	name := co.Name
	if name == "" {
		name = "(no company)"
	}
	if co.Domain != "" {
		name += " (" + co.Domain + ")"
	}
	lines := []view.Text{view.T(view.B("Company")), view.T(name)}
	var facts []string
	switch {
	case co.EmployeesRange != "":
		facts = append(facts, co.EmployeesRange+" employees")
	case co.Employees > 0:
		facts = append(facts, thousands(co.Employees)+" employees")
	}
	for _, s := range []string{co.Industry, co.Country} {
		if s != "" {
			facts = append(facts, s)
		}
	}
	if len(facts) > 0 {
		lines = append(lines, view.T(strings.Join(facts, " · ")))
	}
	return view.Section{Lines: lines}
}

func whyNowField(l *engine.Lead, r *engine.Rule) view.Section {
	var facts []string
	if l.Source != "" {
		facts = append(facts, strings.ReplaceAll(l.Source, "_", " "))
	}
	if l.Segment != "" {
		facts = append(facts, l.Segment)
	}
	lines := []view.Text{view.T(view.B("Why now")), view.T(strings.Join(facts, " · "))}
	var nums []string
	if l.Score > 0 {
		nums = append(nums, "score "+strconv.Itoa(l.Score))
	}
	if l.Value > 0 {
		nums = append(nums, "value "+money(l.Value))
	}
	if len(nums) > 0 {
		lines = append(lines, view.T(strings.Join(nums, " · ")))
	}
	if r != nil {
		lines = append(lines, view.T("SLA: "+r.Name))
	}
	return view.Section{Lines: lines}
}

// Room on the card for a lead's lists: what does not fit is counted, and
// the rep told it is in the CRM.
const (
	maxPagesText     = 1000 // bytes of the "What they did" field for pages
	maxDownloadsText = 600  // and for downloads
	maxListItemShown = 120  // characters of one page or download
	maxQuestionShown = 100  // characters of a form question
	maxAnswerShown   = 300  // characters of a form answer
)

func activityField(l *engine.Lead) view.Section {
	a, o := l.Context.Activity, l.Context.Omitted
	lines := []view.Text{view.T(view.B("What they did"))}
	if a.Visits > 0 {
		lines = append(lines, view.T(fmt.Sprintf("%d visits", a.Visits)))
	}
	if s := listText("pages: ", a.Pages, o.Pages, "page", "pages", maxPagesText); s != nil {
		lines = append(lines, s)
	}
	if s := listText("downloaded: ", a.Downloads, o.Downloads, "download", "downloads", maxDownloadsText); s != nil {
		lines = append(lines, s)
	}
	if len(lines) == 1 {
		lines = append(lines, view.T("no web activity recorded"))
	}
	return view.Section{Lines: lines}
}

// listText shows as many items as fit in budget bytes, then how many more
// there are: those the card has no room for, and those the lead never kept
// (omitted).
func listText(label string, items []string, omitted int, one, many string, budget int) view.Text {
	if len(items) == 0 && omitted <= 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(label)
	shown := 0
	for _, item := range items {
		s := view.Clip(item, maxListItemShown)
		if shown > 0 {
			s = ", " + s
		}
		// Keep room for the "+N more" note at the end.
		if b.Len()+len(s) > budget-40 {
			break
		}
		b.WriteString(s)
		shown++
	}
	line := view.T(b.String())
	if more := len(items) - shown + max(omitted, 0); more > 0 {
		if shown > 0 {
			line = view.T(line, " ")
		}
		line = view.T(line, moreInCRM(more, one, many))
	}
	return line
}

// moreInCRM says how much more the CRM holds: "+10 more answers in the CRM".
func moreInCRM(n int, one, many string) view.Span {
	noun := many
	if n == 1 {
		noun = one
	}
	return view.I(fmt.Sprintf("+%d more %s in the CRM", n, noun))
}

// formText is the lead's form answers, as many as fit; false when there
// are none.
func formText(l *engine.Lead) (view.Section, bool) {
	omitted := max(l.Context.Omitted.FormAnswers, 0)
	if len(l.Context.Form) == 0 && omitted == 0 {
		return view.Section{}, false
	}
	keys := make([]string, 0, len(l.Context.Form))
	for k := range l.Context.Form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	lines := []view.Text{view.T(view.B("Form answers"))}
	size := len("Form answers")
	for _, k := range keys {
		line := fmt.Sprintf("• %s: %s", view.Clip(k, maxQuestionShown), view.Clip(l.Context.Form[k], maxAnswerShown))
		// Keep room for the "+N more" note at the end.
		if size+1+len(line) > maxSectionText-60 {
			break
		}
		size += 1 + len(line)
		lines = append(lines, view.T(line))
	}
	if more := len(keys) - (len(lines) - 1) + omitted; more > 0 {
		lines = append(lines, view.T(moreInCRM(more, "answer", "answers")))
	}
	return view.Section{Lines: lines}, true
}

// historyLine sums up what has happened: accepted, touches, snoozes;
// nil when nothing has.
func historyLine(d cardData) view.Text {
	l := d.Lead
	var parts []string
	if !l.AcknowledgedAt.IsZero() {
		by := "the rep"
		for _, e := range d.Events {
			if e.Kind == "acknowledged" {
				by = e.Actor
			}
		}
		parts = append(parts, fmt.Sprintf("Accepted by %s at %s", by, clock(l.AcknowledgedAt, d.Now, d.Loc)))
	}
	if n := len(d.Touches); n > 0 {
		var kinds []string
		for _, t := range d.Touches {
			kinds = append(kinds, string(t.Kind))
		}
		parts = append(parts, fmt.Sprintf("%s logged (%s)", plural(n, "touch", "touches"), strings.Join(compact(kinds), ", ")))
	}
	if st, ok := engine.ContestOf(d.Events, 0); ok && st.Decision == engine.ContestOverturned && l.State.Open() {
		parts = append(parts, fmt.Sprintf("Your rejection (%s) was contested by %s and overturned by %s: the lead is yours again",
			strings.ToLower(rejectionWords(st.Rejection)), st.Contest.Actor, st.Decided.Actor))
	}
	for i := len(d.Events) - 1; i >= 0; i-- {
		if e := d.Events[i]; e.Kind == "snoozed" && l.State == engine.StateSnoozed {
			if reason, _ := e.Data["reason"].(string); reason != "" {
				parts = append(parts, "Snoozed: "+reason)
			}
			break
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return view.T(strings.Join(parts, " · "))
}

// compact counts repeats: [call call email] → [2× call, email].
func compact(items []string) []string {
	var out []string
	for i := 0; i < len(items); {
		j := i
		for j < len(items) && items[j] == items[i] {
			j++
		}
		if j-i > 1 {
			out = append(out, fmt.Sprintf("%d× %s", j-i, items[i]))
		} else {
			out = append(out, items[i])
		}
		i = j
	}
	return out
}

var touchLabels = map[engine.TouchKind]string{
	engine.TouchCall: "Call", engine.TouchEmail: "Email", engine.TouchMeeting: "Meeting",
	engine.TouchLinkedIn: "LinkedIn", engine.TouchOther: "Other",
}

// cardActions are the buttons; a closed lead or a previous owner's card
// keeps only the CRM link. False when there is nothing to press.
func cardActions(d cardData) (view.Actions, bool) {
	l := d.Lead
	id := strconv.FormatInt(l.ID, 10)
	var controls []view.Control
	if l.State.Open() && (d.Viewer == "" || d.Viewer == l.OwnerEmail) {
		if l.AcknowledgedAt.IsZero() {
			controls = append(controls, view.Button{Action: actionAck, Value: id, Label: "Accept", Style: view.Primary})
		}
		touch := view.Choice{Action: actionTouch, Placeholder: "Log touch…"}
		for _, k := range engine.TouchKinds {
			touch.Options = append(touch.Options, view.Option{Value: string(k), Label: touchLabels[k]})
		}
		snooze, ret, rej := snoozeForm(l), returnForm(d), rejectForm(l)
		controls = append(controls, touch,
			view.Button{Action: actionReject, Value: id, Label: "Reject", Form: &rej},
			view.Button{Action: actionSnooze, Value: id, Label: "Snooze", Form: &snooze},
			view.Button{Action: actionReturn, Value: id, Label: "Return to marketing", Style: view.Danger, Form: &ret})
	}
	if l.CRMURL != "" && len(l.CRMURL) <= maxURL {
		controls = append(controls, view.Button{Action: actionOpenCRM, Value: id, Label: "Open in CRM", URL: l.CRMURL})
	}
	if len(controls) == 0 {
		return view.Actions{}, false
	}
	return view.Actions{ID: leadBlockIDPfx + id, Controls: controls}, true
}

// maxURL is the longest link a button carries; longer ones are left off.
const maxURL = 3000

// leadIDFromBlock reads the lead id from an actions row's id.
func leadIDFromBlock(blockID string) (int64, bool) {
	s, ok := strings.CutPrefix(blockID, leadBlockIDPfx)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}
