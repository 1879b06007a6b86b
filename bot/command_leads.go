package bot

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file answers /sla leads: a rep's open leads, next deadline first.

// maxLeadsInMessage keeps a leads answer within 50 blocks: two a lead,
// plus a header, an intro and a footer.
const maxLeadsInMessage = 20

func (b *Bot) cmdLeads(ctx context.Context, who asker, name string) (reply, error) {
	if who.Rep == nil {
		return textReply(view.T("You hold no leads: you are not a rep in a team of the agreement. Try ",
			commandExample(name, "status team"), " or ", commandExample(name, "funnel"), ".")), nil
	}
	q := b.store
	open, err := q.OpenLeadsOf(ctx, who.Email)
	if err != nil {
		return reply{}, err
	}
	policy, now := b.service.Policy(), b.service.Now()
	loc := b.zone(who.Rep.TimeZone)
	sortByDeadline(policy, open, now)
	if len(open) == 0 {
		return textReply(view.T(view.Celebrate, " You have no open leads. New ones arrive in your direct messages.")), nil
	}
	blocks := []view.Block{
		view.Heading{Text: fmt.Sprintf("Your open leads (%d)", len(open))},
		view.Context{Lines: []view.Text{view.T("Next deadline first · times in " + loc.String())}},
	}
	shown := min(len(open), maxLeadsInMessage)
	for i := range open[:shown] {
		blocks = append(blocks, leadRowBlocks(policy, &open[i], who.Email, now, loc)...)
	}
	if len(open) > shown {
		blocks = append(blocks, view.Context{Lines: []view.Text{view.T(fmt.Sprintf("…and %d more: open slabot's Home tab to see them all.", len(open)-shown))}})
	}
	summary := fmt.Sprintf("You have %s; next: %s", plural(len(open), "open lead", "open leads"), open[0].Lead.DisplayName())
	return reply{Message: view.Message{Summary: summary, Blocks: blocks}}, nil
}

// nextDeadline is what the rep must do next on a lead and by when: the
// first touch, else the rest of the cadence; zero when nothing is due.
func nextDeadline(p *engine.Policy, f *engine.LeadFacts, now time.Time) (time.Time, string) {
	l := &f.Lead
	if l.FirstTouchAt.IsZero() && !l.FirstTouchDue.IsZero() {
		return l.FirstTouchDue, "first touch"
	}
	if r := p.Rule(l.Rule); r != nil && r.Touches.Count > 0 && !l.AssignedAt.IsZero() {
		cp := p.LeadCadence(r, l, l.AssignedAt, now, f.Touches)
		if !cp.Met {
			return cp.Due, fmt.Sprintf("%d more %s", cp.Left, map[bool]string{true: "touch", false: "touches"}[cp.Left == 1])
		}
	}
	return time.Time{}, ""
}

// sortByDeadline orders leads by next deadline; those with none go last.
func sortByDeadline(p *engine.Policy, leads []engine.LeadFacts, now time.Time) {
	due := make(map[int64]time.Time, len(leads))
	for i := range leads {
		due[leads[i].Lead.ID], _ = nextDeadline(p, &leads[i], now)
	}
	sort.SliceStable(leads, func(i, j int) bool {
		a, b := due[leads[i].Lead.ID], due[leads[j].Lead.ID]
		switch {
		case a.IsZero() != b.IsZero():
			return b.IsZero()
		case !a.Equal(b):
			return a.Before(b)
		}
		return leads[i].Lead.ID < leads[j].Lead.ID
	})
}

// leadRow says in two lines what a lead is and what is due next.
func leadRow(p *engine.Policy, f *engine.LeadFacts, now time.Time, loc *time.Location) []view.Text {
	l := &f.Lead
	title := view.T(view.B(view.Clip(l.DisplayName(), 150)))
	if l.Source != "" {
		title = view.T(title, " · "+strings.ReplaceAll(view.Clip(l.Source, 60), "_", " "))
	}
	if l.State != engine.StateNew && l.State != engine.StateNotified {
		title = view.T(title, " · "+l.State.Label())
	}
	lines := []view.Text{title, nextLine(p, f, now, loc)}
	if l.State == engine.StateSnoozed && l.SnoozedUntil.After(now) {
		lines = append(lines, view.T(view.Snoozed, " Reminders snoozed until "+clock(l.SnoozedUntil, now, loc)))
	}
	return lines
}

// nextLine says what is due next on a lead, and whether it is late.
func nextLine(p *engine.Policy, f *engine.LeadFacts, now time.Time, loc *time.Location) view.Text {
	due, what := nextDeadline(p, f, now)
	switch {
	case due.IsZero():
		return view.T(view.Done, " Nothing due: the cadence is met")
	case what == "first touch" && !now.Before(due):
		return view.T(view.Alarm, " ", view.B("First touch overdue"), fmt.Sprintf(" — was due %s (%s)", relative(due, now), clock(due, now, loc)))
	case what == "first touch":
		return view.T(view.Pending, " ", view.B("First touch due "+relative(due, now)), " ("+clock(due, now, loc)+")")
	case !now.Before(due):
		return view.T(view.Alarm, fmt.Sprintf(" Cadence window closed %s, %s short", relative(due, now), what))
	}
	return view.T(fmt.Sprintf("Cadence: %s needed %s (by %s)", what, relative(due, now), clock(due, now, loc)))
}

// leadRowBlocks is a lead's lines and the card's buttons, in an actions
// row with the card's id ("lead:<id>"), so clicks act as on the card,
// marked as an item's.
func leadRowBlocks(p *engine.Policy, f *engine.LeadFacts, viewer string, now time.Time, loc *time.Location) []view.Block {
	l := f.Lead
	blocks := []view.Block{view.Section{Lines: leadRow(p, f, now, loc)}}
	// The rule and the touches, so the return form offers "unable to
	// reach" only once the card would.
	touches := make([]engine.Touch, len(f.Touches))
	for i, at := range f.Touches {
		touches[i] = engine.Touch{LeadID: l.ID, At: at}
	}
	d := cardData{Lead: &l, Touches: touches, Rule: p.Rule(l.Rule), Viewer: viewer, Policy: p, Now: now, Loc: loc}
	if actions, ok := cardActions(d); ok {
		actions.Item = true
		blocks = append(blocks, actions)
	}
	return blocks
}
