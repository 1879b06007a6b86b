package bot

import (
	"context"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file answers /sla away and /sla back: whether a rep takes new leads.

func (b *Bot) cmdAvailability(ctx context.Context, who asker, c command, name string) (reply, error) {
	target := who.Email
	self := true
	if !c.Person.zero() {
		email, err := b.resolvePerson(ctx, c.Person)
		if err != nil {
			return reply{}, err
		}
		target, self = email, email == who.Email
	}
	if self && who.Rep == nil {
		return reply{}, refuse(engine.EINVALID, "You are not a rep in a team of the agreement, so slabot routes you no leads. Managers: name the rep, e.g. ",
			commandExample(name, "away @ana until monday"), ".")
	}
	away := c.Kind == cmdAway
	now := b.service.Now()
	loc := b.zone("")
	if rep, err := b.store.RepByEmail(ctx, target); err == nil {
		loc = b.zone(rep.TimeZone)
	}
	var until time.Time
	if c.Until != nil {
		until = c.Until.resolve(now, loc)
	}
	res, err := b.service.SetAvailability(ctx, engine.Actor{Email: who.Email}, target, away, until)
	if err != nil {
		return reply{}, err
	}
	if err := b.refreshHome(ctx, res.Rep.Email); err != nil {
		b.logger.Warn("could not refresh a Home tab after an availability change", "rep_id", res.Rep.ID, "err", err)
	}
	subject, have := "You are", "You have"
	if !self {
		subject, have = repName(res.Rep)+" is", "They have"
	}
	if !away {
		whom := map[bool]string{true: "you", false: "them"}[self]
		return textReply(view.T(view.Hello, " "+subject+" back: new leads come to "+whom+" again.")), nil
	}
	when := view.T("until you say ", commandExample(name, "back"))
	if !self {
		when = view.T("until they are back (", commandExample(name, "back @"+strings.Split(res.Rep.Email, "@")[0]), ")")
	}
	if !until.IsZero() {
		when = view.T("until " + until.In(loc).Format("Monday, Jan 2"))
	}
	lines := []view.Text{view.T(view.Away, " "+subject+" away ", when, ". New leads go to the rest of the team meanwhile.")}
	if res.OpenLeads > 0 {
		open := view.T(have + " " + plural(res.OpenLeads, "open lead", "open leads") + ": their SLA clocks keep running.")
		if res.TeamTold {
			open = view.T(open, " The team has been told so someone can cover them.")
		}
		lines = append(lines, open)
	}
	if !res.Changed {
		lines = append(lines, view.T("(That was already so: nothing changed.)"))
	}
	return textReply(lines...), nil
}
