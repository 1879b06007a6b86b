package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// The manager's buttons on an escalation. The actions block id carries the
// lead and the event escalated ("esc:42:1001"); each button's value the
// assignment it is about, so a stale message cannot move the lead again.
const (
	actionEscReassign = "esc.reassign"
	actionEscReturn   = "esc.return"
	actionEscMoreTime = "esc.more_time"
	escBlockIDPfx     = "esc:"

	msgEscalation = "escalation"
)

func isEscalationAction(id string) bool {
	return id == actionEscReassign || id == actionEscReturn || id == actionEscMoreTime || isContestAction(id)
}

// escalationData is what an escalation message shows.
type escalationData struct {
	Lead  *engine.Lead
	Event engine.Event // the breach or owner_gone event escalated
	Rule  *engine.Rule
	// Policy counts the cadence window on the calendar of the breach's team.
	Policy *engine.Policy
	// Rep held the lead when it happened; Outcome says what slabot did.
	Rep, Outcome string
	Touches      []engine.Touch
	Manager      string
	Team         string
	// Decision, once the manager has pressed a button, replaces the buttons.
	Decision string
	// MovedOn is set when the lead was given to someone else or closed
	// after the escalation: its buttons are gone.
	MovedOn bool
	Loc     *time.Location
	Now     time.Time
}

// sendEscalation posts an escalation to the team's manager (DM) or to its
// escalation channel, once, even across a crash between post and record.
func (b *Bot) sendEscalation(ctx context.Context, job engine.Job, args engine.EscalationArgs) error {
	target, eventID := args.Target, args.EventID
	l, err := b.store.LeadByID(ctx, job.LeadID)
	if engine.ErrorCode(err) == engine.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	d, err := b.escalationData(ctx, l, eventID)
	if err != nil || d == nil {
		return err
	}
	if args.Rep != "" {
		d.Rep = args.Rep
	}
	d.Outcome = args.Outcome
	if args.Team != "" {
		d.Team = args.Team
	}
	team := b.service.Policy().Team(d.Team)
	if team == nil {
		b.logger.Warn("an escalation has no team to go to", "lead_id", l.ID, "team", d.Team)
		return nil
	}
	d.Manager = team.Manager
	var to engine.Destination
	switch target {
	case engine.EscalateToManager:
		if team.Manager == "" {
			return nil
		}
		mgr, err := b.personByEmail(ctx, team.Manager)
		if errors.Is(err, engine.ErrUnreachable) {
			b.logger.Error("a breach escalation cannot reach the manager in chat", "team", team.Name)
			return nil
		}
		if err != nil {
			return err
		}
		to.Person, d.Loc = &mgr.ChatIdentity, mgr.Loc
	case engine.EscalateToChannel:
		if team.EscalationChannel == "" {
			return nil // the manager's DM is all there is
		}
		to.Channel = team.EscalationChannel
	default:
		return nil
	}
	key := engine.PostKey{Kind: msgEscalation, LeadID: l.ID, AssignedAt: l.AssignedAt, Key: job.UniqueKey}
	ref, err := b.postOnce(ctx, job, to, key, func() (view.Message, error) { return escalationMessage(*d), nil })
	if errors.Is(err, engine.ErrUnreachable) {
		// The manager was found but slabot cannot start a chat with them;
		// the escalation channel, if any, has its own copy.
		b.logger.Error("a breach escalation could not reach the manager", "lead_id", l.ID, "team", team.Name, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	// Recorded, so the manager's decision can redraw it.
	ref.EventID = eventID
	return b.store.SaveLeadMessage(ctx, &ref)
}

// escalationData loads what an escalation about event eventID shows; nil
// when the event is not the lead's.
func (b *Bot) escalationData(ctx context.Context, l *engine.Lead, eventID int64) (*escalationData, error) {
	events, err := b.store.Events(ctx, l.ID)
	if err != nil {
		return nil, err
	}
	touches, err := b.store.Touches(ctx, l.ID)
	if err != nil {
		return nil, err
	}
	policy := b.service.Policy()
	d := &escalationData{Lead: l, Rule: policy.Rule(l.Rule), Policy: policy, Touches: touches, Team: l.Team,
		Loc: b.zone(""), Now: b.service.Now()}
	for _, e := range events {
		if e.ID == eventID {
			d.Event = e
			d.Decision = decisionAfter(events, e, l, d.Now, d.Loc)
			for _, k := range []string{"rep", "owner"} {
				if v, _ := e.Data[k].(string); v != "" && d.Rep == "" {
					d.Rep = v
				}
			}
			return d, nil
		}
	}
	b.logger.Warn("an escalation names an event the lead does not have", "lead_id", l.ID, "event_id", eventID)
	return nil, nil
}

// decisionAfter finds what a person decided about the lead after the
// escalated event: the manager's reassignment, return or extension, as its
// message's line; "" when nobody did.
func decisionAfter(events []engine.Event, escalated engine.Event, l *engine.Lead, now time.Time, loc *time.Location) string {
	for _, e := range events {
		if e.ID <= escalated.ID || e.Actor == "" || !strings.Contains(e.Actor, "@") {
			continue
		}
		switch e.Kind {
		case engine.EventReassigned:
			to, _ := e.Data["to"].(string)
			return fmt.Sprintf("%s reassigned it to %s, who has a fresh card and a fresh first-touch clock.", e.Actor, to)
		case "returned":
			reason, _ := e.Data["reason"].(string)
			return fmt.Sprintf("%s returned it to Marketing (%s).", e.Actor, reason)
		case engine.EventDeadlineMoved:
			due, err := time.Parse(time.RFC3339Nano, fmt.Sprint(e.Data["to"]))
			if err != nil {
				due = l.FirstTouchDue
			}
			return fmt.Sprintf("%s gave more time: the first touch is now due %s.", e.Actor, clock(due, now, loc))
		}
	}
	return ""
}

// escalationMessage names the lead, the rep and how late, says what slabot
// did, and offers the manager Reassign, Return to marketing and Give more
// time while the lead is still with Sales.
func escalationMessage(d escalationData) view.Message {
	l, e := d.Lead, d.Event
	rep := d.Rep
	if rep == "" {
		rep = "the rep"
	}
	name := l.DisplayName()
	var head string
	var what view.Text
	switch e.Kind {
	case engine.EventOwnerGone:
		head = "Lead without an owner: " + name
		what = view.T(view.Team, " ", view.B(rep), " can no longer work ", view.B(name), ": "+fmt.Sprint(e.Data["why"])+". Choose who takes it.")
	default:
		br, _ := engine.BreachFromEvent(e)
		head = "SLA breach: " + name
		late := relative(br.Due, d.Now)
		if br.Kind == engine.BreachCadence {
			cadence := ""
			if d.Rule != nil {
				assigned, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(e.Data["assigned_at"]))
				if assigned.IsZero() {
					assigned = l.AssignedAt
				}
				// The window was the breached assignment's: of the rep and
				// team the breach names, else the lead's.
				held := engine.Lead{OwnerEmail: br.RepEmail, Team: br.Team}
				if held.Team == "" && held.OwnerEmail == "" {
					held.OwnerEmail, held.Team = l.OwnerEmail, l.Team
				}
				cadence = " (" + d.Policy.LeadCadence(d.Rule, &held, assigned, d.Now, engine.TouchTimes(d.Touches)).String() + ")"
			}
			what = view.T(view.Alarm, " ", view.B(rep), " did not keep up the touch cadence on ", view.B(name),
				fmt.Sprintf(": the window closed %s, at %s%s.", late, clock(br.Due, d.Now, d.Loc), cadence))
		} else if br.Kind == engine.BreachAccept {
			what = view.T(view.Alarm, " ", view.B(rep), " has not accepted ", view.B(name),
				fmt.Sprintf(": accepting was due %s, at %s.", late, clock(br.Due, d.Now, d.Loc)))
		} else {
			what = view.T(view.Alarm, " ", view.B(rep), " has not touched ", view.B(name),
				fmt.Sprintf(" yet: the first touch was due %s, at %s.", late, clock(br.Due, d.Now, d.Loc)))
		}
	}
	lines := []view.Text{what}
	if d.Outcome != "" {
		lines = append(lines, view.T("slabot "+d.Outcome+"."))
	}
	switch {
	case d.Decision != "":
		lines = append(lines, view.T(view.Done, " "+d.Decision))
	case !l.State.Open():
		lines = append(lines, view.T(fmt.Sprintf("The lead is now %s.", l.State.Label())))
	case l.OwnerEmail != "" && l.OwnerEmail != d.Rep:
		lines = append(lines, view.T(fmt.Sprintf("It now belongs to %s.", l.OwnerEmail)))
	}
	blocks := []view.Block{view.Heading{Text: head}, view.Section{Lines: lines}}
	var facts []string
	if d.Rule != nil {
		facts = append(facts, "SLA: "+d.Rule.Name)
	}
	if l.Source != "" {
		facts = append(facts, strings.ReplaceAll(l.Source, "_", " "))
	}
	if l.Score > 0 {
		facts = append(facts, "score "+strconv.Itoa(l.Score))
	}
	if l.Value > 0 {
		facts = append(facts, "value "+money(l.Value))
	}
	if d.Manager != "" && d.Decision == "" && l.State.Open() && !d.MovedOn {
		facts = append(facts, "only "+d.Manager+" (the manager) can use these buttons")
	}
	if len(facts) > 0 {
		blocks = append(blocks, view.Context{Lines: []view.Text{view.T(strings.Join(facts, " · "))}})
	}
	var controls []view.Control
	if l.State.Open() && d.Decision == "" && !d.MovedOn {
		value := strconv.FormatInt(l.AssignedAt.UnixMicro(), 10)
		controls = append(controls,
			view.Button{Action: actionEscReassign, Value: value, Label: "Reassign"},
			view.Button{Action: actionEscReturn, Value: value, Label: "Return to marketing", Style: view.Danger})
		if l.FirstTouchAt.IsZero() {
			controls = append(controls, view.Button{Action: actionEscMoreTime, Value: value, Label: "Give more time"})
		}
	}
	if l.CRMURL != "" && len(l.CRMURL) <= maxURL {
		controls = append(controls, view.Button{Action: actionOpenCRM, Value: strconv.FormatInt(l.ID, 10), Label: "Open in CRM", URL: l.CRMURL})
	}
	if len(controls) > 0 {
		blocks = append(blocks, view.Actions{ID: fmt.Sprintf("%s%d:%d", escBlockIDPfx, l.ID, e.ID), Controls: controls})
	}
	return view.Message{Summary: head + ". " + what.Plain(), Blocks: blocks}
}
