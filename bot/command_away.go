package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

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
		return reply{}, engine.Errorf(engine.EINVALID, "You are not a rep in a team of the agreement, so slabot routes you no leads. Managers: name the rep, e.g. `%s away @ana until monday`.", name)
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
	subject, have := "You are", "you have"
	if !self {
		subject, have = repName(res.Rep)+" is", "they have"
	}
	var b2 strings.Builder
	if !away {
		fmt.Fprintf(&b2, ":wave: %s back: new leads come to %s again.", subject, map[bool]string{true: "you", false: "them"}[self])
		return textReply(b2.String()), nil
	}
	when := "until you say `" + name + " back`"
	if !self {
		when = "until they are back (`" + name + " back @" + strings.Split(res.Rep.Email, "@")[0] + "`)"
	}
	if !until.IsZero() {
		when = "until " + until.In(loc).Format("Monday, Jan 2")
	}
	fmt.Fprintf(&b2, ":palm_tree: %s away %s. New leads go to the rest of the team meanwhile.", subject, when)
	if res.OpenLeads > 0 {
		fmt.Fprintf(&b2, "\n%s %s: their SLA clocks keep running.", strings.ToUpper(have[:1])+have[1:], plural(res.OpenLeads, "open lead", "open leads"))
		if res.TeamTold {
			b2.WriteString(" The team has been told so someone can cover them.")
		}
	}
	if !res.Changed {
		b2.WriteString("\n(That was already so: nothing changed.)")
	}
	return textReply(b2.String()), nil
}
