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

// Contesting a rejection in chat: Marketing's contesters are told of each
// rejection that sent a lead back, with a Contest button; a contest asks
// the rep's manager to uphold or overturn it. Both messages sit in an
// escalation-style row ("esc:<lead>:<event>"), so a press carries the
// event it is about and each platform redraws the message it was pressed
// on; every copy is redrawn when the lead changes.
const (
	actionContest  = "contest.open"
	actionUphold   = "contest.uphold"
	actionOverturn = "contest.overturn"

	// msgContest is the kind of both messages, saved with their event.
	msgContest = "contest"
)

func isContestAction(id string) bool {
	return id == actionContest || id == actionUphold || id == actionOverturn
}

// contestData is what a rejection notice or a decision request shows.
type contestData struct {
	Lead   *engine.Lead
	State  engine.ContestState
	Policy *engine.Policy
	// Decision is true for the manager's decision request, false for
	// Marketing's rejection notice.
	Decision bool
	Loc      *time.Location
	Now      time.Time
}

// contestData loads what the message about event eventID shows: a
// rejection (the notice) or a contest (the decision request); false when
// the event is neither.
func (b *Bot) contestData(ctx context.Context, l *engine.Lead, eventID int64) (contestData, bool, error) {
	events, err := b.store.Events(ctx, l.ID)
	if err != nil {
		return contestData{}, false, err
	}
	policy := b.service.Policy()
	d := contestData{Lead: l, Policy: policy, Loc: policy.Location, Now: b.service.Now()}
	for _, e := range events {
		if e.ID != eventID {
			continue
		}
		switch e.Kind {
		case engine.EventRejected:
			st, ok := engine.ContestOf(events, e.ID)
			d.State = st
			return d, ok, nil
		case engine.EventContested:
			st, ok := engine.ContestOf(events, int64(numberOf(e.Data["rejection"])))
			d.State, d.Decision = st, true
			return d, ok, nil
		}
	}
	return contestData{}, false, nil
}

func numberOf(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int64:
		return float64(n)
	case int:
		return float64(n)
	case string:
		f, _ := strconv.ParseFloat(n, 64)
		return f
	}
	return 0
}

// rejectionWords says a rejection as Marketing reads it: "Bad data: phone".
func rejectionWords(e engine.Event) string {
	category, _ := e.Data["category"].(string)
	detail, _ := e.Data["detail"].(string)
	s := strings.ReplaceAll(category, "_", " ")
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	if detail != "" {
		s += ": " + strings.ReplaceAll(detail, "_", " ")
	}
	if note, _ := e.Data["note"].(string); note != "" {
		s += " (“" + note + "”)"
	}
	return s
}

// contestMessage draws a rejection notice or a decision request as it
// stands now.
func contestMessage(d contestData) view.Message {
	l, st := d.Lead, d.State
	rep, _ := st.Rejection.Data["owner"].(string)
	if rep == "" {
		rep = st.Rejection.Actor
	}
	name := l.DisplayName()
	var facts []string
	if l.Source != "" {
		facts = append(facts, "source "+strings.ReplaceAll(l.Source, "_", " "))
	}
	if l.ExternalID != "" {
		facts = append(facts, "CRM id "+l.ExternalID)
	}
	var head string
	var lines []view.Text
	if !d.Decision {
		head = "Rejected: " + name
		lines = append(lines, view.T(view.Warning, " ", view.B(rep), " rejected ", view.B(name), ": "+rejectionWords(st.Rejection)+"."))
	} else {
		head = "Contested rejection: " + name
		lines = append(lines, view.T(view.Unsure, " ", view.B(st.Contest.Actor), " (Marketing) contests ", view.B(rep), "'s rejection of ",
			view.B(name), ": "+rejectionWords(st.Rejection)+"."))
		if note, _ := st.Contest.Data["note"].(string); note != "" {
			lines = append(lines, view.T("Why: "+note))
		}
	}
	closes := st.Rejection.At.Add(d.Policy.Quality.ContestWithin)
	var controls []view.Control
	row := fmt.Sprintf("%s%d:", escBlockIDPfx, l.ID)
	switch st.Decision {
	case "":
		switch {
		case l.State != engine.StateReturned:
			lines = append(lines, view.T("The lead is "+l.State.Label()+" now: nothing to contest."))
		case d.Now.After(closes):
			lines = append(lines, view.T("It could be contested until "+clock(closes, d.Now, d.Loc)+"."))
		default:
			lines = append(lines, view.T("Think it was a good lead? Contest it by "+clock(closes, d.Now, d.Loc)+
				" and the rep's manager decides whether the rejection stands."))
			row += strconv.FormatInt(st.Rejection.ID, 10)
			controls = append(controls, view.Button{Action: actionContest, Value: "1", Label: "Contest"})
		}
	case engine.ContestPending:
		manager, _ := st.Contest.Data["manager"].(string)
		if d.Decision {
			lines = append(lines, view.T("Uphold the rejection, and the lead stays with Marketing; overturn it, and it goes back to "+
				rep+" as accepted."))
			row += strconv.FormatInt(st.Contest.ID, 10)
			controls = append(controls,
				view.Button{Action: actionUphold, Value: "1", Label: "Uphold the rejection"},
				view.Button{Action: actionOverturn, Value: "1", Label: "Overturn: back to the rep", Style: view.Primary})
			facts = append(facts, "only "+manager+" ("+rep+"'s manager) can decide")
		} else {
			lines = append(lines, view.T(view.Pending, fmt.Sprintf(" Contested by %s %s; %s decides.", st.Contest.Actor,
				relative(st.Contest.At, d.Now), manager)))
		}
	case engine.ContestUpheld:
		lines = append(lines, view.T(view.Done, fmt.Sprintf(" Contested by %s; %s upheld the rejection %s: the lead stays with Marketing.",
			st.Contest.Actor, st.Decided.Actor, relative(st.Decided.At, d.Now))))
	case engine.ContestOverturned:
		lines = append(lines, view.T(view.Done, fmt.Sprintf(" Contested by %s; %s overturned the rejection %s: the lead is back with %s, accepted.",
			st.Contest.Actor, st.Decided.Actor, relative(st.Decided.At, d.Now), rep)))
	}
	blocks := []view.Block{view.Heading{Text: head}, view.Section{Lines: lines}}
	if len(facts) > 0 {
		blocks = append(blocks, view.Context{Lines: []view.Text{view.T(strings.Join(facts, " · "))}})
	}
	if len(controls) > 0 {
		blocks = append(blocks, view.Actions{ID: row, Controls: controls})
	}
	return view.Message{Summary: head, Blocks: blocks}
}

// sendRejectionNotice tells the contesters of a rejection: the channel
// the policy names, and each contester named by email.
func (b *Bot) sendRejectionNotice(ctx context.Context, job engine.Job, args engine.RejectionNoticeArgs) error {
	q := b.service.Policy().Quality
	var to []engine.Destination
	if q.ContestChannel != "" {
		to = append(to, engine.Destination{Channel: q.ContestChannel})
	}
	for _, email := range q.Contesters {
		p, err := b.personByEmail(ctx, email)
		if errors.Is(err, engine.ErrUnreachable) {
			b.logger.Warn("a contester cannot be reached in chat", "lead_id", job.LeadID, "err", err)
			continue
		}
		if err != nil {
			return err
		}
		to = append(to, engine.Destination{Person: &p.ChatIdentity})
	}
	return b.postContestMessage(ctx, job, args.EventID, to)
}

// sendContestDecision asks the rep's manager to decide a contest.
func (b *Bot) sendContestDecision(ctx context.Context, job engine.Job, args engine.ContestDecisionArgs) error {
	if args.Manager == "" {
		return nil
	}
	p, err := b.personByEmail(ctx, args.Manager)
	if errors.Is(err, engine.ErrUnreachable) {
		b.logger.Error("a contest cannot reach the manager who decides it", "lead_id", job.LeadID, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	return b.postContestMessage(ctx, job, args.EventID, []engine.Destination{{Person: &p.ChatIdentity}})
}

// postContestMessage posts the message about eventID to each destination
// once, and records each post so it can be redrawn.
func (b *Bot) postContestMessage(ctx context.Context, job engine.Job, eventID int64, to []engine.Destination) error {
	l, err := b.store.LeadByID(ctx, job.LeadID)
	if engine.ErrorCode(err) == engine.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	d, ok, err := b.contestData(ctx, l, eventID)
	if err != nil || !ok {
		return err
	}
	for _, dest := range to {
		where := dest.Channel
		if dest.Person != nil {
			where = dest.Person.Email
		}
		key := engine.PostKey{Kind: msgContest, LeadID: l.ID, Key: fmt.Sprintf("%s:%d:%s", msgContest, eventID, where)}
		ref, err := b.postOnce(ctx, job, dest, key, func() (view.Message, error) { return contestMessage(d), nil })
		if errors.Is(err, engine.ErrUnreachable) {
			b.logger.Warn("a contest message could not be delivered", "lead_id", l.ID, "err", err)
			continue
		}
		if err != nil {
			return err
		}
		ref.EventID = eventID
		if err := b.store.SaveLeadMessage(ctx, &ref); err != nil {
			return err
		}
	}
	return nil
}

// redrawContestMessages redraws every rejection notice and decision
// request of a lead as it stands now.
func (b *Bot) redrawContestMessages(ctx context.Context, l *engine.Lead) error {
	msgs, err := b.store.LeadMessages(ctx, l.ID, msgContest)
	if err != nil || len(msgs) == 0 {
		return err
	}
	for _, ref := range msgs {
		d, ok, err := b.contestData(ctx, l, ref.EventID)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := b.redraw(ctx, ref, contestMessage(d)); err != nil {
			return err
		}
	}
	return nil
}
