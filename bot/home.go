package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file draws the App Home tab: the rep's open leads by deadline with
// the card's buttons (same action ids and "lead:<id>" block ids, so the
// card's handlers act on clicks here too), this week's on-time share and
// its trend, and for managers their team's table.

// maxViewBlocks is the most blocks a Home tab may have (Slack's limit).
const maxViewBlocks = 100

// trendWeeks is how many weeks the trend line covers, this one included.
const trendWeeks = 4

// OpenHome shows a person their home view, when they open it (Slack's
// App Home tab) or install slabot (Teams).
func (b *Bot) OpenHome(ctx context.Context, userID string) error {
	email, err := b.EmailOf(ctx, userID)
	if err != nil || email == "" {
		return err
	}
	return b.refreshHome(ctx, email)
}

// JobHomeRefresh republishes a person's Home tab after their leads changed.
const JobHomeRefresh = "notify.home"

// HomeRefreshArgs: republish the Home tab of the person with this email.
type HomeRefreshArgs struct {
	Email string `json:"email"`
}

func (HomeRefreshArgs) Kind() string  { return JobHomeRefresh }
func (HomeRefreshArgs) Queue() string { return engine.QueueSend }

// homeRefreshWindow is how often at most a person's Home tab is rebuilt
// while their leads keep changing: a burst of clicks costs one rebuild a
// window, not one a click.
const homeRefreshWindow = time.Second

// queueHomeRefreshes asks for these people's Home tabs to be rebuilt at
// the end of the current window, in one round trip; every change within the
// window shares each person's job, which runs after all of them and so
// shows them all.
func (b *Bot) queueHomeRefreshes(ctx context.Context, emails []string) error {
	at := time.Now().Truncate(homeRefreshWindow).Add(homeRefreshWindow)
	jobs := make([]engine.Job, 0, len(emails))
	for _, email := range emails {
		jobs = append(jobs, engine.Job{Args: HomeRefreshArgs{Email: email}, RunAt: at,
			UniqueKey: fmt.Sprintf("%s:%s:%d", JobHomeRefresh, email, at.UnixMilli())})
	}
	return b.store.InTx(ctx, func(tx engine.Tx) error { return tx.EnqueueAll(ctx, jobs) })
}

// refreshHome republishes the home view of a rep or manager by email, for
// changes to their leads or availability. A person slabot cannot reach is
// skipped.
func (b *Bot) refreshHome(ctx context.Context, email string) error {
	p, err := b.personByEmail(ctx, email)
	if errors.Is(err, engine.ErrUnreachable) {
		return nil
	}
	if err != nil {
		return err
	}
	who, err := b.askerByEmail(ctx, p.Email)
	if err != nil {
		return err
	}
	home, err := b.homeView(ctx, who)
	if err != nil {
		return err
	}
	return b.chat.PublishHome(ctx, p.ChatIdentity, home)
}

// homeView gathers and draws the Home tab for one person: their week, and
// a rep's open leads or a manager's team.
func (b *Bot) homeView(ctx context.Context, who asker) (view.Message, error) {
	q := b.store
	policy, now := b.service.Policy(), b.service.Now()
	loc := b.zone("")
	if who.Rep != nil {
		loc = b.zone(who.Rep.TimeZone)
	}
	week, err := engine.PeriodContaining("week", now, policy.Location)
	if err != nil {
		return view.Message{}, err
	}
	home := view.Message{Summary: "Your SLA dashboard", Blocks: []view.Block{view.Heading{Text: "Your SLA dashboard"}}}
	if who.Rep == nil && len(who.Manages) == 0 {
		home.Blocks = append(home.Blocks, view.Section{Lines: []view.Text{view.T(
			"You are not a rep or a manager in the agreement, so no leads come to you here. Type ", view.C("/sla help"),
			" to see what slabot can do, or ", view.C("/sla status all"), " for everyone's figures.")}})
		return home, nil
	}

	// The trend needs the facts of the last few weeks; one load covers them.
	weeks := make([]engine.Period, trendWeeks)
	for i := range weeks {
		start := week.Start.AddDate(0, 0, -7*(trendWeeks-1-i))
		y, w := start.ISOWeek()
		weeks[i] = engine.WeekPeriod(y, w, policy.Location)
	}
	var scope engine.Scope
	switch {
	case who.Rep != nil:
		scope = engine.Scope{Kind: engine.ScopeRep, Rep: who.Email}
	default:
		scope = engine.Scope{Kind: engine.ScopeTeam, Team: who.Manages[0].Name}
	}
	facts, err := q.LeadFactsFor(ctx, weeks[0].Start, week.End, scope, engine.ScopeReps(policy, scope))
	if err != nil {
		return view.Message{}, err
	}
	if who.Rep != nil && !who.Rep.Available(now) {
		home.Blocks = append(home.Blocks, view.Section{Lines: []view.Text{awayNotice(who.Rep, loc)}})
	}
	home.Blocks = append(home.Blocks, view.Section{Lines: weekLines(who, policy, facts, scope, week, weeks, now)})

	// The manager's table goes before the leads so a long queue cannot push it out.
	var team []view.Block
	for _, t := range who.Manages {
		table, err := b.teamTable(ctx, "Team "+t.Name+" this week", t, now, func(rep engine.Scope) (engine.Attainment, error) {
			return engine.ComputeAttainment(policy, facts, rep, week, now), nil
		})
		if err != nil {
			return view.Message{}, err
		}
		team = append(team, view.Divider{}, table)
	}

	footer := view.Context{Lines: []view.Text{view.T(fmt.Sprintf("Updated %s · ", clock(now, now, loc)), view.C("/sla help"), " for commands")}}
	if who.Rep != nil {
		open, err := q.OpenLeadsOf(ctx, who.Email)
		if err != nil {
			return view.Message{}, err
		}
		sortByDeadline(policy, open, now)
		// Room for the leads: what is left after the list's divider and
		// title, the team table, a possible "more" line and the footer.
		room := maxViewBlocks - len(home.Blocks) - 2 - len(team) - 2
		home.Blocks = append(home.Blocks, homeLeads(policy, open, who.Email, now, loc, room)...)
	}
	home.Blocks = append(home.Blocks, team...)
	home.Blocks = append(home.Blocks, footer)
	if len(home.Blocks) > maxViewBlocks {
		home.Blocks = append(home.Blocks[:maxViewBlocks-1], footer)
	}
	return home, nil
}

// awayNotice tells a rep who is away or inactive that no leads come to them.
func awayNotice(rep *engine.Rep, loc *time.Location) view.Text {
	state := view.T(view.Away, " ", view.B("You are away"))
	if !rep.AwayUntil.IsZero() {
		state = view.T(state, " until "+rep.AwayUntil.In(loc).Format("Monday, Jan 2"))
	}
	if rep.Status == engine.RepInactive {
		state = view.T(view.Stopped, " ", view.B("Your account is marked inactive"))
	}
	return view.T(state, ": no new leads come to you. Type ", view.C("/sla back"), " when you return.")
}

// weekLines are this week's figures of a rep or a manager's team, with the
// on-time trend of the last weeks (this one last).
func weekLines(who asker, policy *engine.Policy, facts []engine.LeadFacts, scope engine.Scope, week engine.Period, weeks []engine.Period, now time.Time) []view.Text {
	var shares []string
	var this engine.Attainment
	for i, p := range weeks {
		a := engine.ComputeAttainment(policy, facts, scope, p, now)
		if i == len(weeks)-1 {
			this = a
		}
		s := "—"
		if a.HasOnTimeData {
			s = pct(a.OnTimeShare)
		}
		shares = append(shares, s)
	}
	whose := "Your"
	if who.Rep == nil {
		whose = "Team " + who.Manages[0].Name + "'s"
	}
	return []view.Text{
		view.T(view.B(whose+" week"), " ("+week.Label+")"),
		onTimeLine(this),
		view.T(view.B("Trend"), fmt.Sprintf(", last %d weeks: %s", trendWeeks, strings.Join(shares, " → ")), trendArrow(policy, facts, scope, weeks, now)),
		view.T(view.B("Open leads:"), fmt.Sprintf(" %d · ", this.OpenLeads), view.B("Breaches this week:"), fmt.Sprintf(" %d", this.Breaches)),
	}
}

// homeLeads lists a rep's open leads, in at most room blocks beside the
// divider and title before them.
func homeLeads(policy *engine.Policy, open []engine.LeadFacts, viewer string, now time.Time, loc *time.Location, room int) []view.Block {
	if len(open) == 0 {
		return []view.Block{view.Divider{}, view.Section{Lines: []view.Text{
			view.T(view.Celebrate, " ", view.B("No open leads."), " New ones arrive in your direct messages.")}}}
	}
	blocks := []view.Block{view.Divider{}, view.Section{Lines: []view.Text{
		view.T(view.B(fmt.Sprintf("Your open leads (%d)", len(open))), ", next deadline first")}}}
	shown := 0
	for i := range open {
		row := leadRowBlocks(policy, &open[i], viewer, now, loc)
		if len(row) > room {
			break
		}
		blocks = append(blocks, row...)
		room -= len(row)
		shown++
	}
	if shown < len(open) {
		blocks = append(blocks, view.Context{Lines: []view.Text{view.T(fmt.Sprintf("…and %d more with later deadlines.", len(open)-shown))}})
	}
	return blocks
}

// trendArrow compares this week's on-time share with last week's.
func trendArrow(p *engine.Policy, facts []engine.LeadFacts, scope engine.Scope, weeks []engine.Period, now time.Time) view.Text {
	if len(weeks) < 2 {
		return nil
	}
	last := engine.ComputeAttainment(p, facts, scope, weeks[len(weeks)-2], now)
	this := engine.ComputeAttainment(p, facts, scope, weeks[len(weeks)-1], now)
	if !last.HasOnTimeData || !this.HasOnTimeData {
		return nil
	}
	switch {
	case this.OnTimeShare > last.OnTimeShare:
		return view.T(" ", view.Up, " better than last week")
	case this.OnTimeShare < last.OnTimeShare:
		return view.T(" ", view.Down, " worse than last week")
	}
	return view.T(" ", view.Next, " same as last week")
}
