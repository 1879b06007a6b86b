package bot

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/engine"
)

// This file answers /sla status: whose figures one may see, and the figures.

func (b *Bot) cmdStatus(ctx context.Context, who asker, c command, name string) (reply, error) {
	scope, title, err := b.statusScope(ctx, who, c, name)
	if err != nil {
		return reply{}, err
	}
	q := b.store
	policy, now := b.service.Policy(), b.service.Now()
	kind := c.Period
	if kind == "" {
		kind = "week"
	}
	period, err := engine.PeriodContaining(kind, now, policy.Location)
	if err != nil {
		return reply{}, err
	}
	facts, err := q.LeadFactsFor(ctx, period.Start, period.End, scope, scopeEmails(policy, scope))
	if err != nil {
		return reply{}, err
	}
	a := engine.ComputeAttainment(policy, facts, scope, period, now)
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(clip("SLA status: "+title, maxHeader))),
		slack.NewContextBlock("", mrkdwn(esc(period.Label)+" · as of "+clock(now, now, b.zone(""))+" ("+esc(zoneName(policy))+")")),
		slack.NewSectionBlock(mrkdwn(clipBytes(statusText(policy, a), maxSectionText)), nil, nil),
	}
	if scope.Kind == engine.ScopeTeam && who.manages(scope.Team) {
		if t := policy.Team(scope.Team); t != nil && len(t.Reps) > 0 {
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(clipBytes(b.teamTable(ctx, policy, t, facts, period, now), maxSectionText)), nil, nil))
		}
	}
	text := fmt.Sprintf("SLA status, %s, %s: %s", title, period.Label, firstLine(onTimeLine(a)))
	return reply{Text: text, Blocks: blocks}, nil
}

// statusScope decides whose figures a status asks for, and whether the
// asker may see them. Individual figures are for the rep and their
// manager; team and company totals are open to everyone, as the weekly
// report posts them to a shared channel anyway.
func (b *Bot) statusScope(ctx context.Context, who asker, c command, name string) (engine.Scope, string, error) {
	policy := b.service.Policy()
	switch c.Scope {
	case scopeDefault:
		switch {
		case len(who.Manages) > 0:
			return engine.Scope{Kind: engine.ScopeTeam, Team: who.Manages[0].Name}, "team " + who.Manages[0].Name, nil
		case who.Rep != nil:
			return engine.Scope{Kind: engine.ScopeRep, Rep: who.Email}, repName(who.Rep), nil
		}
		return engine.Scope{Kind: engine.ScopeAll}, "everyone", nil
	case scopeAll:
		return engine.Scope{Kind: engine.ScopeAll}, "everyone", nil
	case scopeTeam:
		team := c.Team
		if team == "" {
			switch {
			case len(who.Manages) > 0:
				team = who.Manages[0].Name
			case who.Team != "":
				team = who.Team
			default:
				return engine.Scope{}, "", engine.Errorf(engine.EINVALID, "You are not in a team of the agreement: say which team, e.g. `%s status team %s`.", name, firstTeam(policy))
			}
		}
		t := policy.Team(team)
		if t == nil {
			return engine.Scope{}, "", engine.Errorf(engine.ENOTFOUND, "There is no team %s in the agreement; the teams are %s.", quote(team), teamNames(policy))
		}
		return engine.Scope{Kind: engine.ScopeTeam, Team: t.Name}, "team " + t.Name, nil
	}
	email, err := b.resolvePerson(ctx, c.Person)
	if err != nil {
		return engine.Scope{}, "", err
	}
	rep, err := b.store.RepByEmail(ctx, email)
	if engine.ErrorCode(err) == engine.ENOTFOUND || (err == nil && rep.Team == "" && policy.TeamOf(email) == nil) {
		return engine.Scope{}, "", engine.Errorf(engine.ENOTFOUND, "%s is not a rep in the agreement, so there are no SLA figures of theirs. Try `%s status team` or `%s status all`.", email, name, name)
	}
	if err != nil {
		return engine.Scope{}, "", err
	}
	team := rep.Team
	if team == "" {
		team = policy.TeamOf(email).Name
	}
	if email != who.Email && !who.manages(team) {
		manager := "their manager"
		if t := policy.Team(team); t != nil && t.Manager != "" {
			manager = "their manager (" + t.Manager + ")"
		}
		return engine.Scope{}, "", engine.Errorf(engine.EFORBIDDEN, "A rep's own figures are for them and %s only. Try `%s status team %s` for the team's.", manager, name, team)
	}
	return engine.Scope{Kind: engine.ScopeRep, Rep: email}, repName(rep), nil
}

func firstTeam(p *engine.Policy) string {
	if len(p.Teams) > 0 {
		return p.Teams[0].Name
	}
	return "sales"
}

func teamNames(p *engine.Policy) string {
	var names []string
	for _, t := range p.Teams {
		names = append(names, t.Name)
	}
	if len(names) == 0 {
		return "none yet"
	}
	return andWords(names)
}

func zoneName(p *engine.Policy) string {
	if p.TimezoneName != "" {
		return p.TimezoneName
	}
	if p.Location != nil {
		return p.Location.String()
	}
	return "UTC"
}

func onTimeLine(a engine.Attainment) string {
	if !a.HasOnTimeData {
		return fmt.Sprintf("*First touch on time:* nothing to judge yet · target %s", pct(a.OnTimeTarget))
	}
	mark := ":white_check_mark:"
	if a.OnTimeShare < a.OnTimeTarget {
		mark = ":warning:"
	}
	return fmt.Sprintf("%s *First touch on time: %s* (%d of %d) · target %s", mark, pct(a.OnTimeShare),
		a.FirstTouchOnTime, a.FirstTouchOnTime+a.FirstTouchLate, pct(a.OnTimeTarget))
}

// statusText is the attainment in lines a phone shows whole.
func statusText(p *engine.Policy, a engine.Attainment) string {
	var lines []string
	lines = append(lines, onTimeLine(a))

	sql := fmt.Sprintf("*SQLs received:* %d", a.SQLs)
	var parts []string
	if a.FirstTouchOnTime > 0 {
		parts = append(parts, fmt.Sprintf("%d on time", a.FirstTouchOnTime))
	}
	if a.FirstTouchLate > 0 {
		parts = append(parts, fmt.Sprintf("%d late", a.FirstTouchLate))
	}
	if a.FirstTouchPending > 0 {
		parts = append(parts, fmt.Sprintf("%d waiting", a.FirstTouchPending))
	}
	if a.FirstTouchClosed > 0 {
		parts = append(parts, fmt.Sprintf("%d closed before due", a.FirstTouchClosed))
	}
	if a.Unrouted > 0 {
		parts = append(parts, fmt.Sprintf("%d with no owner", a.Unrouted))
	}
	if len(parts) > 0 {
		sql += " — " + strings.Join(parts, ", ")
	}
	lines = append(lines, sql)

	if st := a.TimeToFirstTouchBusiness; st.Count > 0 {
		line := fmt.Sprintf("*Time to first touch:* median %s · 90th percentile %s (%s)",
			durationText(st.Median), durationText(st.P90), plural(st.Count, "lead", "leads"))
		if p != nil && !p.Calendar.Always() {
			line += ", in business hours"
		}
		lines = append(lines, line)
	} else {
		lines = append(lines, "*Time to first touch:* no lead touched yet")
	}

	cad := fmt.Sprintf("*Cadence:* %d met, %d missed", a.CadenceMet, a.CadenceMissed)
	if a.HasCadenceData {
		cad += " (" + pct(a.CadenceShare) + " met)"
	}
	if a.CadenceRunning > 0 {
		cad += fmt.Sprintf(" · %d still running", a.CadenceRunning)
	}
	lines = append(lines, cad)

	br := fmt.Sprintf("*Breaches:* %d", a.Breaches)
	if a.Breaches > 0 {
		var kinds []string
		if n := a.BreachesByKind[engine.BreachFirstTouch]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d first touch", n))
		}
		if n := a.BreachesByKind[engine.BreachCadence]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d cadence", n))
		}
		if len(kinds) > 0 {
			br += " — " + strings.Join(kinds, ", ")
		}
	}
	lines = append(lines, br)
	lines = append(lines, fmt.Sprintf("*Open leads:* %d", a.OpenLeads))

	conv := []string{
		plural(a.Opportunities, "opportunity", "opportunities"),
		fmt.Sprintf("%d won", a.Won),
	}
	if a.WonAmount > 0 {
		conv[1] += " (" + money(a.WonAmount) + ")"
	}
	conv = append(conv, fmt.Sprintf("%d lost", a.Lost), fmt.Sprintf("%d disqualified", a.Disqualified),
		fmt.Sprintf("%d returned to Marketing", a.Returns))
	lines = append(lines, "*Conversions:* "+strings.Join(conv, " · "))
	if a.Returns > 0 {
		reasons := make([]string, 0, len(a.ReturnsByReason))
		for r, n := range a.ReturnsByReason {
			reasons = append(reasons, fmt.Sprintf("%s (%d)", esc(clip(r, 80)), n))
		}
		sort.Strings(reasons)
		lines = append(lines, "_Returned because:_ "+strings.Join(reasons, ", "))
	}
	return strings.Join(lines, "\n")
}

// teamTable is one line per rep of the team: on-time share, open leads,
// breaches, availability.
func (b *Bot) teamTable(ctx context.Context, p *engine.Policy, t *engine.Team, facts []engine.LeadFacts, period engine.Period, now time.Time) string {
	var lines []string
	lines = append(lines, "*By rep*")
	for _, email := range t.Reps {
		a := engine.ComputeAttainment(p, facts, engine.Scope{Kind: engine.ScopeRep, Rep: email}, period, now)
		name := email
		away := ""
		if rep, err := b.store.RepByEmail(ctx, email); err == nil {
			name = repName(rep)
			switch {
			case rep.Status == engine.RepInactive:
				away = " · :no_entry: inactive"
			case !rep.Available(now) && !rep.AwayUntil.IsZero():
				away = " · :palm_tree: away until " + rep.AwayUntil.In(b.zone(rep.TimeZone)).Format("Mon Jan 2")
			case !rep.Available(now):
				away = " · :palm_tree: away"
			}
		}
		share := "—"
		if a.HasOnTimeData {
			share = pct(a.OnTimeShare)
		}
		lines = append(lines, fmt.Sprintf("• *%s*: %s on time · %d open · %s%s", esc(name), share, a.OpenLeads,
			plural(a.Breaches, "breach", "breaches"), away))
	}
	return strings.Join(lines, "\n")
}

// scopeEmails are the reps whose leads and breaches a scope's figures can
// draw on, in lower case: the rep, or a team's reps in the policy.
func scopeEmails(p *engine.Policy, s engine.Scope) []string {
	switch s.Kind {
	case engine.ScopeRep:
		return []string{strings.ToLower(strings.TrimSpace(s.Rep))}
	case engine.ScopeTeam:
		t := p.Team(strings.TrimSpace(s.Team))
		if t == nil {
			return nil
		}
		emails := make([]string, 0, len(t.Reps))
		for _, r := range t.Reps {
			emails = append(emails, strings.ToLower(strings.TrimSpace(r)))
		}
		return emails
	}
	return nil
}
