package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file is recycling as people read it: the history a returning
// contact's card opens with, and the notice Marketing gets on a "not now"
// lead's revisit date.

// recycleSection is the card's "Seen before" part: who returned the
// contact's last lead, when and why, its touches, and whether the new lead
// went back to that rep; false when the contact is new to Sales.
func recycleSection(d cardData) (view.Section, bool) {
	var h engine.RecycleHistory
	found := false
	for _, e := range d.Events {
		if got, ok := engine.RecycleHistoryOf(e); ok {
			h, found = got, true
		}
	}
	if !found {
		return view.Section{}, false
	}
	loc := d.Loc
	if loc == nil {
		loc = time.UTC
	}
	by := h.ReturnedBy
	if by == "" {
		by = "slabot"
	}
	returned := fmt.Sprintf(": returned to Marketing by %s on %s", by, day(h.ReturnedAt, loc))
	if h.Reason != "" {
		returned += " — “" + view.Clip(h.Reason, 300) + "”"
	}
	if h.RevisitOn != "" {
		returned += " (revisit on " + h.RevisitOn + ")"
	}
	lines := []view.Text{view.T(view.B("Seen before"), returned)}
	if n := h.TouchCount(); n > 0 {
		last := h.LastTouch
		line := fmt.Sprintf("Touches then: %s; last touch %s on %s", touchesByKind(h.Touches), last.Kind, day(last.At, loc))
		if last.ByEmail != "" {
			line += " by " + last.ByEmail
		}
		lines = append(lines, view.T(line))
	} else {
		lines = append(lines, view.T("No touches were logged then."))
	}
	switch {
	case h.RoutedBack:
		lines = append(lines, view.T(view.Next, " Back with "+h.PreviousOwner+", who had it before (the agreement sends returning contacts to their previous owner)."))
	case h.WhyNot != "":
		lines = append(lines, view.T(view.Next, " Not sent back to its previous owner: "+h.WhyNot+", so it was routed as usual."))
	}
	return view.Section{Lines: lines}, true
}

// touchesByKind writes touch counts in the order kinds are offered:
// "2× call, 1× email".
func touchesByKind(counts map[engine.TouchKind]int) string {
	var parts []string
	for _, k := range engine.TouchKinds {
		if n := counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d× %s", n, k))
		}
	}
	for k, n := range counts {
		if !k.Valid() && n > 0 {
			parts = append(parts, fmt.Sprintf("%d× %s", n, k))
		}
	}
	return strings.Join(parts, ", ")
}

// day writes the date of t in loc: "Nov 7, 2026".
func day(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "an unknown date"
	}
	return t.In(loc).Format("Jan 2, 2006")
}

// msgRecycleNotice is the kind of a revisit notice's post.
const msgRecycleNotice = "recycle_due"

// sendRecycleNotice tells Marketing, in the agreement's report channel,
// that a lead returned "not now" is due for a revisit. Without a report
// channel there is nobody in chat to tell: the lead.recycle_due webhook
// is Marketing's only word of it.
func (b *Bot) sendRecycleNotice(ctx context.Context, job engine.Job, args engine.RecycleNoticeArgs) error {
	channel := b.service.Policy().Report.Channel
	if channel == "" {
		b.logger.Warn("a lead due for a revisit has no channel to be announced in: the policy names no report channel", "lead_id", job.LeadID)
		return nil
	}
	l, err := b.store.LeadByID(ctx, job.LeadID)
	if engine.ErrorCode(err) == engine.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = b.postOnce(ctx, job, engine.Destination{Channel: channel}, engine.PostKey{Kind: msgRecycleNotice, Key: job.UniqueKey},
		func() (view.Message, error) {
			events, err := b.store.Events(ctx, l.ID)
			if err != nil {
				return view.Message{}, err
			}
			touches, err := b.store.Touches(ctx, l.ID)
			if err != nil {
				return view.Message{}, err
			}
			loc := b.service.Policy().CalendarForLead(l).Location()
			return recycleNotice(l, events, touches, args.RevisitOn, loc), nil
		})
	return err
}

// recycleNotice is the revisit notice: whose lead, who returned it, when
// and why, what Sales did, and what to do now.
func recycleNotice(l *engine.Lead, events []engine.Event, touches []engine.Touch, revisitOn string, loc *time.Location) view.Message {
	by := ""
	for _, e := range events {
		if e.Kind == "returned" && strings.Contains(e.Actor, "@") {
			by = e.Actor
		}
	}
	title := "Time to revisit " + l.DisplayName()
	returned := "Returned to Marketing"
	if by != "" {
		returned += " by " + by
	}
	returned += " on " + day(l.ClosedAt, loc) + ", to revisit on " + revisitOn + ": “" + view.Clip(l.ReturnReason, 300) + "”."
	lines := []view.Text{view.T(view.Calendar, " ", view.B(title)), view.T(returned)}
	counts := map[engine.TouchKind]int{}
	var last engine.Touch
	for _, t := range touches {
		counts[t.Kind]++
		if last.Kind == "" || t.At.After(last.At) {
			last = t
		}
	}
	if len(touches) > 0 {
		lines = append(lines, view.T(fmt.Sprintf("Sales made %s; the last, %s, on %s.", touchesByKind(counts), last.Kind, day(last.At, loc))))
	}
	lines = append(lines, view.T("When the contact is ready, hand them off again: the new card opens with this history."))
	blocks := []view.Block{view.Section{Lines: lines}}
	if l.CRMURL != "" && len(l.CRMURL) <= maxURL {
		blocks = append(blocks, view.Actions{ID: fmt.Sprintf("recycle:%d", l.ID),
			Controls: []view.Control{view.Button{Action: actionOpenCRM, Label: "Open in CRM", URL: l.CRMURL}}})
	}
	return view.Message{Summary: title + ": " + returned, Blocks: blocks}
}
