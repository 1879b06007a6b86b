package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/engine"
)

// This file draws the App Home tab: the rep's open leads by deadline with
// the card's buttons (same action ids and "lead:<id>" block ids, so the
// card's handlers act on clicks here too), this week's on-time share and
// its trend, and for managers their team's table.

// maxViewBlocks is Slack's limit of blocks in a Home tab.
const maxViewBlocks = 100

// trendWeeks is how many weeks the trend line covers, this one included.
const trendWeeks = 4

// publishHome draws and publishes a user's Home tab.
func (b *Bot) publishHome(ctx context.Context, userID string) error {
	who, err := b.whoIs(ctx, userID)
	if err != nil {
		return err
	}
	view, err := b.homeView(ctx, who)
	if err != nil {
		return err
	}
	if _, err := b.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: userID, View: view}); err != nil {
		return b.slackError("views.publish", err)
	}
	b.metrics.sent.WithLabelValues("home").Inc()
	return nil
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

// refreshHome republishes the Home tab of a rep or manager by email, for
// changes to their leads or availability. A person not in Slack is skipped.
func (b *Bot) refreshHome(ctx context.Context, email string) error {
	p, err := b.personByEmail(ctx, email)
	if errors.Is(err, errNotInSlack) {
		return nil
	}
	if err != nil {
		return err
	}
	return b.publishHome(ctx, p.UserID)
}

// homeView gathers and renders the Home tab for one person.
func (b *Bot) homeView(ctx context.Context, who asker) (slack.HomeTabViewRequest, error) {
	q := b.store
	policy, now := b.service.Policy(), b.service.Now()
	loc := b.zone("")
	if who.Rep != nil {
		loc = b.zone(who.Rep.TimeZone)
	}
	week, err := engine.PeriodContaining("week", now, policy.Location)
	if err != nil {
		return slack.HomeTabViewRequest{}, err
	}
	var blocks []slack.Block
	blocks = append(blocks, slack.NewHeaderBlock(plain("Your SLA dashboard")))

	if who.Rep == nil && len(who.Manages) == 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("You are not a rep or a manager in the agreement, so no leads come to you here. "+
			"Type `/sla help` to see what slabot can do, or `/sla status all` for everyone's figures."), nil, nil))
		return homeRequest(blocks), nil
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
	facts, err := q.LeadFactsFor(ctx, weeks[0].Start, week.End, scope, scopeEmails(policy, scope))
	if err != nil {
		return slack.HomeTabViewRequest{}, err
	}
	if who.Rep != nil && !who.Rep.Available(now) {
		line := ":palm_tree: *You are away*"
		if !who.Rep.AwayUntil.IsZero() {
			line += " until " + who.Rep.AwayUntil.In(loc).Format("Monday, Jan 2")
		}
		if who.Rep.Status == engine.RepInactive {
			line = ":no_entry: *Your account is marked inactive*"
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(line+": no new leads come to you. Type `/sla back` when you return."), nil, nil))
	}
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
	summary := fmt.Sprintf("*%s week* (%s)\n%s\n*Trend*, last %d weeks: %s%s\n*Open leads:* %d · *Breaches this week:* %d",
		whose, esc(week.Label), onTimeLine(this), trendWeeks, strings.Join(shares, " → "), trendArrow(policy, facts, scope, weeks, now),
		this.OpenLeads, this.Breaches)
	blocks = append(blocks, slack.NewSectionBlock(mrkdwn(clipBytes(summary, maxSectionText)), nil, nil))

	// The manager's table goes before the leads so a long queue cannot push it out.
	var team []slack.Block
	for _, t := range who.Manages {
		team = append(team, slack.NewDividerBlock(),
			slack.NewSectionBlock(mrkdwn(clipBytes("*Team "+esc(t.Name)+" this week*\n"+
				strings.TrimPrefix(b.teamTable(ctx, policy, t, facts, week, now), "*By rep*\n"), maxSectionText)), nil, nil))
	}

	footer := slack.NewContextBlock("", mrkdwn(fmt.Sprintf("Updated %s · `/sla help` for commands", clock(now, now, loc))))
	if who.Rep != nil {
		open, err := q.OpenLeadsOf(ctx, who.Email)
		if err != nil {
			return slack.HomeTabViewRequest{}, err
		}
		sortByDeadline(policy, open, now)
		blocks = append(blocks, slack.NewDividerBlock())
		if len(open) == 0 {
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(":tada: *No open leads.* New ones arrive in your DMs."), nil, nil))
		} else {
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(fmt.Sprintf("*Your open leads (%d)*, next deadline first", len(open))), nil, nil))
			// Room for the leads: what is left after the team table, a
			// possible "more" line and the footer.
			room := maxViewBlocks - len(blocks) - len(team) - 2
			shown := 0
			for i := range open {
				row := leadRowBlocks(policy, &open[i], who.Email, now, loc)
				if len(row) > room {
					break
				}
				blocks = append(blocks, row...)
				room -= len(row)
				shown++
			}
			if shown < len(open) {
				blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("…and %d more with later deadlines.", len(open)-shown))))
			}
		}
	}
	blocks = append(blocks, team...)
	blocks = append(blocks, footer)
	if len(blocks) > maxViewBlocks {
		blocks = append(blocks[:maxViewBlocks-1], footer)
	}
	return homeRequest(blocks), nil
}

func homeRequest(blocks []slack.Block) slack.HomeTabViewRequest {
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}, CallbackID: "slabot.home"}
}

// trendArrow compares this week's on-time share with last week's.
func trendArrow(p *engine.Policy, facts []engine.LeadFacts, scope engine.Scope, weeks []engine.Period, now time.Time) string {
	if len(weeks) < 2 {
		return ""
	}
	last := engine.ComputeAttainment(p, facts, scope, weeks[len(weeks)-2], now)
	this := engine.ComputeAttainment(p, facts, scope, weeks[len(weeks)-1], now)
	if !last.HasOnTimeData || !this.HasOnTimeData {
		return ""
	}
	switch {
	case this.OnTimeShare > last.OnTimeShare:
		return " :arrow_upper_right: better than last week"
	case this.OnTimeShare < last.OnTimeShare:
		return " :arrow_lower_right: worse than last week"
	}
	return " :arrow_right: same as last week"
}
