package storage

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// The scorecard and speed to lead as SQL aggregates over lead_facts
// (migrations 0010 and 0017), with the same numbers as
// engine.ComputeScorecard and engine.ComputeSpeed over DB.LeadFacts;
// storage's oracle tests compare them cell by cell.

// withOpportunities sets each lead's OpportunityAt: the CRM's time ("at")
// of its first opportunity event, else the event's own.
func (q *queries) withOpportunities(ctx context.Context, facts []engine.LeadFacts, index map[int64]int, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := q.db.Query(ctx, `SELECT lead_id, min(coalesce((data->>'at')::timestamptz, at)) FROM lead_events
		WHERE lead_id = ANY($1) AND kind = 'opportunity' GROUP BY lead_id`, ids)
	if err != nil {
		return mapError(err, "load when leads became opportunities")
	}
	var id int64
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &at}, func() error {
		facts[index[id]].OpportunityAt = at
		return nil
	})
	return mapError(err, "load when leads became opportunities")
}

// scorecardKeyColumns are the scorecard's keys of a batch of figures, as
// the columns figuresUpsertSQL writes (migration 0017).
type scorecardKeyColumns struct {
	sources, segments, rules []string
	scores                   []int32
	opportunities            []*time.Time
}

func newScorecardKeyColumns(n int) scorecardKeyColumns {
	return scorecardKeyColumns{sources: make([]string, n), segments: make([]string, n), rules: make([]string, n),
		scores: make([]int32, n), opportunities: make([]*time.Time, n)}
}

func (c scorecardKeyColumns) set(i int, k engine.ScorecardKeys) {
	c.sources[i], c.segments[i], c.rules[i] = k.Source, k.Segment, k.Rule
	c.scores[i], c.opportunities[i] = int32(k.Score), timeOrNull(k.OpportunityAt)
}

// scorecardCohort are the period's own leads as of @now.
const scorecardCohort = `received_at >= @start AND received_at < @end AND received_at <= @now`

// scorecardGroup is the SQL of a lead's group (engine.ScorecardKeys.GroupOf).
func scorecardGroup(by engine.GroupBy, bounds []int) string {
	switch by {
	case engine.BySegment:
		return "segment_key"
	case engine.ByRule:
		return "rule_key"
	case engine.ByScore:
		if len(bounds) == 0 {
			return "(@labels::text[])[1]"
		}
		return "(@labels::text[])[width_bucket(score, @bands::int[]) + 1]"
	}
	return "source_key"
}

// scorecardArgs are the parameters of the scorecard's statements.
func scorecardArgs(p *engine.Policy, period engine.Period, asOf time.Time) pgx.NamedArgs {
	args := figuresArgs(engine.Scope{}, period, asOf)
	bounds := engine.ScoreBands(p)
	args["bands"], args["labels"] = bounds, engine.ScoreBandLabels(bounds)
	args["young"] = asOf.Add(-engine.YoungLeadAge)
	return args
}

// scorecardJudged are the period's leads judged as of @now (figuresJudged)
// with their group (%s) as grp: the kept groups' names (@keep), others
// OthersGroup.
const scorecardJudged = `
	SELECT CASE WHEN g = ANY(@keep::text[]) THEN g ELSE '` + engine.OthersGroup + `' END AS grp,
		%s AS band_g, judged.rule_key AS rule_g, judged.*
	FROM (%s) judged, LATERAL (SELECT %s AS g) k`

// scorecardRowsSQL counts each group's row (kind 'grp'), the (all) row
// ('all') and, with the grouping sets (band_g) and (rule_g), every score
// band's ('band') and rule's ('rule') in the same scan (%s in order: the
// group and kind columns, scorecardJudged, the grouping sets).
const scorecardRowsSQL = `
WITH sums AS (
	SELECT %s,
		count(*) AS sqls,
		count(*) FILTER (WHERE first_touch = 'on_time') AS on_time,
		count(*) FILTER (WHERE first_touch = 'late') AS late,
		count(*) FILTER (WHERE first_touch = 'pending') AS pending,
		count(*) FILTER (WHERE first_touch = 'closed') AS closed,
		array_agg(first_touch_business ORDER BY first_touch_business) FILTER (WHERE touched) AS business,
		count(*) FILTER (WHERE owes_cadence AND cadence_met) AS cadence_met,
		count(*) FILTER (WHERE owes_cadence AND NOT cadence_met AND @now >= cadence_end) AS cadence_missed,
		array_agg(return_reason) FILTER (WHERE return_reason IS NOT NULL AND closed_at <= @now) AS returns,
		count(*) FILTER (WHERE coalesce(opportunity_at <= @now, false) OR (state = 'won' AND coalesce(closed_at <= @now, false))
			OR (state = 'opportunity' AND opportunity_at IS NULL)) AS opportunities,
		count(*) FILTER (WHERE state = 'won' AND closed_at <= @now) AS won,
		count(*) FILTER (WHERE state = 'lost' AND closed_at <= @now) AS lost,
		coalesce(sum(amount ORDER BY lead_id) FILTER (WHERE state = 'won' AND closed_at <= @now), 0) AS won_amount,
		count(*) FILTER (WHERE received_at > @young) AS young,
		max(received_at) AS newest
	FROM (%s) grouped
	GROUP BY GROUPING SETS (%s)
)
SELECT grp, kind, sqls, on_time, late, pending, closed,
	coalesce(cardinality(business), 0), business[greatest((50 * cardinality(business) + 99) / 100, 1)],
	business[greatest((90 * cardinality(business) + 99) / 100, 1)],
	cadence_met, cadence_missed, returns, opportunities, won, lost, won_amount, young, newest
FROM sums`

// Scorecard groups the period's own leads by by as of asOf, with at most
// limit rows (≤ 0: every group), under policy p: the same figures as
// engine.ComputeScorecard over LeadFacts and MQLs, counted in PostgreSQL.
func (db *DB) Scorecard(ctx context.Context, p *engine.Policy, by engine.GroupBy, period engine.Period, asOf time.Time, limit int) (engine.Scorecard, error) {
	fresh, err := db.freshFigures(ctx, p)
	if err != nil {
		return engine.Scorecard{}, err
	}
	if !fresh {
		mqls, err := db.MQLs(ctx, period.Start, period.End)
		if err != nil {
			return engine.Scorecard{}, err
		}
		facts, err := db.LeadFacts(ctx, period.Start, period.End)
		if err != nil {
			return engine.Scorecard{}, err
		}
		return engine.ComputeScorecard(p, facts, mqls, by, period, asOf, limit), nil
	}
	return db.scorecardFromFigures(ctx, p, by, period, asOf, limit)
}

// scorecardFromFigures counts the scorecard over lead_facts as they are;
// mqls are the period's.
func (db *DB) scorecardFromFigures(ctx context.Context, p *engine.Policy, by engine.GroupBy, period engine.Period, asOf time.Time,
	limit int) (engine.Scorecard, error) {
	sc, _, _, err := db.scorecardsFromFigures(ctx, p, by, period, asOf, limit, false)
	return sc, err
}

// ScorecardWithFindings is Scorecard and, counted in the same scan, the
// "slower on better leads" findings over the same leads (engine's
// SlowerOnBetterLeads over the scorecards by score and by rule).
func (db *DB) ScorecardWithFindings(ctx context.Context, p *engine.Policy, by engine.GroupBy, period engine.Period, asOf time.Time,
	limit int) (engine.Scorecard, []engine.SlowerFinding, error) {
	fresh, err := db.freshFigures(ctx, p)
	if err != nil {
		return engine.Scorecard{}, nil, err
	}
	if !fresh {
		mqls, err := db.MQLs(ctx, period.Start, period.End)
		if err != nil {
			return engine.Scorecard{}, nil, err
		}
		facts, err := db.LeadFacts(ctx, period.Start, period.End)
		if err != nil {
			return engine.Scorecard{}, nil, err
		}
		return engine.ComputeScorecard(p, facts, mqls, by, period, asOf, limit), engine.SlowerOnBetterLeads(p,
			engine.ComputeScorecard(p, facts, mqls, engine.ByScore, period, asOf, 0),
			engine.ComputeScorecard(p, facts, mqls, engine.ByRule, period, asOf, 0)), nil
	}
	sc, byScore, byRule, err := db.scorecardsFromFigures(ctx, p, by, period, asOf, limit, true)
	if err != nil {
		return engine.Scorecard{}, nil, err
	}
	return sc, engine.SlowerOnBetterLeads(p, byScore, byRule), nil
}

// scorecardsFromFigures counts the scorecard by by and, when withBands,
// the scorecards by score band and by rule (every group) in one scan.
func (db *DB) scorecardsFromFigures(ctx context.Context, p *engine.Policy, by engine.GroupBy, period engine.Period, asOf time.Time, limit int,
	withBands bool) (sc, byScore, byRule engine.Scorecard, err error) {
	args := scorecardArgs(p, period, asOf)
	bounds := engine.ScoreBands(p)
	group := scorecardGroup(by, bounds)

	// Which groups get a row of their own.
	rows, err := db.pool.Query(ctx, `SELECT `+group+`, count(*) FROM lead_facts WHERE `+scorecardCohort+` GROUP BY 1`, args)
	if err != nil {
		return sc, byScore, byRule, mapError(err, "count the scorecard's groups")
	}
	sqls := map[string]int{}
	var g string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&g, &n}, func() error { sqls[g] = n; return nil }); err != nil {
		return sc, byScore, byRule, mapError(err, "count the scorecard's groups")
	}
	keep := engine.ScorecardKeep(sqls, limit)
	kept := make([]string, 0, len(keep))
	for g := range keep {
		kept = append(kept, g)
	}
	args["keep"] = kept

	sets, columns := "(grp), ()", `coalesce(grp, '') AS grp, CASE WHEN GROUPING(grp) = 0 THEN 'grp' ELSE 'all' END AS kind`
	if withBands {
		sets = "(grp), (band_g), (rule_g), ()"
		columns = `coalesce(grp, band_g, rule_g, '') AS grp, CASE WHEN GROUPING(grp) = 0 THEN 'grp' WHEN GROUPING(band_g) = 0 THEN 'band'
			WHEN GROUPING(rule_g) = 0 THEN 'rule' ELSE 'all' END AS kind`
	}
	judged := fmt.Sprintf(scorecardJudged, scorecardGroup(engine.ByScore, bounds), fmt.Sprintf(figuresJudged, scorecardCohort), group)
	sc = engine.Scorecard{By: by, Period: period, AsOf: asOf}
	byScore = engine.Scorecard{By: engine.ByScore, Period: period, AsOf: asOf}
	byRule = engine.Scorecard{By: engine.ByRule, Period: period, AsOf: asOf}
	rows, err = db.pool.Query(ctx, fmt.Sprintf(scorecardRowsSQL, columns, judged, sets), args)
	if err != nil {
		return sc, byScore, byRule, mapError(err, "count the scorecard by %s over %s", by, period.Label)
	}
	var (
		r           engine.ScorecardRow
		kind        string
		median, p90 *int64
		returns     []string
		young       int
		newest      *time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&r.Group, &kind, &r.SQLs, &r.OnTime, &r.Late, &r.Pending, &r.Closed,
		&r.TimeToFirstTouch.Count, &median, &p90, &r.CadenceMet, &r.CadenceMissed, &returns,
		&r.Opportunities, &r.Won, &r.Lost, &r.WonAmount, &young, &newest}, func() error {
		row := r
		row.TimeToFirstTouch.Median, row.TimeToFirstTouch.P90 = nanos(median), nanos(p90)
		row.Returned, row.ReturnsByReason = len(returns), map[string]int{}
		for _, reason := range returns {
			row.ReturnsByReason[reason]++
		}
		switch kind {
		case "grp":
			sc.Rows = append(sc.Rows, row)
		case "band":
			byScore.Rows = append(byScore.Rows, row)
		case "rule":
			byRule.Rows = append(byRule.Rows, row)
		default:
			for _, card := range []*engine.Scorecard{&sc, &byScore, &byRule} {
				card.All, card.Young = row, young
				card.All.ReturnsByReason = maps.Clone(row.ReturnsByReason)
				if newest != nil {
					card.Newest = *newest
				}
			}
		}
		return nil
	})
	if err != nil {
		return sc, byScore, byRule, mapError(err, "count the scorecard by %s over %s", by, period.Label)
	}
	if by == engine.BySource || by == engine.BySegment {
		// The MQLs are counted in PostgreSQL by their source or segment
		// as stored (a few distinct values), then keyed as the engine
		// keys them: a quarter holds millions of MQLs at a big floor.
		column := "source"
		if by == engine.BySegment {
			column = "segment"
		}
		rows, err := db.pool.Query(ctx, `SELECT `+column+`, count(*) FROM mqls WHERE at >= $1 AND at < $2 AND at <= $3 GROUP BY 1`,
			period.Start, period.End, asOf)
		if err != nil {
			return sc, byScore, byRule, mapError(err, "count the MQLs of %s", period.Label)
		}
		mqlsOf := map[string]int{}
		var value string
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&value, &n}, func() error {
			k := engine.ScorecardKey(value)
			if !keep[k] {
				k = engine.OthersGroup
			}
			mqlsOf[k] += n
			sc.All.MQLs += n
			return nil
		}); err != nil {
			return sc, byScore, byRule, mapError(err, "count the MQLs of %s", period.Label)
		}
		sc.All.HasMQLs = true
		for i := range sc.Rows {
			sc.Rows[i].MQLs, sc.Rows[i].HasMQLs = mqlsOf[sc.Rows[i].Group], true
		}
	}
	for _, card := range []*engine.Scorecard{&sc, &byScore, &byRule} {
		engine.FinishScorecard(p, card)
	}
	return sc, byScore, byRule, nil
}

// speedSQL counts the period's leads by rule (all in one, ”, when
// @pooled) and speed band (engine's speedBandOfLead; -1: not yet).
const speedSQL = `
SELECT CASE WHEN @pooled THEN '' ELSE rule_key END, band, count(*),
	count(*) FILTER (WHERE coalesce(opportunity_at <= @now, false) OR (state = 'won' AND coalesce(closed_at <= @now, false))
		OR (state = 'opportunity' AND opportunity_at IS NULL)),
	count(*) FILTER (WHERE state = 'won' AND closed_at <= @now)
FROM (
	SELECT judged.*, CASE
		WHEN touched THEN CASE
			WHEN first_touch_business <= @b0 THEN 0 WHEN first_touch_business <= @b1 THEN 1
			WHEN first_touch_business <= @b2 THEN 2 WHEN first_touch_business <= @b3 THEN 3 ELSE 4 END
		WHEN first_touch IN ('late', 'closed') THEN 5
		ELSE -1 END AS band
	FROM (%s) judged
	WHERE @rule = '' OR rule_key = @rule
) banded
GROUP BY 1, 2`

// Speed sorts the period's own leads into speed bands as of asOf, per rule
// unless pooled (rule: that rule's leads only), under policy p: the same
// figures as engine.ComputeSpeed over LeadFacts, counted in PostgreSQL.
func (db *DB) Speed(ctx context.Context, p *engine.Policy, period engine.Period, asOf time.Time, rule string, pooled bool) (engine.Speed, error) {
	fresh, err := db.freshFigures(ctx, p)
	if err != nil {
		return engine.Speed{}, err
	}
	if !fresh {
		facts, err := db.LeadFacts(ctx, period.Start, period.End)
		if err != nil {
			return engine.Speed{}, err
		}
		return engine.ComputeSpeed(p, facts, period, asOf, rule, pooled), nil
	}
	args := figuresArgs(engine.Scope{}, period, asOf)
	args["pooled"], args["rule"] = pooled, rule
	for i, b := range engine.SpeedBands {
		args[fmt.Sprintf("b%d", i)] = int64(b)
	}
	rows, err := db.pool.Query(ctx, fmt.Sprintf(speedSQL, fmt.Sprintf(figuresJudged, scorecardCohort)), args)
	if err != nil {
		return engine.Speed{}, mapError(err, "count speed to lead over %s", period.Label)
	}
	var (
		counts []engine.SpeedCount
		notYet int
		c      engine.SpeedCount
	)
	if _, err := pgx.ForEachRow(rows, []any{&c.Rule, &c.Band, &c.Leads, &c.Opportunities, &c.Won}, func() error {
		if c.Band < 0 {
			notYet += c.Leads
		} else {
			counts = append(counts, c)
		}
		return nil
	}); err != nil {
		return engine.Speed{}, mapError(err, "count speed to lead over %s", period.Label)
	}
	return engine.SpeedFromCounts(p, period, asOf, rule, pooled, counts, notYet), nil
}

// reportScorecards counts the weekly report's scorecards (engine's
// ComputeReportScorecards) over lead_facts.
func (db *DB) reportScorecards(ctx context.Context, p *engine.Policy, spans engine.ReportSpans, now time.Time) (engine.ReportScorecards, error) {
	var out engine.ReportScorecards
	card := func(by engine.GroupBy, period engine.Period, limit int) (engine.Scorecard, error) {
		return db.scorecardFromFigures(ctx, p, by, period, now, limit)
	}
	var err error
	if out.Week, err = card(engine.BySource, spans.Week, engine.ReportSourceRows); err != nil {
		return out, err
	}
	// The month's scorecards by score band and by rule, in one scan.
	_, byScore, byRule, err := db.scorecardsFromFigures(ctx, p, engine.ByScore, spans.Month, now, 0, true)
	if err != nil {
		return out, err
	}
	out.Slower = engine.SlowerOnBetterLeads(p, byScore, byRule)
	if spans.HasPreviousMonth {
		prev, err := card(engine.BySource, spans.PreviousMonth, engine.ReportSourceRows)
		if err != nil {
			return out, err
		}
		out.PreviousMonth = &prev
	}
	return out, nil
}
