package bot

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/engine"
)

// Action ids of the hand-off card's controls. The block id of the actions
// block carries the lead id ("lead:42").
const (
	actionAck      = "lead.ack"
	actionTouch    = "lead.touch"
	actionSnooze   = "lead.snooze"
	actionReturn   = "lead.return"
	actionOpenCRM  = "lead.crm"
	leadBlockIDPfx = "lead:"
)

// Slack's Block Kit limits that the card must respect however long a lead's
// fields are.
const (
	maxHeader      = 150
	maxSectionText = 3000
	maxFieldText   = 2000
	maxButtonText  = 75
	maxFallback    = 3000
)

// cardData is everything a hand-off card shows.
type cardData struct {
	Lead    *engine.Lead
	Touches []engine.Touch
	Events  []engine.Event
	Rule    *engine.Rule // nil when the lead's rule left the policy
	Policy  *engine.Policy
	// Viewer is whose DM the card sits in; a card of a previous owner says
	// the lead moved on.
	Viewer string
	Loc    *time.Location
	Now    time.Time
}

// leadCard renders the hand-off card: who, why now, what they did, the
// deadline in the viewer's time, the cadence, and the buttons that act.
func leadCard(d cardData) ([]slack.Block, string) {
	l := d.Lead
	var blocks []slack.Block
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
	header := clip(prefix+": "+title, maxHeader)
	blocks = append(blocks, slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, header, true, false)))

	status := statusLines(d)
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(clipBytes(status, maxSectionText)), nil, nil))

	blocks = append(blocks, slack.NewSectionBlock(nil, []*slack.TextBlockObject{
		mrkdwn(clipBytes(contactField(l), maxFieldText)),
		mrkdwn(clipBytes(companyField(l), maxFieldText)),
		mrkdwn(clipBytes(whyNowField(l, d.Rule), maxFieldText)),
		mrkdwn(clipBytes(activityField(l), maxFieldText)),
	}, nil))
	if form := formText(l); form != "" {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(clipBytes(form, maxSectionText)), nil, nil))
	}
	if hist := historyLine(d); hist != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(clipBytes(hist, maxSectionText))))
	}
	if actions := cardActions(d); actions != nil {
		blocks = append(blocks, actions)
	}
	fallback := clipBytes(fmt.Sprintf("%s: %s. %s", prefix, title, firstLine(status)), maxFallback)
	return blocks, fallback
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.ReplaceAll(line, "*", "")
}

// statusLines says what the rep must do next and by when.
func statusLines(d cardData) string {
	l, now, loc := d.Lead, d.Now, d.Loc
	var lines []string
	switch {
	case d.Viewer != "" && d.Viewer != l.OwnerEmail:
		owner := l.OwnerEmail
		if owner == "" {
			owner = "nobody yet"
		}
		lines = append(lines, fmt.Sprintf("*This lead now belongs to %s.* Nothing more to do here.", esc(owner)))
	case l.State == engine.StateReturned:
		lines = append(lines, fmt.Sprintf("*Returned to Marketing*: %s", esc(l.ReturnReason)))
	case !l.State.Open():
		lines = append(lines, fmt.Sprintf("*This lead is %s.* Nothing more is due.", l.State.Label()))
	case l.FirstTouchAt.IsZero():
		if now.Before(l.FirstTouchDue) {
			lines = append(lines, fmt.Sprintf("*First touch due %s* — %s", relative(l.FirstTouchDue, now), clock(l.FirstTouchDue, now, loc)))
		} else {
			lines = append(lines, fmt.Sprintf(":rotating_light: *First touch overdue* — it was due %s (%s)", relative(l.FirstTouchDue, now), clock(l.FirstTouchDue, now, loc)))
		}
	default:
		onTime := "on time"
		if l.FirstTouchAt.After(l.FirstTouchDue) {
			onTime = "late"
		}
		lines = append(lines, fmt.Sprintf(":white_check_mark: First touch done %s (%s)", clock(l.FirstTouchAt, now, loc), onTime))
	}
	if d.Rule != nil && l.State.Open() && (d.Viewer == "" || d.Viewer == l.OwnerEmail) {
		var times []time.Time
		for _, t := range d.Touches {
			times = append(times, t.At)
		}
		cp := engine.CadenceStatus(d.Rule, l.AssignedAt, now, times)
		if cp.Required > 0 {
			lines = append(lines, "Cadence: "+cp.String())
		}
	}
	if l.State == engine.StateSnoozed && l.SnoozedUntil.After(now) {
		lines = append(lines, fmt.Sprintf(":zzz: Reminders snoozed until %s — the SLA clock keeps running", clock(l.SnoozedUntil, now, loc)))
	}
	return strings.Join(lines, "\n")
}

func contactField(l *engine.Lead) string {
	c := l.Contact
	var parts []string
	name := c.Name
	if name == "" {
		name = "(no name)"
	}
	line := "*" + esc(name) + "*"
	if c.Title != "" {
		line += ", " + esc(c.Title)
	}
	parts = append(parts, "*Who*\n"+line)
	if c.Email != "" {
		parts = append(parts, esc(c.Email))
	}
	if c.Phone != "" {
		parts = append(parts, esc(c.Phone))
	}
	return strings.Join(parts, "\n")
}

func companyField(l *engine.Lead) string {
	co := l.Company
	name := co.Name
	if name == "" {
		name = "(no company)"
	}
	line := "*Company*\n" + esc(name)
	if co.Domain != "" {
		line += " (" + esc(co.Domain) + ")"
	}
	var facts []string
	if co.Employees > 0 {
		facts = append(facts, thousands(co.Employees)+" employees")
	}
	for _, s := range []string{co.Industry, co.Country} {
		if s != "" {
			facts = append(facts, esc(s))
		}
	}
	if len(facts) > 0 {
		line += "\n" + strings.Join(facts, " · ")
	}
	return line
}

func whyNowField(l *engine.Lead, r *engine.Rule) string {
	var facts []string
	if l.Source != "" {
		facts = append(facts, esc(strings.ReplaceAll(l.Source, "_", " ")))
	}
	if l.Segment != "" {
		facts = append(facts, esc(l.Segment))
	}
	line := "*Why now*\n" + strings.Join(facts, " · ")
	var nums []string
	if l.Score > 0 {
		nums = append(nums, "score "+strconv.Itoa(l.Score))
	}
	if l.Value > 0 {
		nums = append(nums, "value "+money(l.Value))
	}
	if len(nums) > 0 {
		line += "\n" + strings.Join(nums, " · ")
	}
	if r != nil {
		line += "\nSLA: " + esc(r.Name)
	}
	return line
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

func activityField(l *engine.Lead) string {
	a, o := l.Context.Activity, l.Context.Omitted
	var facts []string
	if a.Visits > 0 {
		facts = append(facts, fmt.Sprintf("%d visits", a.Visits))
	}
	if s := listText("pages: ", a.Pages, o.Pages, "page", "pages", maxPagesText); s != "" {
		facts = append(facts, s)
	}
	if s := listText("downloaded: ", a.Downloads, o.Downloads, "download", "downloads", maxDownloadsText); s != "" {
		facts = append(facts, s)
	}
	if len(facts) == 0 {
		facts = append(facts, "no web activity recorded")
	}
	return "*What they did*\n" + strings.Join(facts, "\n")
}

// listText shows as many items as fit in budget bytes, then how many more
// there are: those the card has no room for, and those the lead never kept
// (omitted).
func listText(label string, items []string, omitted int, one, many string, budget int) string {
	if len(items) == 0 && omitted <= 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(label)
	shown := 0
	for _, item := range items {
		s := esc(clip(item, maxListItemShown))
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
	if more := len(items) - shown + max(omitted, 0); more > 0 {
		if shown > 0 {
			b.WriteString(" ")
		}
		b.WriteString(moreInCRM(more, one, many))
	}
	return b.String()
}

// moreInCRM says how much more the CRM holds: "+10 more answers in the CRM".
func moreInCRM(n int, one, many string) string {
	noun := many
	if n == 1 {
		noun = one
	}
	return fmt.Sprintf("_+%d more %s in the CRM_", n, noun)
}

func formText(l *engine.Lead) string {
	omitted := max(l.Context.Omitted.FormAnswers, 0)
	if len(l.Context.Form) == 0 && omitted == 0 {
		return ""
	}
	keys := make([]string, 0, len(l.Context.Form))
	for k := range l.Context.Form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("*Form answers*")
	shown := 0
	for _, k := range keys {
		line := fmt.Sprintf("\n• %s: %s", esc(clip(k, maxQuestionShown)), esc(clip(l.Context.Form[k], maxAnswerShown)))
		// Keep room for the "+N more" note at the end.
		if b.Len()+len(line) > maxSectionText-60 {
			break
		}
		b.WriteString(line)
		shown++
	}
	if more := len(keys) - shown + omitted; more > 0 {
		b.WriteString("\n" + moreInCRM(more, "answer", "answers"))
	}
	return b.String()
}

// historyLine sums up what has happened: acknowledged, touches, snoozes.
func historyLine(d cardData) string {
	l := d.Lead
	var parts []string
	if !l.AcknowledgedAt.IsZero() {
		by := "the rep"
		for _, e := range d.Events {
			if e.Kind == "acknowledged" {
				by = e.Actor
			}
		}
		parts = append(parts, fmt.Sprintf("Acknowledged by %s at %s", esc(by), clock(l.AcknowledgedAt, d.Now, d.Loc)))
	}
	if n := len(d.Touches); n > 0 {
		var kinds []string
		for _, t := range d.Touches {
			kinds = append(kinds, string(t.Kind))
		}
		word := "touches"
		if n == 1 {
			word = "touch"
		}
		parts = append(parts, fmt.Sprintf("%d %s logged (%s)", n, word, strings.Join(compact(kinds), ", ")))
	}
	for i := len(d.Events) - 1; i >= 0; i-- {
		if e := d.Events[i]; e.Kind == "snoozed" && l.State == engine.StateSnoozed {
			if reason, _ := e.Data["reason"].(string); reason != "" {
				parts = append(parts, "Snoozed: "+esc(reason))
			}
			break
		}
	}
	if l.CRMURL == "" && len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, " · ")
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
// keeps only the CRM link.
func cardActions(d cardData) slack.Block {
	l := d.Lead
	id := strconv.FormatInt(l.ID, 10)
	var elems []slack.BlockElement
	active := l.State.Open() && (d.Viewer == "" || d.Viewer == l.OwnerEmail)
	if active {
		if l.AcknowledgedAt.IsZero() {
			ack := slack.NewButtonBlockElement(actionAck, id, slack.NewTextBlockObject(slack.PlainTextType, "Acknowledge", false, false))
			ack.Style = slack.StylePrimary
			elems = append(elems, ack)
		}
		var opts []*slack.OptionBlockObject
		for _, k := range engine.TouchKinds {
			opts = append(opts, slack.NewOptionBlockObject(string(k), slack.NewTextBlockObject(slack.PlainTextType, touchLabels[k], false, false), nil))
		}
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, slack.NewTextBlockObject(slack.PlainTextType, "Log touch…", false, false), actionTouch, opts...)
		elems = append(elems, sel)
		elems = append(elems, slack.NewButtonBlockElement(actionSnooze, id, slack.NewTextBlockObject(slack.PlainTextType, "Snooze", false, false)))
		ret := slack.NewButtonBlockElement(actionReturn, id, slack.NewTextBlockObject(slack.PlainTextType, "Return to marketing", false, false))
		ret.Style = slack.StyleDanger
		elems = append(elems, ret)
	}
	if l.CRMURL != "" && len(l.CRMURL) <= 3000 {
		crm := slack.NewButtonBlockElement(actionOpenCRM, id, slack.NewTextBlockObject(slack.PlainTextType, "Open in CRM", false, false))
		crm.URL = l.CRMURL
		elems = append(elems, crm)
	}
	if len(elems) == 0 {
		return nil
	}
	return slack.NewActionBlock(leadBlockIDPfx+id, elems...)
}

// leadIDFromBlock reads the lead id from an actions block id.
func leadIDFromBlock(blockID string) (int64, bool) {
	s, ok := strings.CutPrefix(blockID, leadBlockIDPfx)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}
