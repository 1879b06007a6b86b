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
	a, err := q.Attainment(ctx, policy, scope, period, now)
	if err != nil {
		return reply{}, err
	}
	blocks := []view.Block{
		view.Heading{Text: "SLA status: " + title},
		view.Context{Lines: []view.Text{view.T(period.Label + " · as of " + clock(now, now, b.zone("")) + " (" + zoneName(policy) + ")")}},
		view.Section{Lines: attainmentLines(policy, a)},
	}
	if scope.Kind == engine.ScopeTeam && who.manages(scope.Team) {
		if t := policy.Team(scope.Team); t != nil && len(t.Reps) > 0 {
			table, err := b.teamTable(ctx, "By rep", t, now, func(rep engine.Scope) (engine.Attainment, error) {
				return q.Attainment(ctx, policy, rep, period, now)
			})
			if err != nil {
				return reply{}, err
			}
			blocks = append(blocks, table)
		}
	}
	summary := fmt.Sprintf("SLA status, %s, %s: %s", title, period.Label, strings.TrimSpace(onTimeLine(a).Plain()))
	return reply{Message: view.Message{Summary: summary, Blocks: blocks}}, nil
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
				return engine.Scope{}, "", refuse(engine.EINVALID, "You are not in a team of the agreement: say which team, e.g. ",
					commandExample(name, "status team "+firstTeam(policy)), ".")
			}
		}
		t := policy.Team(team)
		if t == nil {
			return engine.Scope{}, "", engine.Errorf(engine.ENOTFOUND, "There is no team %s in the agreement; the teams are %s.", engine.Quote(team), teamNames(policy))
		}
		return engine.Scope{Kind: engine.ScopeTeam, Team: t.Name}, "team " + t.Name, nil
	}
	email, err := b.resolvePerson(ctx, c.Person)
	if err != nil {
		return engine.Scope{}, "", err
	}
	rep, err := b.store.RepByEmail(ctx, email)
	if engine.ErrorCode(err) == engine.ENOTFOUND || (err == nil && rep.Team == "" && policy.TeamOf(email) == nil) {
		return engine.Scope{}, "", refuse(engine.ENOTFOUND, email+" is not a rep in the agreement, so there are no SLA figures of theirs. Try ",
			commandExample(name, "status team"), " or ", commandExample(name, "status all"), ".")
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
		return engine.Scope{}, "", refuse(engine.EFORBIDDEN, "A rep's own figures are for them and "+manager+" only. Try ",
			commandExample(name, "status team "+team), " for the team's.")
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
	return engine.AndList(names)
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

func onTimeLine(a engine.Attainment) view.Text {
	if !a.HasOnTimeData {
		return view.T(view.B("First touch on time:"), " nothing to judge yet · target "+pct(a.OnTimeTarget))
	}
	mark := view.Done
	if a.OnTimeShare < a.OnTimeTarget {
		mark = view.Warning
	}
	return view.T(mark, " ", view.B("First touch on time: "+pct(a.OnTimeShare)),
		fmt.Sprintf(" (%d of %d) · target %s", a.FirstTouchOnTime, a.FirstTouchOnTime+a.FirstTouchLate, pct(a.OnTimeTarget)))
}

// attainmentLines is the attainment in lines a phone shows whole.
func attainmentLines(p *engine.Policy, a engine.Attainment) []view.Text {
	lines := []view.Text{
		onTimeLine(a),
		sqlsLine(a),
		firstTouchTimeLine(p, a),
		cadenceLine(a),
		breachesLine(a),
		view.T(view.B("Open leads:"), fmt.Sprintf(" %d", a.OpenLeads)),
		conversionsLine(a),
	}
	if a.Returns > 0 {
		lines = append(lines, returnReasonsLine(a))
	}
	return lines
}

// sqlsLine counts the SQLs received and what became of their first touch.
func sqlsLine(a engine.Attainment) view.Text {
	var parts []string
	for _, n := range []struct {
		count int
		what  string
	}{
		{a.FirstTouchOnTime, "on time"}, {a.FirstTouchLate, "late"}, {a.FirstTouchPending, "waiting"},
		{a.FirstTouchClosed, "closed before due"}, {a.Unrouted, "with no owner"},
	} {
		if n.count > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n.count, n.what))
		}
	}
	line := view.T(view.B("SQLs received:"), fmt.Sprintf(" %d", a.SQLs))
	if len(parts) > 0 {
		line = view.T(line, " — "+strings.Join(parts, ", "))
	}
	return line
}

func firstTouchTimeLine(p *engine.Policy, a engine.Attainment) view.Text {
	st := a.TimeToFirstTouchBusiness
	if st.Count == 0 {
		return view.T(view.B("Time to first touch:"), " no lead touched yet")
	}
	text := fmt.Sprintf(" median %s · 90th percentile %s (%s)", durationText(st.Median), durationText(st.P90), plural(st.Count, "lead", "leads"))
	if p.HasBusinessHours() {
		text += ", in business hours"
	}
	return view.T(view.B("Time to first touch:"), text)
}

func cadenceLine(a engine.Attainment) view.Text {
	text := fmt.Sprintf(" %d met, %d missed", a.CadenceMet, a.CadenceMissed)
	if a.HasCadenceData {
		text += " (" + pct(a.CadenceShare) + " met)"
	}
	if a.CadenceRunning > 0 {
		text += fmt.Sprintf(" · %d still running", a.CadenceRunning)
	}
	return view.T(view.B("Cadence:"), text)
}

func breachesLine(a engine.Attainment) view.Text {
	text := fmt.Sprintf(" %d", a.Breaches)
	if a.Breaches > 0 {
		var kinds []string
		if n := a.BreachesByKind[engine.BreachFirstTouch]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d first touch", n))
		}
		if n := a.BreachesByKind[engine.BreachCadence]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d cadence", n))
		}
		if n := a.BreachesByKind[engine.BreachAccept]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d not accepted", n))
		}
		if len(kinds) > 0 {
			text += " — " + strings.Join(kinds, ", ")
		}
	}
	return view.T(view.B("Breaches:"), text)
}

func conversionsLine(a engine.Attainment) view.Text {
	won := fmt.Sprintf("%d won", a.Won)
	if a.WonAmount > 0 {
		won += " (" + money(a.WonAmount) + ")"
	}
	conv := []string{
		plural(a.Opportunities, "opportunity", "opportunities"), won,
		fmt.Sprintf("%d lost", a.Lost), fmt.Sprintf("%d disqualified", a.Disqualified),
		fmt.Sprintf("%d returned to Marketing", a.Returns),
	}
	return view.T(view.B("Conversions:"), " "+strings.Join(conv, " · "))
}

// returnReasonsLine says why leads went back to Marketing, a reason (cut
// short: people type them) with its count.
func returnReasonsLine(a engine.Attainment) view.Text {
	reasons := make([]string, 0, len(a.ReturnsByReason))
	for r, n := range a.ReturnsByReason {
		reasons = append(reasons, fmt.Sprintf("%s (%d)", view.Clip(r, 80), n))
	}
	sort.Strings(reasons)
	return view.T(view.I("Returned because:"), " "+strings.Join(reasons, ", "))
}

// teamTable is a row per rep of the team: on-time share, open leads,
// breaches, availability. title heads the reps' column; attainment gives
// a rep's figures.
func (b *Bot) teamTable(ctx context.Context, title string, t *engine.Team, now time.Time,
	attainment func(rep engine.Scope) (engine.Attainment, error)) (view.Table, error) {
	table := view.Table{Columns: []string{title, "On time", "Open", "Breaches", "Availability"}}
	for _, email := range t.Reps {
		a, err := attainment(engine.Scope{Kind: engine.ScopeRep, Rep: email})
		if err != nil {
			return view.Table{}, err
		}
		name := email
		var away view.Text
		if rep, err := b.store.RepByEmail(ctx, email); err == nil {
			name = repName(rep)
			away = b.availability(rep, now)
		}
		share := "—"
		if a.HasOnTimeData {
			share = pct(a.OnTimeShare)
		}
		table.Rows = append(table.Rows, []view.Text{view.T(view.B(name)), view.T(share + " on time"),
			view.T(fmt.Sprintf("%d open", a.OpenLeads)), view.T(plural(a.Breaches, "breach", "breaches")), away})
	}
	return table, nil
}

// availability says why a rep takes no leads now; nothing when they do.
func (b *Bot) availability(rep *engine.Rep, now time.Time) view.Text {
	switch {
	case rep.Status == engine.RepInactive:
		return view.T(view.Stopped, " inactive")
	case !rep.Available(now) && !rep.AwayUntil.IsZero():
		return view.T(view.Away, " away until "+rep.AwayUntil.In(b.zone(rep.TimeZone)).Format("Mon Jan 2"))
	case !rep.Available(now):
		return view.T(view.Away, " away")
	}
	return nil
}
