package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/engine"
)

// This file answers /sla. bot.go acknowledges the envelope at once and
// hands the command to a durable job; the answer goes to the command's
// response_url, privately unless the user added "share".

// maxMessageBlocks is Slack's limit of blocks in a message.
const maxMessageBlocks = 50

// SetReportPoster replaces what `/sla report` calls to post the weekly
// report now (tests use it); nil restores the default, which posts the
// report of the week a report made now covers.
func (b *Bot) SetReportPoster(post func(ctx context.Context) error) {
	if post == nil {
		b.reportPoster.Store(nil)
		return
	}
	b.reportPoster.Store(&post)
}

func (b *Bot) postReportNow(ctx context.Context) error {
	if p := b.reportPoster.Load(); p != nil {
		return (*p)(ctx)
	}
	return b.PostWeeklyReport(ctx, ReportWeek(b.service.Now(), b.service.Policy().Location))
}

// reply is an answer to a command.
type reply struct {
	Text   string
	Blocks []slack.Block
	// Share posts the answer in the channel for everyone.
	Share bool
	// after runs once the answer is posted (e.g. posting the report).
	after func(ctx context.Context) error
}

func textReply(text string) reply {
	return reply{Text: text, Blocks: []slack.Block{slack.NewSectionBlock(mrkdwn(clipBytes(text, maxSectionText)), nil, nil)}}
}

// onSlashCommand answers /sla through the command's response_url.
func (b *Bot) onSlashCommand(ctx context.Context, cmd slack.SlashCommand) error {
	r := b.runCommand(ctx, cmd)
	if err := b.postReply(ctx, cmd.ResponseURL, r); err != nil {
		return err
	}
	if r.after != nil {
		if err := r.after(ctx); err != nil {
			b.logger.Error("a command's follow-up failed", "command", cmd.Command, "err", err)
			return b.respond(ctx, cmd.ResponseURL, ":warning: "+engine.ErrorMessage(err))
		}
	}
	return nil
}

// postReply posts an answer to a response_url.
func (b *Bot) postReply(ctx context.Context, responseURL string, r reply) error {
	if responseURL == "" {
		return nil
	}
	msg := &slack.WebhookMessage{Text: clipBytes(r.Text, maxFallback), ResponseType: slack.ResponseTypeEphemeral}
	if r.Share {
		msg.ResponseType = slack.ResponseTypeInChannel
	}
	if len(r.Blocks) > 0 {
		blocks := r.Blocks
		if len(blocks) > maxMessageBlocks {
			blocks = blocks[:maxMessageBlocks]
		}
		msg.Blocks = &slack.Blocks{BlockSet: blocks}
	}
	if err := slack.PostWebhookContext(ctx, responseURL, msg); err != nil {
		return b.slackError("response_url", err)
	}
	return nil
}

// respond posts a private answer to a response_url.
func (b *Bot) respond(ctx context.Context, responseURL, text string) error {
	if responseURL == "" {
		return nil
	}
	msg := &slack.WebhookMessage{Text: text, ResponseType: slack.ResponseTypeEphemeral}
	if err := slack.PostWebhookContext(ctx, responseURL, msg); err != nil {
		return b.slackError("response_url", err)
	}
	return nil
}

// onEvent handles Events API deliveries (the App Home).
func (b *Bot) onEvent(ctx context.Context, body []byte) error {
	var outer struct {
		Event struct {
			Type string `json:"type"`
			User string `json:"user"`
			Tab  string `json:"tab"`
		} `json:"event"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		b.logger.Warn("ignoring an event slabot cannot read", "err", err)
		return nil
	}
	ev := outer.Event
	if ev.Type == "app_home_opened" && ev.User != "" && (ev.Tab == "home" || ev.Tab == "") {
		return b.publishHome(ctx, ev.User)
	}
	return nil
}

// asker is who ran a command, as the agreement knows them.
type asker struct {
	UserID string
	Email  string
	// Rep is set when the asker is a rep in a team.
	Rep *engine.Rep
	// Team is the rep's team ("" for none).
	Team string
	// Manages lists the teams the asker manages.
	Manages []*engine.Team
}

func (a asker) manages(team string) bool {
	for _, t := range a.Manages {
		if team != "" && strings.EqualFold(t.Name, team) {
			return true
		}
	}
	return false
}

// whoIs finds who a Slack user is: their email, whether they are a rep,
// and which teams they manage.
func (b *Bot) whoIs(ctx context.Context, userID string) (asker, error) {
	email, err := b.emailOf(ctx, userID)
	if err != nil {
		return asker{}, err
	}
	a := asker{UserID: userID, Email: strings.ToLower(email)}
	policy := b.service.Policy()
	if rep, err := b.store.RepByEmail(ctx, a.Email); err == nil {
		team := rep.Team
		if team == "" {
			if t := policy.TeamOf(a.Email); t != nil {
				team = t.Name
			}
		}
		if team != "" {
			a.Rep, a.Team = rep, team
		}
	} else if engine.ErrorCode(err) != engine.ENOTFOUND {
		return asker{}, err
	}
	for i := range policy.Teams {
		if a.Email != "" && policy.Teams[i].Manager == a.Email {
			a.Manages = append(a.Manages, &policy.Teams[i])
		}
	}
	return a, nil
}

// runCommand parses and carries out one /sla command.
func (b *Bot) runCommand(ctx context.Context, cmd slack.SlashCommand) reply {
	name := strings.TrimSpace(cmd.Command)
	if name == "" {
		name = "/sla"
	}
	c, err := parseCommand(cmd.Text)
	if err != nil {
		var pe *parseError
		if errors.As(err, &pe) && pe.Unknown != "" {
			return helpReply(name, pe)
		}
		return textReply(":thinking_face: " + withCommandName(esc(err.Error()), name))
	}
	if c.Kind == cmdHelp {
		return helpReply(name, nil)
	}
	who, err := b.whoIs(ctx, cmd.UserID)
	if err != nil {
		return b.failure(err)
	}
	var r reply
	switch c.Kind {
	case cmdStatus:
		r, err = b.cmdStatus(ctx, who, c, name)
	case cmdLeads:
		r, err = b.cmdLeads(ctx, who, name)
	case cmdFunnel:
		r, err = b.cmdFunnel(ctx, c)
	case cmdPlan:
		r, err = cmdPlanReply(c, name)
	case cmdPolicy:
		r = policyReply(b.service.Policy())
	case cmdAway, cmdBack:
		r, err = b.cmdAvailability(ctx, who, c, name)
	case cmdReport:
		r = b.cmdReport(who)
	}
	if err != nil {
		return b.failure(err)
	}
	r.Share = c.Share
	return r
}

// failure turns an error into an answer: the reason for a refusal, or an
// apology (with the detail logged) for anything else.
func (b *Bot) failure(err error) reply {
	switch engine.ErrorCode(err) {
	case engine.EFORBIDDEN:
		return textReply(":no_entry_sign: " + esc(engine.ErrorMessage(err)))
	case engine.EINVALID, engine.ENOTFOUND, engine.ECONFLICT:
		return textReply(":warning: " + esc(engine.ErrorMessage(err)))
	}
	b.logger.Error("a slash command failed", "err", err)
	return textReply(":warning: " + engine.ErrorMessage(err))
}

// withCommandName shows examples with the command as the user invoked it.
func withCommandName(s, name string) string {
	if name == "/sla" {
		return s
	}
	return strings.ReplaceAll(s, "`/sla ", "`"+name+" ")
}

// helpLines describe each command in a line a phone shows whole.
var helpLines = []struct{ kind, text string }{
	{cmdStatus, "how you (or your team) are doing against the SLA"},
	{cmdLeads, "your open leads, next deadline first, with their buttons"},
	{cmdFunnel, "Marketing's funnel: MQLs → SQLs → won against targets"},
	{cmdPlan, "work out the monthly funnel from a revenue goal"},
	{cmdPolicy, "the agreement in plain words"},
	{cmdAway, "stop new leads while you are out (managers: for a rep)"},
	{cmdBack, "take leads again"},
	{cmdReport, "managers: post the weekly report now"},
}

func helpReply(name string, pe *parseError) reply {
	var b strings.Builder
	var text string
	if pe != nil {
		if pe.Suggest != "" {
			fmt.Fprintf(&b, ":thinking_face: I don't know %s. Did you mean `%s %s`?\n\n", esc(quote(pe.Unknown)), name, commandUsage[pe.Suggest])
			text = fmt.Sprintf("I don't know %s. Did you mean %s %s?", quote(pe.Unknown), name, pe.Suggest)
		} else {
			fmt.Fprintf(&b, ":thinking_face: I don't know %s. Here is what I can do:\n\n", esc(quote(pe.Unknown)))
			text = fmt.Sprintf("I don't know %s. Type %s help for the commands.", quote(pe.Unknown), name)
		}
	}
	b.WriteString("*slabot keeps the Sales–Marketing SLA.* New leads arrive in your DMs with buttons to acknowledge, log touches, snooze or return them.\n")
	for _, h := range helpLines {
		fmt.Fprintf(&b, "\n`%s %s`\n%s", name, commandUsage[h.kind], h.text)
	}
	b.WriteString("\n\nAnswers are private; add `share` to post one in the channel.")
	if text == "" {
		text = "slabot: " + name + " status, leads, funnel, plan, policy, away, back, report"
	}
	return reply{Text: text, Blocks: []slack.Block{slack.NewSectionBlock(mrkdwn(clipBytes(b.String(), maxSectionText)), nil, nil)}}
}

// ---------------------------------------------------------------------------
// /sla status

// resolvePerson finds the email of a person named in a command.
func (b *Bot) resolvePerson(ctx context.Context, p person) (string, error) {
	switch {
	case p.Email != "":
		return p.Email, nil
	case p.UserID != "":
		email, err := b.emailOf(ctx, p.UserID)
		if err != nil {
			if strings.Contains(err.Error(), "user_not_found") {
				return "", engine.Errorf(engine.ENOTFOUND, "I can't find that person in Slack.")
			}
			return "", err
		}
		if email == "" {
			return "", engine.Errorf(engine.ENOTFOUND, "That person has no email in Slack, so I can't match them to a rep.")
		}
		return email, nil
	}
	return "", engine.Errorf(engine.ENOTFOUND, "I can't tell who @%s is: pick the person from the list Slack shows as you type @, so the name becomes a link.", p.Handle)
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

func repName(r *engine.Rep) string {
	if r.Name != "" {
		return r.Name
	}
	return r.Email
}

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
	facts, err := q.LeadFacts(ctx, period.Start, period.End)
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

func zoneName(p *engine.Policy) string {
	if p.TimezoneName != "" {
		return p.TimezoneName
	}
	if p.Location != nil {
		return p.Location.String()
	}
	return "UTC"
}

// pct writes a share for people: "67%", "0.4%" rather than "0%", "99.9%"
// rather than "100%".
func pct(x float64) string { return engine.FormatPercent(x, engine.PercentShare) }

// durationText writes a duration for people: "45 s", "12 min", "2 h 5 min", "3 days 4 h".
func durationText(d time.Duration) string { return engine.FormatDurationShort(d) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
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

// ---------------------------------------------------------------------------
// /sla leads

// maxLeadsInMessage keeps a leads answer within 50 blocks: two a lead,
// plus a header, an intro and a footer.
const maxLeadsInMessage = 20

func (b *Bot) cmdLeads(ctx context.Context, who asker, name string) (reply, error) {
	if who.Rep == nil {
		return textReply(fmt.Sprintf("You hold no leads: you are not a rep in a team of the agreement. Try `%s status team` or `%s funnel`.", name, name)), nil
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
		return textReply(":tada: You have no open leads. New ones arrive in your DMs."), nil
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(fmt.Sprintf("Your open leads (%d)", len(open)))),
		slack.NewContextBlock("", mrkdwn("Next deadline first · times in "+esc(loc.String()))),
	}
	shown := min(len(open), maxLeadsInMessage)
	for i := range open[:shown] {
		blocks = append(blocks, leadRowBlocks(policy, &open[i], who.Email, now, loc)...)
	}
	if len(open) > shown {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("…and %d more: open slabot's Home tab to see them all.", len(open)-shown))))
	}
	return reply{Text: fmt.Sprintf("You have %s; next: %s", plural(len(open), "open lead", "open leads"),
		open[0].Lead.DisplayName()), Blocks: blocks}, nil
}

// nextDeadline is what the rep must do next on a lead and by when: the
// first touch, else the rest of the cadence; zero when nothing is due.
func nextDeadline(p *engine.Policy, f *engine.LeadFacts, now time.Time) (time.Time, string) {
	l := &f.Lead
	if l.FirstTouchAt.IsZero() && !l.FirstTouchDue.IsZero() {
		return l.FirstTouchDue, "first touch"
	}
	if r := p.Rule(l.Rule); r != nil && r.Touches.Count > 0 && !l.AssignedAt.IsZero() {
		cp := engine.CadenceStatus(r, l.AssignedAt, now, f.Touches)
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
func leadRow(p *engine.Policy, f *engine.LeadFacts, now time.Time, loc *time.Location) string {
	l := &f.Lead
	title := "*" + esc(clip(l.DisplayName(), 150)) + "*"
	var facts []string
	if l.Source != "" {
		facts = append(facts, esc(strings.ReplaceAll(clip(l.Source, 60), "_", " ")))
	}
	if l.State != engine.StateNew && l.State != engine.StateNotified {
		facts = append(facts, l.State.Label())
	}
	if len(facts) > 0 {
		title += " · " + strings.Join(facts, " · ")
	}
	due, what := nextDeadline(p, f, now)
	var next string
	switch {
	case due.IsZero():
		next = ":white_check_mark: Nothing due: the cadence is met"
	case what == "first touch" && !now.Before(due):
		next = fmt.Sprintf(":rotating_light: *First touch overdue* — was due %s (%s)", relative(due, now), clock(due, now, loc))
	case what == "first touch":
		next = fmt.Sprintf(":hourglass_flowing_sand: *First touch due %s* (%s)", relative(due, now), clock(due, now, loc))
	case !now.Before(due):
		next = fmt.Sprintf(":rotating_light: Cadence window closed %s, %s short", relative(due, now), what)
	default:
		next = fmt.Sprintf("Cadence: %s needed %s (by %s)", what, relative(due, now), clock(due, now, loc))
	}
	if l.State == engine.StateSnoozed && l.SnoozedUntil.After(now) {
		next += fmt.Sprintf("\n:zzz: Reminders snoozed until %s", clock(l.SnoozedUntil, now, loc))
	}
	return title + "\n" + next
}

// leadRowBlocks is a lead's line and the card's buttons, in an actions
// block with the card's block id ("lead:<id>"), so clicks act as on the card.
func leadRowBlocks(p *engine.Policy, f *engine.LeadFacts, viewer string, now time.Time, loc *time.Location) []slack.Block {
	l := f.Lead
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(clipBytes(leadRow(p, f, now, loc), maxSectionText)), nil, nil)}
	if actions := cardActions(cardData{Lead: &l, Viewer: viewer, Policy: p, Now: now, Loc: loc}); actions != nil {
		blocks = append(blocks, actions)
	}
	return blocks
}

// ---------------------------------------------------------------------------
// /sla funnel

// funnelPeriod is the period a funnel command asks for: this week, month
// or quarter, or a named month (the latest one that has begun).
func funnelPeriod(c command, now time.Time, loc *time.Location) (engine.Period, error) {
	if c.Month != 0 {
		y := c.Year
		if y == 0 {
			lt := now.In(loc)
			y = lt.Year()
			if c.Month > lt.Month() {
				y--
			}
		}
		p := engine.MonthPeriod(y, c.Month, loc)
		if !p.Start.Before(now) {
			return engine.Period{}, engine.Errorf(engine.EINVALID, "%s has not begun yet: its funnel is empty.", p.Label)
		}
		return p, nil
	}
	kind := c.Period
	if kind == "" {
		kind = "month"
	}
	return engine.PeriodContaining(kind, now, loc)
}

func (b *Bot) cmdFunnel(ctx context.Context, c command) (reply, error) {
	q := b.store
	policy, now := b.service.Policy(), b.service.Now()
	period, err := funnelPeriod(c, now, policy.Location)
	if err != nil {
		return reply{}, err
	}
	facts, err := q.LeadFacts(ctx, period.Start, period.End)
	if err != nil {
		return reply{}, err
	}
	mqls, err := q.MQLs(ctx, period.Start, period.End)
	if err != nil {
		return reply{}, err
	}
	f := engine.ComputeFunnel(policy, facts, mqls, period, now)
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(clip("Funnel: "+period.Label, maxHeader))),
		slack.NewContextBlock("", mrkdwn(fmt.Sprintf("Day %d of %d · targets are monthly, pro-rated by day", f.DaysElapsed, f.DaysInPeriod))),
		slack.NewSectionBlock(mrkdwn(clipBytes(funnelText(f), maxSectionText)), nil, nil),
	}
	text := fmt.Sprintf("Funnel, %s: %d MQLs, %d SQLs, %d won", period.Label, f.MQLs, f.SQLs, f.Won)
	return reply{Text: text, Blocks: blocks}, nil
}

// paceText says whether a count keeps pace with its pro-rated target.
func paceText(pace float64, target int) string {
	switch {
	case target == 0:
		return ""
	case pace == 0:
		return " · no pace yet"
	case pace >= 1:
		return fmt.Sprintf(" · :white_check_mark: on pace (%s)", pct(pace))
	}
	return fmt.Sprintf(" · :warning: %s behind pace", pct(1-pace))
}

func targetText(n int) string {
	if n == 0 {
		return "no target set"
	}
	return "target " + thousands(n)
}

func rateText(actual, target float64) string {
	s := pct(actual)
	if target > 0 {
		s += " (target " + pct(target) + ")"
	}
	return s
}

func funnelText(f engine.Funnel) string {
	lines := []string{
		fmt.Sprintf("*MQLs:* %s · %s%s", thousands(f.MQLs), targetText(f.MQLTarget), paceText(f.MQLPace, f.MQLTarget)),
		fmt.Sprintf("*SQLs:* %s · %s%s", thousands(f.SQLs), targetText(f.SQLTarget), paceText(f.SQLPace, f.SQLTarget)),
		fmt.Sprintf("*Won:* %s · %s", thousands(f.Won), targetText(f.WonTarget)),
		fmt.Sprintf("*MQL → SQL:* %s", rateText(f.MQLToSQL, f.MQLToSQLTarget)),
		fmt.Sprintf("*SQL → won:* %s", rateText(f.SQLToWon, f.SQLToWonTarget)),
	}
	open := fmt.Sprintf("*Open pipeline:* %s", plural(f.OpenSQLs, "SQL", "SQLs"))
	if f.ExpectedPipeline > 0 {
		open += " ≈ " + money(f.ExpectedPipeline) + " expected at the agreed win rate and deal size"
	}
	lines = append(lines, open)
	return strings.Join(lines, "\n")
}

// ---------------------------------------------------------------------------
// /sla plan and /sla policy

const planUsageExample = "`/sla plan revenue=5000 deal=100 win=0.5 mql_to_sql=0.25`"

func cmdPlanReply(c command, name string) (reply, error) {
	mql := 0.0
	if c.HasMQLToSQL {
		mql = c.MQLToSQL
	}
	plan, err := engine.PlanFromRevenue(c.Revenue, c.Deal, c.Win, mql)
	if err != nil {
		msg := engine.ErrorMessage(err)
		return textReply(":warning: " + esc(msg) + ".\nTry: " + withCommandName(planUsageExample, name)), nil
	}
	var lines []string
	for _, line := range strings.Split(plan.String(), "\n") {
		lines = append(lines, esc(line))
	}
	body := "*" + lines[0] + "*"
	if len(lines) > 1 {
		body = strings.Join(lines[:len(lines)-1], "\n")
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain("Monthly plan from the revenue goal")),
		slack.NewSectionBlock(mrkdwn(clipBytes(body, maxSectionText)), nil, nil),
		slack.NewContextBlock("", mrkdwn(esc(lines[len(lines)-1]))),
	}
	text := fmt.Sprintf("Plan: %d deals, %d SQLs", plan.Deals, plan.SQLs)
	if plan.MQLs > 0 {
		text += fmt.Sprintf(", %d MQLs", plan.MQLs)
	}
	return reply{Text: text + " a month", Blocks: blocks}, nil
}

// policyReply is the agreement in plain words, a section per paragraph.
func policyReply(p *engine.Policy) reply {
	summary := p.Summary()
	paras := strings.Split(summary, "\n\n")
	var blocks []slack.Block
	for i, para := range paras {
		if i == 0 {
			blocks = append(blocks, slack.NewHeaderBlock(plain(clip(para, maxHeader))))
			continue
		}
		lines := strings.Split(para, "\n")
		for j, line := range lines {
			line = esc(line)
			if rest, ok := strings.CutPrefix(line, "- "); ok {
				line = "• " + rest
			} else if j == 0 && strings.HasSuffix(line, ":") {
				line = "*" + line + "*"
			}
			lines[j] = line
		}
		for _, chunk := range chunkText(strings.Join(lines, "\n"), maxSectionText) {
			if len(blocks) < maxMessageBlocks {
				blocks = append(blocks, slack.NewSectionBlock(mrkdwn(chunk), nil, nil))
			}
		}
	}
	if p.ReviewBy.IsZero() {
		blocks = append(blocks[:min(len(blocks), maxMessageBlocks-1)], slack.NewContextBlock("", mrkdwn("The agreement sets no review date: add review_by to the policy file.")))
	}
	return reply{Text: firstLine(summary), Blocks: blocks}
}

// chunkText splits text at line ends into pieces of at most n bytes.
func chunkText(text string, n int) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		line = clipBytes(line, n)
		if cur.Len() > 0 && cur.Len()+1+len(line) > n {
			out = append(out, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(line)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// ---------------------------------------------------------------------------
// /sla away, /sla back, /sla report

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

func (b *Bot) cmdReport(who asker) reply {
	if len(who.Manages) == 0 {
		return textReply(":no_entry_sign: Only a team's manager can post the weekly report on demand. It goes out on its own on the agreement's schedule.")
	}
	channel := b.service.Policy().Report.Channel
	if channel == "" {
		return textReply(":no_entry_sign: The agreement names no report channel. Add `report: {channel: \"#smarketing\"}` to the policy file, then ask again.")
	}
	r := textReply(":mega: The weekly report is being posted to " + esc(channel) + ".")
	r.after = b.postReportNow
	return r
}
