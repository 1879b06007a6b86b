package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// The review pack (issue 24), counted where the leads are: the months'
// scorecard rows and the span's score bands in one scan of lead_facts,
// the MQLs by month, the span's breaches by likely cause from each
// breaching rep's sorted assignments and closings, and acceptance by
// source from the span's leads grouped into lead quality's classes. What
// comes back is a few hundred rows at most, whatever the number of leads.

// reviewMonthGroup is a lead's month among @month_starts, by its label.
const reviewMonthGroup = `(@month_labels::text[])[width_bucket(received_at, @month_starts::timestamptz[])]`

// reviewCausesSQL puts each breach of the span's own leads (received in
// it, the breach recorded by @now) down to one cause, by precedence:
//   - routing: the lead's routing delay (hand-off to owner, wall time, as
//     /sla status counts it) is over @routing;
//   - capacity: the breach's rep already held at least @capacity open
//     leads when the lead was received: leads they own, assigned before
//     that instant and not closed by it (closed strictly after it, or
//     still open);
//   - concentrated: more than half of the rule's breaches came from its
//     two reps with the most (ties by email), and this breach's rep is one
//     of them;
//   - other.
//
// The routing delay and the count of open leads held are kept on each
// breach's row as the leads change (migration 0022), so this is one pass
// over the span's breach rows.
//
// Rows: rule, cause, breaches, whether the rule is concentrated, its top
// reps.
const reviewCausesSQL = `
WITH classified AS MATERIALIZED (
	SELECT rule, rep_key, CASE
		WHEN coalesce(lead_routing_delay > @routing, false) THEN 'routing'
		WHEN rep_key <> '' AND held_at_arrival >= @capacity THEN 'capacity' END AS cause,
		count(*) AS n
	FROM lead_breach_facts
	WHERE lead_received_at >= @start AND lead_received_at < @end AND lead_received_at <= @now AND at <= @now
	GROUP BY 1, 2, 3
), ranked AS (
	SELECT rule, rep_key, n, row_number() OVER (PARTITION BY rule ORDER BY n DESC, rep_key) AS rank
	FROM (SELECT rule, rep_key, sum(n) AS n FROM classified WHERE rep_key <> '' GROUP BY 1, 2) per_rep
), rules AS (
	SELECT rule, sum(n) AS total FROM classified GROUP BY 1
), tops AS (
	SELECT r.rule, 2 * coalesce(sum(k.n), 0) > r.total AS concentrated,
		coalesce(array_agg(k.rep_key ORDER BY k.rank) FILTER (WHERE k.rep_key IS NOT NULL), '{}') AS reps
	FROM rules r LEFT JOIN ranked k ON k.rule = r.rule AND k.rank <= 2
	GROUP BY r.rule, r.total
)
SELECT c.rule, coalesce(c.cause, CASE WHEN t.concentrated AND c.rep_key = ANY(t.reps) THEN 'concentrated' ELSE 'other' END),
	sum(c.n)::bigint, t.concentrated, t.reps
FROM classified c JOIN tops t ON t.rule = c.rule
GROUP BY 1, 2, 4, 5`

// Review counts the review pack over months (consecutive calendar months,
// oldest first) as of asOf under policy p: each month's own leads and MQLs
// (the scorecard's (all) row), the span's leads by score band, its
// breaches by likely cause and its acceptance by source. The commitments
// are judged from the months (engine.JudgeCommitments).
func (db *DB) Review(ctx context.Context, p *engine.Policy, months []engine.Period, asOf time.Time) (engine.Review, error) {
	span := engine.ReviewSpan(months)
	settings := p.ReviewSettings()
	rv := engine.Review{Span: span, AsOf: asOf, Settings: settings, ReviewBy: p.ReviewBy}
	if len(months) == 0 {
		return rv, engine.Errorf(engine.EINVALID, "the review needs at least one month")
	}
	fresh, err := db.freshFigures(ctx, p)
	if err != nil {
		return rv, err
	}
	if !fresh {
		return rv, engine.Errorf(engine.EUNAVAILABLE, "slabot is still working out the figures of many changed leads; ask for the review again in a few minutes.")
	}
	// One snapshot for the whole pack, its parts counted at once
	// (runReviewParts): the first half of the months' cells, the second,
	// and the MQLs, breaches and acceptance, each a few hundred rows.
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return rv, mapError(err, "count the review of %s", span.Label)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, reviewTxSettings); err != nil {
		return rv, mapError(err, "count the review of %s", span.Label)
	}
	var snapshot string
	if err := tx.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&snapshot); err != nil {
		return rv, mapError(err, "count the review of %s", span.Label)
	}
	half := len(months) / 2
	var (
		early, late []scorecardCell
		mqls        []int
	)
	parts := []reviewPart{
		func(ctx context.Context, tx pgx.Tx) (err error) {
			late, err = reviewMonthCells(ctx, tx, p, months[half:], asOf)
			return err
		},
		func(ctx context.Context, tx pgx.Tx) (err error) {
			if mqls, err = reviewMQLs(ctx, tx, months, asOf); err != nil {
				return err
			}
			if rv.Breaches, err = reviewBreaches(ctx, tx, p, span, asOf, settings); err != nil {
				return err
			}
			rv.Quality, err = reviewQuality(ctx, tx, span.Start, span.End, p.Targets.Accepted)
			return err
		},
	}
	if half > 0 {
		parts = append(parts, func(ctx context.Context, tx pgx.Tx) (err error) {
			early, err = reviewMonthCells(ctx, tx, p, months[:half], asOf)
			return err
		})
	}
	if err := db.runReviewParts(ctx, tx, snapshot, parts); err != nil {
		return rv, mapError(err, "count the review of %s", span.Label)
	}
	reviewMonths(p, &rv, months, append(early, late...))
	for i, n := range mqls {
		rv.Months[i].Figures.MQLs = n
		rv.ByScore.All.MQLs += n
	}
	rv.Commitments = engine.JudgeCommitments(p, rv.Months)
	return rv, nil
}

// reviewMonthCells counts the cells of months (consecutive, oldest first):
// their own leads by month, score band, rule and return reason
// (scorecardCellsSQL).
func reviewMonthCells(ctx context.Context, tx pgx.Tx, p *engine.Policy, months []engine.Period, asOf time.Time) ([]scorecardCell, error) {
	span := engine.ReviewSpan(months)
	starts := make([]time.Time, len(months)+1)
	labels := make([]string, len(months))
	for i, m := range months {
		starts[i], labels[i] = m.Start, m.Label
	}
	starts[len(months)] = span.End
	args := scorecardArgs(p, span, asOf)
	args["month_starts"], args["month_labels"] = starts, labels
	bounds := engine.ScoreBands(p)
	cells, err := scorecardCells(ctx, tx, fmt.Sprintf(scorecardCellsSQL, reviewMonthGroup, scorecardGroup(engine.ByScore, bounds),
		fmt.Sprintf(figuresJudged, scorecardCohort)), args)
	if err != nil {
		return nil, mapError(err, "count the review's months over %s", span.Label)
	}
	return cells, nil
}

// reviewMonths sums the span's cells (reviewMonthCells) into each
// month's (all) row and the span's score bands, as the scorecard sums
// them.
func reviewMonths(p *engine.Policy, rv *engine.Review, months []engine.Period, cells []scorecardCell) {
	monthly, bands, all := scorecardTallies{}, scorecardTallies{}, &scorecardTally{}
	rv.ByScore = engine.Scorecard{By: engine.ByScore, Period: rv.Span, AsOf: rv.AsOf}
	for i := range cells {
		c := &cells[i]
		monthly.add(c.group, c)
		bands.add(c.band, c)
		all.add(c)
		rv.ByScore.Young += c.young
		if c.newest != nil && c.newest.After(rv.ByScore.Newest) {
			rv.ByScore.Newest = *c.newest
		}
	}
	rv.Months = make([]engine.ReviewMonth, len(months))
	for i, m := range months {
		row := engine.ScorecardRow{Group: m.Label, ReturnsByReason: map[string]int{}}
		if t := monthly[m.Label]; t != nil {
			row = t.finish(m.Label)
		}
		row.HasMQLs = true
		rv.Months[i] = engine.ReviewMonth{Period: m, Figures: row}
	}
	rv.ByScore.Rows, rv.ByScore.All = bands.rows(), all.finish("")
	engine.FinishScorecard(p, &rv.ByScore)
}

// reviewMQLs counts each month's MQLs received by the review's AsOf, as
// the scorecard counts a period's (scorecardMQLsSQL): the month's whole
// UTC hours from mql_hours, the rest from mqls. A month at a time, so an
// hour a month boundary cuts (a zone half an hour off UTC) is counted
// from mqls on both sides.
func reviewMQLs(ctx context.Context, tx pgx.Tx, months []engine.Period, asOf time.Time) ([]int, error) {
	query := fmt.Sprintf(scorecardMQLsSQL, "''")
	counts := make([]int, len(months))
	for i, m := range months {
		var (
			all string
			n   int
		)
		err := tx.QueryRow(ctx, query, mqlHoursArgs(m, asOf)).Scan(&all, &n)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, mapError(err, "count the MQLs of %s", m.Label)
		}
		counts[i] = n
	}
	return counts, nil
}

// reviewBreaches counts the span's breaches by likely cause
// (reviewCausesSQL), overall and by rule.
func reviewBreaches(ctx context.Context, tx pgx.Tx, p *engine.Policy, span engine.Period, asOf time.Time, cfg engine.ReviewConfig) (engine.ReviewBreaches, error) {
	out := engine.ReviewBreaches{ByCause: map[engine.BreachCause]int{}}
	args := pgx.NamedArgs{"start": span.Start, "end": span.End, "now": asOf,
		"routing": int64(cfg.RoutingDelay), "capacity": cfg.CapacityOpenLeads}
	rows, err := tx.Query(ctx, reviewCausesSQL, args)
	if err != nil {
		return out, mapError(err, "count the breaches of %s by cause", span.Label)
	}
	byRule := map[string]*engine.RuleBreaches{}
	var (
		rule, cause  string
		n            int
		concentrated bool
		reps         []string
	)
	_, err = pgx.ForEachRow(rows, []any{&rule, &cause, &n, &concentrated, &reps}, func() error {
		rb := byRule[rule]
		if rb == nil {
			rb = &engine.RuleBreaches{Rule: rule, ByCause: map[engine.BreachCause]int{}, Concentrated: concentrated, TopReps: slices.Clone(reps)}
			byRule[rule] = rb
		}
		rb.ByCause[engine.BreachCause(cause)] += n
		rb.Total += n
		out.ByCause[engine.BreachCause(cause)] += n
		out.Total += n
		return nil
	})
	if err != nil {
		return out, mapError(err, "count the breaches of %s by cause", span.Label)
	}
	ruleOrder := func(name string) int {
		if i := slices.IndexFunc(p.Rules, func(r engine.Rule) bool { return r.Name == name }); i >= 0 {
			return i
		}
		return len(p.Rules)
	}
	for _, rb := range byRule {
		out.Rules = append(out.Rules, *rb)
	}
	slices.SortFunc(out.Rules, func(a, b engine.RuleBreaches) int {
		if a.Total != b.Total {
			return b.Total - a.Total
		}
		if d := ruleOrder(a.Rule) - ruleOrder(b.Rule); d != 0 {
			return d
		}
		if a.Rule < b.Rule {
			return -1
		}
		return 1
	})
	return out, nil
}

// reviewQualitySQL sorts the leads received in [@from, @to) into the
// classes lead quality counts alike (engine.QualityClass), as
// QualityFacts and engine.ComputeQuality read them, from each lead's
// acceptance kept by migration 0022 (its rejections, their contests, the
// one that stands, the card's first feedback answer): the whole UTC days
// [@lo, @hi) summed in lead_review_days, the leads of the rest one by one
// from lead_review_facts. What comes back is a few hundred rows whatever
// the leads.
const reviewQualitySQL = `
SELECT source, rule,
	CASE WHEN rejected THEN @q_rejected
		WHEN accepted THEN @q_accepted
		WHEN state = ANY(@open_states) THEN @q_awaiting
		ELSE @q_closed END,
	category, detail, feedback,
	state = @returned AND starts_with(return_reason, @unreachable),
	sum(leads)::bigint, sum(misroutes)::bigint, sum(contest_pending)::bigint, sum(upheld)::bigint, sum(overturned)::bigint
FROM (
	SELECT source, rule, state, accepted, return_reason, rejected, category, detail, feedback,
		leads, misroutes, contest_pending, upheld, overturned
	FROM lead_review_days WHERE day >= @lo AND day < @hi
	UNION ALL
	SELECT source, rule, state, accepted, return_reason, standing_category IS NOT NULL, coalesce(standing_category, ''),
		standing_detail, feedback, 1, misroutes, contest_pending, upheld, overturned
	FROM lead_review_facts
	WHERE (received_at >= @from AND received_at < @lo) OR (received_at >= @hi AND received_at < @to)
) counted
GROUP BY 1, 2, 3, 4, 5, 6, 7
HAVING sum(leads) > 0`

// reviewDays bounds the UTC days that lie wholly in [from, to): [lo, hi),
// empty (both from) when there are none.
func reviewDays(from, to time.Time) (lo, hi time.Time) {
	lo = from.UTC().Truncate(24 * time.Hour)
	if lo.Before(from) {
		lo = lo.Add(24 * time.Hour)
	}
	hi = to.UTC().Truncate(24 * time.Hour)
	if !lo.Before(hi) {
		return from, from
	}
	return lo, hi
}

// reviewQuality counts acceptance by source over the leads received in
// [from, to) (reviewQualitySQL), as /sla quality counts it over the same
// leads.
func reviewQuality(ctx context.Context, tx pgx.Tx, from, to time.Time, target float64) (engine.Quality, error) {
	var open []string
	for _, s := range []engine.LeadState{engine.StateNew, engine.StateNotified, engine.StateAcknowledged,
		engine.StateWorking, engine.StateSnoozed, engine.StateReassigned, engine.StateReturned, engine.StateOpportunity,
		engine.StateWon, engine.StateLost, engine.StateDisqualified} {
		if s.Open() {
			open = append(open, string(s))
		}
	}
	lo, hi := reviewDays(from, to)
	args := pgx.NamedArgs{"from": from, "to": to, "lo": lo, "hi": hi,
		"q_rejected": engine.QualityRejected, "q_accepted": engine.QualityAccepted, "q_awaiting": engine.QualityAwaiting,
		"q_closed": engine.QualityClosedUndecided, "open_states": open,
		"returned": string(engine.StateReturned), "unreachable": engine.ReturnReasonUnreachable}
	rows, err := tx.Query(ctx, reviewQualitySQL, args)
	if err != nil {
		return engine.Quality{}, mapError(err, "count the review's lead quality")
	}
	var (
		classes  []engine.QualityClass
		c        engine.QualityClass
		category string
	)
	_, err = pgx.ForEachRow(rows, []any{&c.Source, &c.Rule, &c.Outcome, &category, &c.Detail, &c.Feedback, &c.Unreachable,
		&c.Leads, &c.Misroutes, &c.ContestPending, &c.Upheld, &c.Overturned}, func() error {
		c.Category = engine.RejectCategory(category)
		classes = append(classes, c)
		return nil
	})
	if err != nil {
		return engine.Quality{}, mapError(err, "count the review's lead quality")
	}
	return engine.ComputeQualityClasses(classes, true, target), nil
}
