package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// The weekly report's figures from lead_facts: the same as
// engine.ComputeReportFigures over the leads and MQLs of the report's span
// (engine.ReportSpans.LoadSpan), which is what bot.LoadReport loads.

// ReportFigures counts the figures of the report over spans as of now
// under policy p; reps are the reps listed (DB.Reps), each of whom gets a
// line.
func (db *DB) ReportFigures(ctx context.Context, p *engine.Policy, spans engine.ReportSpans, reps []engine.Rep, now time.Time) (engine.ReportFigures, error) {
	from, to := spans.LoadSpan(now)
	fresh, err := db.freshFigures(ctx, p)
	if err != nil {
		return engine.ReportFigures{}, err
	}
	if !fresh {
		facts, err := db.LeadFacts(ctx, from, to)
		if err != nil {
			return engine.ReportFigures{}, err
		}
		mqls, err := db.MQLs(ctx, from, to)
		if err != nil {
			return engine.ReportFigures{}, err
		}
		return engine.ComputeReportFigures(p, engine.ReportData{Facts: facts, MQLs: mqls, Reps: reps}, spans, now), nil
	}
	span := &leadSpan{from: from, to: to}
	all := engine.Scope{Kind: engine.ScopeAll}
	var fig engine.ReportFigures
	if fig.Week, err = db.attainmentFromFigures(ctx, p, all, spans.Week, now, span); err != nil {
		return engine.ReportFigures{}, err
	}
	if fig.MonthToDate, err = db.attainmentFromFigures(ctx, p, all, spans.Month, now, span); err != nil {
		return engine.ReportFigures{}, err
	}
	if fig.WeekFunnel, err = db.funnelFromFigures(ctx, p, spans.Week, now, span); err != nil {
		return engine.ReportFigures{}, err
	}
	if fig.MonthFunnel, err = db.funnelFromFigures(ctx, p, spans.Month, now, span); err != nil {
		return engine.ReportFigures{}, err
	}
	if spans.HasPreviousMonth {
		a, err := db.attainmentFromFigures(ctx, p, all, spans.PreviousMonth, now, span)
		if err != nil {
			return engine.ReportFigures{}, err
		}
		f, err := db.funnelFromFigures(ctx, p, spans.PreviousMonth, now, span)
		if err != nil {
			return engine.ReportFigures{}, err
		}
		fig.PreviousMonth, fig.PreviousMonthFunnel = &a, &f
	}
	if fig.RepLines, err = db.repLinesFromFigures(ctx, reps, spans.Week, now, span); err != nil {
		return engine.ReportFigures{}, err
	}
	if fig.SQLsByDay, err = db.sqlsByDayFromFigures(ctx, spans.Month, now, span); err != nil {
		return engine.ReportFigures{}, err
	}
	if fig.Scorecards, err = db.reportScorecards(ctx, p, spans, now); err != nil {
		return engine.ReportFigures{}, err
	}
	return fig, nil
}

// repLinesFromFigures is each rep's line of the week: the reps listed and
// every owner of a lead received in the week.
func (db *DB) repLinesFromFigures(ctx context.Context, reps []engine.Rep, week engine.Period, now time.Time, span *leadSpan) ([]engine.RepLine, error) {
	lines := map[string]*engine.RepLine{}
	line := func(email string) *engine.RepLine {
		if lines[email] == nil {
			lines[email] = &engine.RepLine{Email: email}
		}
		return lines[email]
	}
	for _, r := range reps {
		if email := strings.ToLower(strings.TrimSpace(r.Email)); email != "" {
			line(email)
		}
	}
	args := span.apply(figuresArgs(engine.Scope{}, week, now))
	counted := map[string]engine.RepLine{}
	batch := &pgx.Batch{}
	batch.Queue(fmt.Sprintf(figuresRepLinesSQL, "true"), args).Query(func(rows pgx.Rows) error {
		var (
			email                 string
			ownsWeekLead          bool
			sqls, decided, onTime int
		)
		_, err := pgx.ForEachRow(rows, []any{&email, &ownsWeekLead, &sqls, &decided, &onTime}, func() error {
			if email == "" {
				return nil
			}
			if ownsWeekLead {
				line(email)
			}
			share, _ := shareOf(onTime, decided)
			counted[email] = engine.RepLine{Email: email, SQLs: sqls, Decided: decided, OnTimeShare: share}
			return nil
		})
		return err
	})
	breaches := map[string]int{}
	batch.Queue(figuresRepBreachesSQL, args).Query(func(rows pgx.Rows) error {
		var email string
		var n int
		_, err := pgx.ForEachRow(rows, []any{&email, &n}, func() error { breaches[email] += n; return nil })
		return err
	})
	if err := db.pool.SendBatch(ctx, batch).Close(); err != nil {
		return nil, mapError(err, "count the reps' figures over %s", week.Label)
	}
	out := make([]engine.RepLine, 0, len(lines))
	for email := range lines {
		l := counted[email]
		l.Email, l.Breaches = email, breaches[email]
		out = append(out, l)
	}
	return out, nil
}

// sqlsByDayFromFigures counts the SQLs of month up to now by day of the
// month in its zone.
func (db *DB) sqlsByDayFromFigures(ctx context.Context, month engine.Period, now time.Time, span *leadSpan) (map[int]int, error) {
	loc := month.Start.Location()
	first := month.Start.In(loc)
	var days []time.Time
	for d := 0; ; d++ {
		start := time.Date(first.Year(), first.Month(), first.Day()+d, 0, 0, 0, 0, loc)
		if !start.Before(month.End) {
			break
		}
		days = append(days, start)
	}
	args := span.apply(figuresArgs(engine.Scope{}, month, now))
	args["days"] = days
	rows, err := db.pool.Query(ctx, figuresSQLsByDaySQL, args)
	if err != nil {
		return nil, mapError(err, "count SQLs by day over %s", month.Label)
	}
	perDay := map[int]int{}
	var bucket, n int
	if _, err := pgx.ForEachRow(rows, []any{&bucket, &n}, func() error {
		perDay[first.Day()+bucket-1] += n
		return nil
	}); err != nil {
		return nil, mapError(err, "count SQLs by day over %s", month.Label)
	}
	return perDay, nil
}

// WeeklyReport builds the report of week as of now under policy p from
// the figures, with the reps and their availability history loaded here:
// what bot.LoadReport builds with engine.BuildReport over every lead of the
// span.
func (db *DB) WeeklyReport(ctx context.Context, p *engine.Policy, week engine.Period, now time.Time) (engine.WeeklyReport, error) {
	spans := engine.ReportSpansOf(week, now)
	reps, err := db.Reps(ctx)
	if err != nil {
		return engine.WeeklyReport{}, err
	}
	fig, err := db.ReportFigures(ctx, p, spans, reps, now)
	if err != nil {
		return engine.WeeklyReport{}, err
	}
	_, to := spans.LoadSpan(now)
	var history []engine.RepEvent
	err = db.InTx(ctx, func(tx engine.Tx) error {
		var err error
		history, err = tx.RepEvents(ctx, week.Start, to)
		return err
	})
	if err != nil {
		return engine.WeeklyReport{}, err
	}
	return engine.AssembleReport(p, fig, history, spans, now), nil
}
