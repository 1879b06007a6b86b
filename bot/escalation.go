package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

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

	msgEscalation          = "escalation"
	escalationMetadataType = "slabot_escalation"
)

func isEscalationAction(id string) bool {
	return id == actionEscReassign || id == actionEscReturn || id == actionEscMoreTime
}

// escalationData is what an escalation message shows.
type escalationData struct {
	Lead  *engine.Lead
	Event engine.Event // the breach or owner_gone event escalated
	Rule  *engine.Rule
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
	var channel, recipient string
	switch target {
	case engine.EscalateToManager:
		if team.Manager == "" {
			return nil
		}
		mgr, err := b.personByEmail(ctx, team.Manager)
		if errors.Is(err, errNotInSlack) {
			b.logger.Error("a breach escalation cannot reach the manager: they are not in Slack", "team", team.Name)
			return nil
		}
		if err != nil {
			return err
		}
		if channel, err = b.openDM(ctx, mgr.UserID); err != nil {
			return err
		}
		recipient, d.Loc = team.Manager, mgr.Loc
	case engine.EscalateToChannel:
		if team.EscalationChannel == "" {
			return nil // the manager's DM is all there is
		}
		channel, recipient = team.EscalationChannel, team.EscalationChannel
	default:
		return nil
	}
	meta := slack.SlackMetadata{EventType: escalationMetadataType, EventPayload: map[string]any{
		"lead_id": strconv.FormatInt(l.ID, 10), "key": job.UniqueKey}}
	if job.Attempts > 1 {
		// History takes channel ids, and the policy names channels.
		id, err := b.channelID(ctx, channel)
		if err != nil {
			return err
		}
		if id == "" {
			id = channel
		}
		ts, err := b.findByKey(ctx, id, meta)
		if err != nil {
			return err
		}
		if ts != "" {
			// Record it, so the manager's decision can still redraw it.
			return b.store.SaveLeadMessage(ctx, &engine.MessageRef{Platform: engine.PlatformSlack, LeadID: l.ID, Kind: msgEscalation, Recipient: recipient,
				Conversation: id, MessageID: ts, AssignedAt: l.AssignedAt, EventID: eventID})
		}
	}
	blocks, fallback := escalationMessage(*d)
	if err := b.pacer.wait(ctx, channel); err != nil {
		return err
	}
	postedTo, ts, err := b.api.PostMessageContext(ctx, channel, slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionText(fallback, false), slack.MsgOptionMetadata(meta))
	if err != nil {
		return b.slackError("chat.postMessage", err)
	}
	b.metrics.sent.WithLabelValues("escalation").Inc()
	return b.store.SaveLeadMessage(ctx, &engine.MessageRef{Platform: engine.PlatformSlack, LeadID: l.ID, Kind: msgEscalation, Recipient: recipient,
		Conversation: postedTo, MessageID: ts, AssignedAt: l.AssignedAt, EventID: eventID})
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
	d := &escalationData{Lead: l, Rule: policy.Rule(l.Rule), Touches: touches, Team: l.Team,
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
			return fmt.Sprintf("%s reassigned it to %s, who has a fresh card and a fresh first-touch clock.", esc(e.Actor), esc(to))
		case "returned":
			reason, _ := e.Data["reason"].(string)
			return fmt.Sprintf("%s returned it to Marketing (%s).", esc(e.Actor), esc(reason))
		case engine.EventDeadlineMoved:
			due, err := time.Parse(time.RFC3339Nano, fmt.Sprint(e.Data["to"]))
			if err != nil {
				due = l.FirstTouchDue
			}
			return fmt.Sprintf("%s gave more time: the first touch is now due %s.", esc(e.Actor), clock(due, now, loc))
		}
	}
	return ""
}

// escalationMessage names the lead, the rep and how late, says what slabot
// did, and offers the manager Reassign, Return to marketing and Give more
// time while the lead is still with Sales.
func escalationMessage(d escalationData) ([]slack.Block, string) {
	l, e := d.Lead, d.Event
	rep := d.Rep
	if rep == "" {
		rep = "the rep"
	}
	var head, what string
	switch e.Kind {
	case engine.EventOwnerGone:
		head = "Lead without an owner: " + l.DisplayName()
		what = fmt.Sprintf(":busts_in_silhouette: *%s* can no longer work *%s*: %s. Choose who takes it.",
			esc(rep), esc(l.DisplayName()), esc(fmt.Sprint(e.Data["why"])))
	default:
		br, _ := engine.BreachFromEvent(e)
		head = "SLA breach: " + l.DisplayName()
		late := relative(br.Due, d.Now)
		if br.Kind == engine.BreachCadence {
			var times []time.Time
			for _, t := range d.Touches {
				times = append(times, t.At)
			}
			cadence := ""
			if d.Rule != nil {
				assigned, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(e.Data["assigned_at"]))
				if assigned.IsZero() {
					assigned = l.AssignedAt
				}
				cadence = " (" + engine.CadenceStatus(d.Rule, assigned, d.Now, times).String() + ")"
			}
			what = fmt.Sprintf(":rotating_light: *%s* did not keep up the touch cadence on *%s*: the window closed %s, at %s%s.",
				esc(rep), esc(l.DisplayName()), late, clock(br.Due, d.Now, d.Loc), cadence)
		} else {
			what = fmt.Sprintf(":rotating_light: *%s* has not touched *%s* yet: the first touch was due %s, at %s.",
				esc(rep), esc(l.DisplayName()), late, clock(br.Due, d.Now, d.Loc))
		}
	}
	lines := []string{what}
	if d.Outcome != "" {
		lines = append(lines, "slabot "+esc(d.Outcome)+".")
	}
	switch {
	case d.Decision != "":
		lines = append(lines, ":white_check_mark: "+d.Decision)
	case !l.State.Open():
		lines = append(lines, fmt.Sprintf("The lead is now %s.", l.State.Label()))
	case l.OwnerEmail != "" && l.OwnerEmail != d.Rep:
		lines = append(lines, fmt.Sprintf("It now belongs to %s.", esc(l.OwnerEmail)))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, clip(head, maxHeader), true, false)),
		slack.NewSectionBlock(mrkdwn(clipBytes(strings.Join(lines, "\n"), maxSectionText)), nil, nil),
	}
	var facts []string
	if d.Rule != nil {
		facts = append(facts, "SLA: "+esc(d.Rule.Name))
	}
	if l.Source != "" {
		facts = append(facts, esc(strings.ReplaceAll(l.Source, "_", " ")))
	}
	if l.Score > 0 {
		facts = append(facts, "score "+strconv.Itoa(l.Score))
	}
	if l.Value > 0 {
		facts = append(facts, "value "+money(l.Value))
	}
	if d.Manager != "" && d.Decision == "" && l.State.Open() && !d.MovedOn {
		facts = append(facts, "only "+esc(d.Manager)+" (the manager) can use these buttons")
	}
	if len(facts) > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(clipBytes(strings.Join(facts, " · "), maxSectionText))))
	}
	var elems []slack.BlockElement
	if l.State.Open() && d.Decision == "" && !d.MovedOn {
		value := strconv.FormatInt(l.AssignedAt.UnixMicro(), 10)
		elems = append(elems, slack.NewButtonBlockElement(actionEscReassign, value, plain("Reassign")))
		ret := slack.NewButtonBlockElement(actionEscReturn, value, plain("Return to marketing"))
		ret.Style = slack.StyleDanger
		elems = append(elems, ret)
		if l.FirstTouchAt.IsZero() {
			elems = append(elems, slack.NewButtonBlockElement(actionEscMoreTime, value, plain("Give more time")))
		}
	}
	if l.CRMURL != "" && len(l.CRMURL) <= 3000 {
		crm := slack.NewButtonBlockElement(actionOpenCRM, strconv.FormatInt(l.ID, 10), plain("Open in CRM"))
		crm.URL = l.CRMURL
		elems = append(elems, crm)
	}
	if len(elems) > 0 {
		blocks = append(blocks, slack.NewActionBlock(fmt.Sprintf("%s%d:%d", escBlockIDPfx, l.ID, e.ID), elems...))
	}
	return blocks, clipBytes(head+". "+strings.ReplaceAll(what, "*", ""), maxFallback)
}

// onEscalationAction carries out a manager's button press on an
// escalation and, when it worked, redraws the message with the decision.
func (b *Bot) onEscalationAction(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction, actor engine.Actor) error {
	rest, ok := strings.CutPrefix(a.BlockID, escBlockIDPfx)
	if !ok {
		return nil
	}
	leadPart, eventPart, _ := strings.Cut(rest, ":")
	leadID, err := strconv.ParseInt(leadPart, 10, 64)
	if err != nil {
		return nil
	}
	eventID, _ := strconv.ParseInt(eventPart, 10, 64)
	var assigned time.Time
	if us, err := strconv.ParseInt(a.Value, 10, 64); err == nil && us > 0 {
		assigned = time.UnixMicro(us)
	}
	var l *engine.Lead
	switch a.ActionID {
	case actionEscReassign:
		l, err = b.service.ManagerReassign(ctx, leadID, actor, assigned)
	case actionEscReturn:
		l, err = b.service.ManagerReturn(ctx, leadID, actor, assigned)
	case actionEscMoreTime:
		l, err = b.service.GiveMoreTime(ctx, leadID, actor, assigned)
	}
	if err != nil {
		return err
	}
	if cb.ResponseURL == "" || l == nil {
		return nil
	}
	// The decision is read back from the lead's history, as the redraw of
	// a message whose lead moved on does: whichever lands last says the same.
	d, err := b.escalationData(ctx, l, eventID)
	if err != nil || d == nil {
		return err
	}
	if t := b.service.Policy().Team(l.Team); t != nil {
		d.Manager = t.Manager
	}
	blocks, fallback := escalationMessage(*d)
	msg := &slack.WebhookMessage{Text: fallback, Blocks: &slack.Blocks{BlockSet: blocks}, ReplaceOriginal: true}
	if err := slack.PostWebhookContext(ctx, cb.ResponseURL, msg); err != nil {
		// The decision is made and recorded; only its echo in Slack failed.
		b.logger.Warn("could not update the escalation message", "lead_id", l.ID, "err", err)
	}
	return nil
}
