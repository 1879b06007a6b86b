package bot

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot/chart"
	"github.com/slabot/slabot/engine"
)

// This file renders the weekly smarketing report (engine.WeeklyReport) as
// one Block Kit message for the report channel, followed by its chart, and
// posts it: on demand (PostWeeklyReport, `/sla report`, `slabot report`)
// or as the durable job a scheduled slot queues (see schedule.go).
//
// The message is read on phones: one section per side of the agreement,
// short lines, the number first and the target after it, and a coloured
// dot that says at a glance whether it is on track.

// JobWeeklyReport is the durable job that posts the report of one
// scheduled slot. Its handler is part of Handlers.
const JobWeeklyReport = "report.weekly"

// reportMetadataType tags report messages in Slack's message metadata, so
// a retry after a crash finds the report that already went out.
const reportMetadataType = "slabot_weekly_report"

// Keys of a scheduled report's progress (storage.DB.SaveRunProgress).
const (
	progressChannel = "channel"
	progressTS      = "ts"
	progressChart   = "chart"
)

// ReportStore is what the report reads; *storage.DB has all of it. The
// reps' availability history is read in a transaction (Tx.RepEvents).
type ReportStore interface {
	LeadFacts(ctx context.Context, from, to time.Time) ([]engine.LeadFacts, error)
	MQLs(ctx context.Context, from, to time.Time) ([]engine.MQL, error)
	Reps(ctx context.Context) ([]engine.Rep, error)
	InTx(ctx context.Context, fn func(engine.Tx) error) error
}

// ReportView is a weekly report with what its rendering needs besides the
// numbers.
type ReportView struct {
	Report engine.WeeklyReport
	Policy *engine.Policy
	// Names maps reps' emails (lower case) to their names, where known.
	Names map[string]string
}

// LoadReport builds the report of week as of now from the store: every
// lead that can count in the week, its month and the month before, the
// MQLs of that span, the reps, and their availability history up to the
// later of the week's end and now.
func LoadReport(ctx context.Context, store ReportStore, p *engine.Policy, week engine.Period, now time.Time) (ReportView, error) {
	loc := week.Start.Location()
	// The previous month is the one before the week's, or before now's on
	// the first report of a month; load from the earlier of the two.
	earliest := week.Start
	if now.Before(earliest) {
		earliest = now
	}
	y, m, _ := earliest.In(loc).Date()
	from := time.Date(y, m-1, 1, 0, 0, 0, 0, loc)
	to := week.End
	if now.After(to) {
		to = now
	}
	facts, err := store.LeadFacts(ctx, from, to)
	if err != nil {
		return ReportView{}, err
	}
	mqls, err := store.MQLs(ctx, from, to)
	if err != nil {
		return ReportView{}, err
	}
	reps, err := store.Reps(ctx)
	if err != nil {
		return ReportView{}, err
	}
	var history []engine.RepEvent
	err = store.InTx(ctx, func(tx engine.Tx) error {
		var err error
		history, err = tx.RepEvents(ctx, week.Start, to)
		return err
	})
	if err != nil {
		return ReportView{}, err
	}
	names := map[string]string{}
	for _, r := range reps {
		if r.Name != "" {
			names[strings.ToLower(r.Email)] = r.Name
		}
	}
	data := engine.ReportData{Facts: facts, MQLs: mqls, Reps: reps, RepHistory: history}
	return ReportView{Report: engine.BuildReport(p, data, week, now), Policy: p, Names: names}, nil
}

// ISOWeek names a week the way `slabot report --week` takes it: "2026-W47".
func ISOWeek(week engine.Period) string {
	y, w := week.Start.In(week.Start.Location()).ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// ReportWeek is the week a report made at t covers, read in loc: the week
// holding the day three days before t. A report on Monday to Wednesday
// covers the week before, which has just ended (the usual Monday morning
// report); from Thursday on it covers the current week, most of whose
// working days have passed.
func ReportWeek(t time.Time, loc *time.Location) engine.Period {
	if loc == nil {
		loc = time.UTC
	}
	p, _ := engine.PeriodContaining("week", t.In(loc).AddDate(0, 0, -3), loc)
	return p
}

// ---------------------------------------------------------------------------
// Posting

// WeeklyReport builds the report of week as of now.
func (b *Bot) WeeklyReport(ctx context.Context, week engine.Period) (ReportView, error) {
	return LoadReport(ctx, b.store, b.service.Policy(), week, b.service.Now())
}

// PostWeeklyReport posts the report of week, with its chart, to the
// agreement's report channel now. It does not check whether the week was
// reported before: it is for people asking for the report (`/sla report`,
// `slabot report`); the schedule goes through a durable job that posts
// each slot once.
func (b *Bot) PostWeeklyReport(ctx context.Context, week engine.Period) error {
	channel := b.service.Policy().Report.Channel
	if channel == "" {
		return engine.Errorf(engine.EINVALID, "The agreement names no report channel: add report: {channel: \"#smarketing\"} to the policy file.")
	}
	view, err := b.WeeklyReport(ctx, week)
	if err != nil {
		return err
	}
	channelID, _, err := b.postReportMessage(ctx, channel, view, reportMetadata(view.Report.Week, time.Time{}))
	if err != nil {
		return err
	}
	_, err = b.uploadChart(ctx, channelID, view)
	return err
}

func reportMetadata(week engine.Period, slot time.Time) slack.SlackMetadata {
	payload := map[string]any{"week": ISOWeek(week)}
	if !slot.IsZero() {
		payload["slot"] = slot.UTC().Format(time.RFC3339)
	}
	return slack.SlackMetadata{EventType: reportMetadataType, EventPayload: payload}
}

func (b *Bot) postReportMessage(ctx context.Context, channel string, view ReportView, meta slack.SlackMetadata) (channelID, ts string, err error) {
	blocks, fallback := RenderReport(view)
	if err := b.pacer.wait(ctx, channel); err != nil {
		return "", "", err
	}
	channelID, ts, err = b.api.PostMessageContext(ctx, channel, slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionText(fallback, false), slack.MsgOptionMetadata(meta))
	if err != nil {
		return "", "", b.slackError("chat.postMessage", err)
	}
	b.metrics.sent.WithLabelValues("report").Inc()
	return channelID, ts, nil
}

// uploadChart shares the report's chart in the channel (an ID: the v2
// upload's completeUploadExternal takes no names) and returns the file's id.
func (b *Bot) uploadChart(ctx context.Context, channelID string, view ReportView) (string, error) {
	png, err := chart.WeeklyChart(view.Report)
	if err != nil {
		return "", err
	}
	if err := b.pacer.wait(ctx, channelID); err != nil {
		return "", err
	}
	week := ISOWeek(view.Report.Week)
	f, err := b.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Reader: strings.NewReader(string(png)), FileSize: len(png), Filename: "smarketing-" + week + ".png",
		Title: "SQLs against target, " + view.Report.Month.Label, AltTxt: chartAltText(view.Report), Channel: channelID,
	})
	if err != nil {
		return "", b.slackError("files.uploadV2", err)
	}
	b.metrics.sent.WithLabelValues("report_chart").Inc()
	return f.ID, nil
}

// chartAltText says in words what the chart shows, for screen readers.
func chartAltText(r engine.WeeklyReport) string {
	f := r.Marketing.MonthFunnel
	return clip(fmt.Sprintf("Chart for %s: cumulative SQLs against the daily target, and the funnel month to date: "+
		"%s of %s MQLs, %s of %s SQLs, %s of %s won.", r.Month.Label, thousands(f.MQLs), thousands(f.MQLTarget),
		thousands(f.SQLs), thousands(f.SQLTarget), thousands(f.Won), thousands(f.WonTarget)), 1000)
}

// postScheduledReport posts the report of one claimed slot. Each step is
// recorded as it succeeds, so a retry goes on where the last attempt
// stopped: the message is posted once, and a message that went out just
// before a crash is found again by its metadata.
func (b *Bot) postScheduledReport(ctx context.Context, job engine.Job, args WeeklyReportArgs) error {
	runs := b.store
	name, slotText, weekText := args.Job, args.Slot, args.Week
	slot, err := time.Parse(time.RFC3339, slotText)
	if name == "" || err != nil {
		b.logger.Error("dropping a report job slabot cannot read", "job", job.ID)
		return nil
	}
	policy := b.service.Policy()
	week, err := engine.ParseISOWeek(weekText, policy.Location)
	if err != nil {
		b.logger.Error("dropping a report job slabot cannot read", "job", job.ID, "err", err)
		return nil
	}
	channel := policy.Report.Channel
	if channel == "" {
		b.logger.Warn("a scheduled report has no channel to go to: the policy file no longer names one", "week", weekText)
		return nil
	}
	progress, err := runs.RunProgress(ctx, name, slot)
	if err != nil {
		return err
	}
	meta := reportMetadata(week, slot)
	var view *ReportView
	load := func() (ReportView, error) {
		if view == nil {
			v, err := b.WeeklyReport(ctx, week)
			if err != nil {
				return v, err
			}
			view = &v
		}
		return *view, nil
	}
	save := func(key, value string) error {
		progress[key] = value
		return runs.SaveRunProgress(ctx, name, slot, key, value)
	}

	if progress[progressTS] == "" && job.Attempts > 1 {
		channelID, ts, err := b.findReport(ctx, channel, meta)
		if err != nil {
			return err
		}
		if ts != "" {
			if err := save(progressChannel, channelID); err != nil {
				return err
			}
			if err := save(progressTS, ts); err != nil {
				return err
			}
		}
	}
	if progress[progressTS] == "" {
		v, err := load()
		if err != nil {
			return err
		}
		channelID, ts, err := b.postReportMessage(ctx, channel, v, meta)
		if err != nil {
			return err
		}
		if err := save(progressChannel, channelID); err != nil {
			return err
		}
		if err := save(progressTS, ts); err != nil {
			return err
		}
	}
	if progress[progressChart] == "" {
		v, err := load()
		if err != nil {
			return err
		}
		id, err := b.uploadChart(ctx, progress[progressChannel], v)
		if err != nil {
			return err
		}
		if err := save(progressChart, id); err != nil {
			return err
		}
	}
	return nil
}

// findReport looks through the channel's recent history for the report
// message carrying meta, returning the channel's id and the message's ts,
// or "" when there is none.
func (b *Bot) findReport(ctx context.Context, channel string, meta slack.SlackMetadata) (string, string, error) {
	channelID, err := b.channelID(ctx, channel)
	if err != nil || channelID == "" {
		return "", "", err
	}
	hist, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: channelID, Limit: 100, IncludeAllMetadata: true})
	if err != nil {
		return "", "", b.slackError("conversations.history", err)
	}
	for _, m := range hist.Messages {
		if m.Metadata.EventType == meta.EventType &&
			fmt.Sprint(m.Metadata.EventPayload["slot"]) == fmt.Sprint(meta.EventPayload["slot"]) {
			return channelID, m.Timestamp, nil
		}
	}
	return channelID, "", nil
}

// channelID turns the policy's channel, a name or an id, into an id:
// conversations.history takes ids only. "" when no channel has the name.
func (b *Bot) channelID(ctx context.Context, channel string) (string, error) {
	name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(channel), "#"))
	if looksLikeChannelID(channel) {
		return channel, nil
	}
	params := &slack.GetConversationsParameters{ExcludeArchived: true, Limit: 200, Types: []string{"public_channel", "private_channel"}}
	for {
		chans, cursor, err := b.api.GetConversationsContext(ctx, params)
		if err != nil {
			return "", b.slackError("conversations.list", err)
		}
		for _, c := range chans {
			if strings.EqualFold(c.Name, name) {
				return c.ID, nil
			}
		}
		if cursor == "" {
			return "", nil
		}
		params.Cursor = cursor
	}
}

// looksLikeChannelID: Slack's ids are a C, G or D and upper-case letters
// and digits; channel names are lower case.
func looksLikeChannelID(s string) bool {
	if len(s) < 9 || !strings.ContainsRune("CGD", rune(s[0])) {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// Rendering

// maxReportListLines caps each list in the report (reasons, reps), so a
// bad week cannot push a section past Slack's 3,000 characters.
const maxReportListLines = 8

// RenderReport renders the report as Block Kit (at most a dozen blocks)
// and the notification text.
func RenderReport(v ReportView) ([]slack.Block, string) {
	r := v.Report
	loc := r.Week.Start.Location()
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(clip("Smarketing report · "+r.Week.Label, maxHeader))),
		slack.NewContextBlock("", mrkdwn(esc(fmt.Sprintf("Month to date: %s · figures as of %s (%s)",
			r.Month.Label, r.GeneratedAt.In(loc).Format("Mon Jan 2, 3:04 PM"), loc.String())))),
	}
	section := func(text string) {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(clipBytes(text, maxSectionText)), nil, nil))
	}
	if r.ReviewReminder != "" {
		section(":spiral_calendar_pad: *The agreement*\n" + esc(r.ReviewReminder))
	}
	blocks = append(blocks, slack.NewDividerBlock())
	section(marketingText(r))
	blocks = append(blocks, slack.NewDividerBlock())
	section(salesText(v))
	blocks = append(blocks, slack.NewDividerBlock())
	section(peopleText(v))
	if r.PreviousMonth != nil && r.PreviousMonthFunnel != nil {
		blocks = append(blocks, slack.NewDividerBlock())
		section(previousMonthText(*r.PreviousMonth, *r.PreviousMonthFunnel))
	}
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(
		"Targets are monthly, spread evenly over the days; while a period runs, % compares with the target of its days so far. "+
			"Leads count in the week they came in; breaches, returns and wins in the week they happened.")))

	w, m := r.Marketing.WeekFunnel, r.Sales.Week
	fallback := fmt.Sprintf("Smarketing report, %s: %s, %s; first touch on time %s (target %s); %s.",
		r.Week.Label, countOf(w.MQLs, "MQL", "MQLs"), countOf(w.SQLs, "SQL", "SQLs"),
		onTimeShare(m), pct(m.OnTimeTarget), countOf(m.Breaches, "breach", "breaches"))
	return blocks, clipBytes(fallback, maxFallback)
}

// ReportText is the report as plain text, for `slabot report --dry-run`.
func ReportText(blocks []slack.Block) string {
	var out []string
	for _, bl := range blocks {
		switch v := bl.(type) {
		case *slack.HeaderBlock:
			out = append(out, strings.ToUpper(v.Text.Text))
		case *slack.SectionBlock:
			if v.Text != nil {
				out = append(out, v.Text.Text)
			}
		case *slack.ContextBlock:
			for _, el := range v.ContextElements.Elements {
				if t, ok := el.(*slack.TextBlockObject); ok {
					out = append(out, t.Text)
				}
			}
		case *slack.DividerBlock:
			out = append(out, strings.Repeat("─", 40))
		}
	}
	text := strings.Join(out, "\n\n")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if len(l) > 2 && strings.HasPrefix(l, "_") && strings.HasSuffix(l, "_") {
			lines[i] = l[1 : len(l)-1]
		}
	}
	text = strings.Join(lines, "\n")
	return strings.NewReplacer("*", "", "&amp;", "&", "&lt;", "<", "&gt;", ">",
		":large_green_circle:", "●", ":large_yellow_circle:", "◐", ":red_circle:", "○",
		":mega:", "»", ":handshake:", "»", ":busts_in_silhouette:", "»", ":spiral_calendar_pad:", "»",
		":calendar:", "»", ":white_check_mark:", "✓", ":warning:", "!").Replace(text) + "\n"
}

// dot is the traffic light of an actual against its target: green at or
// above it, amber within 10% below, red further behind; none without a
// target.
func dot(actual, target float64) string {
	switch {
	case target <= 0:
		return ""
	case actual >= target:
		return " :large_green_circle:"
	case actual >= 0.9*target:
		return " :large_yellow_circle:"
	}
	return " :red_circle:"
}

// countOf writes "1 lead", "2 leads", "1,200 leads".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}

// againstTarget writes "*40* / 420 · 10% 🔴": the count, its target for
// the whole period, and how far along it is. For a period that is over
// that is actual ÷ the target shown, the sum a reader (and the chart)
// does; for one still running it is the pace, actual ÷ the target of the
// days so far.
func againstTarget(f engine.Funnel, actual, target int, pace float64) string {
	if target <= 0 {
		return fmt.Sprintf("*%s* (no target set)", thousands(actual))
	}
	if f.DaysElapsed >= f.DaysInPeriod {
		pace = float64(actual) / float64(target)
	}
	return fmt.Sprintf("*%s* / %s · %s%s", thousands(actual), thousands(target), pct(pace), dot(pace, 1))
}

func rateAgainst(actual, target float64) string {
	if target <= 0 {
		return pct(actual)
	}
	return fmt.Sprintf("%s (target %s)%s", pct(actual), pct(target), dot(actual, target))
}

func marketingText(r engine.WeeklyReport) string {
	w, m := r.Marketing.WeekFunnel, r.Marketing.MonthFunnel
	lines := []string{
		"*:mega: Marketing*",
		"*MQLs*",
		"This week: " + againstTarget(w, w.MQLs, w.MQLTarget, w.MQLPace),
		"Month to date: " + againstTarget(m, m.MQLs, m.MQLTarget, m.MQLPace),
		"*SQLs*",
		"This week: " + againstTarget(w, w.SQLs, w.SQLTarget, w.SQLPace),
		"Month to date: " + againstTarget(m, m.SQLs, m.SQLTarget, m.SQLPace),
		"*MQL → SQL*",
	}
	if w.MQLs > 0 {
		lines = append(lines, "This week: "+rateAgainst(w.MQLToSQL, w.MQLToSQLTarget))
	} else {
		lines = append(lines, "This week: no MQLs, so no rate")
	}
	if m.MQLs > 0 {
		lines = append(lines, "Month to date: "+rateAgainst(m.MQLToSQL, m.MQLToSQLTarget))
	}
	returns := r.Marketing.ReturnsByReason
	total := 0
	for _, n := range returns {
		total += n
	}
	if total == 0 {
		lines = append(lines, "*Returned to Marketing:* none this week")
	} else {
		lines = append(lines, fmt.Sprintf("*Returned to Marketing:* %s this week", countOf(total, "lead", "leads")))
		lines = append(lines, rankedLines(returns, func(reason string) string { return esc(clip(reason, 120)) })...)
	}
	return strings.Join(lines, "\n")
}

// rankedLines lists counts as bullets, largest first (ties by name), at
// most maxReportListLines of them.
func rankedLines[K ~string](counts map[K]int, name func(K) string) []string {
	keys := make([]K, 0, len(counts))
	for k, n := range counts {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var lines []string
	for i, k := range keys {
		if i == maxReportListLines {
			rest := 0
			for _, k := range keys[i:] {
				rest += counts[k]
			}
			lines = append(lines, fmt.Sprintf("• %d others: %d", len(keys)-i, rest))
			break
		}
		lines = append(lines, fmt.Sprintf("• %s: %d", name(k), counts[k]))
	}
	return lines
}

func onTimeShare(a engine.Attainment) string {
	if !a.HasOnTimeData {
		return "no lead decided yet"
	}
	return pct(a.OnTimeShare)
}

// breachReasons names the kinds of breach as a sales manager says them.
var breachReasons = map[engine.BreachKind]string{
	engine.BreachFirstTouch: "first touch late",
	engine.BreachCadence:    "too few touches",
}

func salesText(v ReportView) string {
	r := v.Report
	w, m := r.Sales.Week, r.Sales.MonthToDate
	lines := []string{"*:handshake: Sales*", "*First touch on time*"}
	if w.HasOnTimeData {
		lines = append(lines, fmt.Sprintf("This week: *%s* (%d of %d) · target %s%s", pct(w.OnTimeShare),
			w.FirstTouchOnTime, w.FirstTouchOnTime+w.FirstTouchLate, pct(w.OnTimeTarget), dot(w.OnTimeShare, w.OnTimeTarget)))
	} else {
		lines = append(lines, "This week: no lead was due yet")
	}
	if m.HasOnTimeData {
		lines = append(lines, fmt.Sprintf("Month to date: %s (%d of %d)%s", pct(m.OnTimeShare),
			m.FirstTouchOnTime, m.FirstTouchOnTime+m.FirstTouchLate, dot(m.OnTimeShare, m.OnTimeTarget)))
	}
	var aside []string
	if w.FirstTouchPending > 0 {
		aside = append(aside, fmt.Sprintf("%d not due yet or unassigned", w.FirstTouchPending))
	}
	if w.FirstTouchClosed > 0 {
		aside = append(aside, fmt.Sprintf("%d closed before the deadline", w.FirstTouchClosed))
	}
	if len(aside) > 0 {
		lines = append(lines, "_Not counted: "+strings.Join(aside, ", ")+"_")
	}

	lines = append(lines, "*Time to first touch*")
	if st := w.TimeToFirstTouchBusiness; st.Count > 0 {
		clock := ""
		if v.Policy != nil && v.Policy.Calendar != nil {
			clock = " (business hours)"
		}
		lines = append(lines, fmt.Sprintf("Median %s · 9 in 10 within %s%s", durationText(st.Median), durationText(st.P90), clock))
	} else {
		lines = append(lines, "No lead of this week touched yet")
	}

	lines = append(lines, "*Cadence*")
	switch {
	case w.HasCadenceData:
		line := fmt.Sprintf("%d of %d met (%s)", w.CadenceMet, w.CadenceMet+w.CadenceMissed, pct(w.CadenceShare))
		if w.CadenceRunning > 0 {
			line += fmt.Sprintf(" · %d still running", w.CadenceRunning)
		}
		lines = append(lines, line)
	case w.CadenceRunning > 0:
		lines = append(lines, fmt.Sprintf("None ended this week · %d still running", w.CadenceRunning))
	default:
		lines = append(lines, "None ended this week")
	}

	if w.Breaches == 0 {
		lines = append(lines, "*Breaches:* none this week :white_check_mark:")
	} else {
		lines = append(lines, fmt.Sprintf("*Breaches:* %d this week", w.Breaches), "_By rep_")
		lines = append(lines, rankedLines(w.BreachesByRep, func(email string) string { return esc(v.name(email)) })...)
		lines = append(lines, "_By reason_")
		lines = append(lines, rankedLines(w.BreachesByKind, func(k engine.BreachKind) string {
			if s, ok := breachReasons[k]; ok {
				return s
			}
			return esc(strings.ReplaceAll(string(k), "_", " "))
		})...)
	}

	wf, mf := r.Marketing.WeekFunnel, r.Marketing.MonthFunnel
	lines = append(lines, "*SQL → won*")
	won := fmt.Sprintf("This week: %s (%s", rateAgainst(wf.SQLToWon, wf.SQLToWonTarget), countOf(wf.Won, "won", "won"))
	if w.WonAmount > 0 {
		won += ", " + money(w.WonAmount)
	}
	lines = append(lines, won+")")
	if wf.SQLs == 0 {
		lines[len(lines)-1] = fmt.Sprintf("This week: no SQLs, %s", countOf(wf.Won, "deal won", "deals won"))
	}
	if mf.SQLs > 0 {
		lines = append(lines, fmt.Sprintf("Month to date: %s (%d won)", rateAgainst(mf.SQLToWon, mf.SQLToWonTarget), mf.Won))
	}
	return strings.Join(lines, "\n")
}

// name is how the report names a rep: their name when known, else email.
func (v ReportView) name(email string) string {
	if n := v.Names[strings.ToLower(email)]; n != "" {
		return n
	}
	return email
}

func peopleText(v ReportView) string {
	r := v.Report
	lines := []string{"*:busts_in_silhouette: People*"}
	repLine := func(l engine.RepLine) string {
		return fmt.Sprintf("• %s: %s (%d of %d)", esc(v.name(l.Email)), pct(l.OnTimeShare),
			int(math.Round(l.OnTimeShare*float64(l.Decided))), l.Decided)
	}
	if len(r.Best) == 0 {
		lines = append(lines, fmt.Sprintf("_Nobody had %d leads due this week, so nobody is ranked._", engine.MinDecidedForRanking))
	} else {
		lines = append(lines, "*Most on time*")
		for _, l := range r.Best {
			lines = append(lines, repLine(l))
		}
		if len(r.Worst) > 0 {
			lines = append(lines, "*Least on time*")
			for _, l := range r.Worst {
				lines = append(lines, repLine(l))
			}
		}
	}
	if away := awayText(v); away == "" {
		lines = append(lines, "*Away:* nobody")
	} else {
		lines = append(lines, "*Away:* "+away)
	}
	if r.Unrouted == 0 {
		lines = append(lines, "*Reached nobody:* none, every lead this week has a rep :white_check_mark:")
	} else {
		lines = append(lines, fmt.Sprintf("*Reached nobody:* %s this week %s no rep :warning: Assign %s in your CRM.",
			countOf(r.Unrouted, "lead", "leads"), map[bool]string{true: "has", false: "have"}[r.Unrouted == 1],
			map[bool]string{true: "it", false: "them"}[r.Unrouted == 1]))
	}
	return strings.Join(lines, "\n")
}

// awayText names the reps away or inactive during the week, each with the
// dates of their absences: "Bo Berg (Tue Oct 27 – Thu Oct 29), Cy Chen
// (since Mon Oct 19, back Tue Dec 1), Dee (inactive since Wed Oct 28)".
// At most maxReportListLines reps are named; "" when there are none.
func awayText(v ReportView) string {
	r := v.Report
	loc := r.Week.Start.Location()
	var emails []string
	spells := map[string][]string{}
	for _, ab := range r.Away {
		email := strings.ToLower(ab.Email)
		if _, seen := spells[email]; !seen {
			emails = append(emails, email)
		}
		spells[email] = append(spells[email], absenceDates(ab, loc))
	}
	var names []string
	for i, email := range emails {
		if i == maxReportListLines {
			names = append(names, fmt.Sprintf("and %d more", len(emails)-i))
			break
		}
		names = append(names, esc(v.name(email))+" ("+strings.Join(spells[email], "; ")+")")
	}
	return strings.Join(names, ", ")
}

// absenceDates says when an absence was, by day in loc: "Tue Oct 27 – Thu
// Oct 29" (the last day away, not the day back), "since Mon Oct 19, back
// Tue Dec 1" for one that lasts, with "inactive" before it for a rep who
// was deactivated.
func absenceDates(ab engine.Absence, loc *time.Location) string {
	day := func(t time.Time) string { return t.In(loc).Format("Mon Jan 2") }
	last := ab.To.Add(-time.Nanosecond)
	var text string
	switch {
	case ab.To.IsZero():
		text = "since " + day(ab.From)
		if !ab.Until.IsZero() {
			text += ", back " + day(ab.Until)
		}
	case engine.DateOf(ab.From.In(loc)) == engine.DateOf(last.In(loc)):
		text = day(ab.From)
	default:
		text = day(ab.From) + " – " + day(last)
	}
	if ab.Status == engine.RepInactive {
		text = "inactive " + text
	}
	return text
}

func previousMonthText(a engine.Attainment, f engine.Funnel) string {
	lines := []string{
		fmt.Sprintf("*:calendar: %s, final figures*", esc(f.Period.Label)),
		"MQLs: " + againstTarget(f, f.MQLs, f.MQLTarget, f.MQLPace),
		"SQLs: " + againstTarget(f, f.SQLs, f.SQLTarget, f.SQLPace),
	}
	if f.WonTarget > 0 {
		lines = append(lines, fmt.Sprintf("Won: *%s* / %s%s", thousands(f.Won), thousands(f.WonTarget), dot(float64(f.Won), float64(f.WonTarget))))
	} else {
		lines = append(lines, fmt.Sprintf("Won: *%s*", thousands(f.Won)))
	}
	if f.MQLs > 0 {
		lines = append(lines, "MQL → SQL: "+rateAgainst(f.MQLToSQL, f.MQLToSQLTarget))
	}
	if f.SQLs > 0 {
		lines = append(lines, "SQL → won: "+rateAgainst(f.SQLToWon, f.SQLToWonTarget))
	}
	if a.HasOnTimeData {
		lines = append(lines, fmt.Sprintf("First touch on time: %s (target %s)%s", pct(a.OnTimeShare),
			pct(a.OnTimeTarget), dot(a.OnTimeShare, a.OnTimeTarget)))
	}
	if a.Breaches > 0 {
		lines = append(lines, "Breaches: "+thousands(a.Breaches))
	}
	return strings.Join(lines, "\n")
}
