package storage

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
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

// scorecardCellsSQL counts the period's leads judged as of @now
// (figuresJudged, the third %s) in cells: one per group (the first %s:
// scorecardGroup of the grouping asked for), score band (the second),
// rule and return reason. Every count of a scorecard row adds up over
// cells, so the rows by group, by score band, by rule and of every lead
// are sums of cells, made in Go; the figures that do not add up come
// whole with each cell, unordered: the times to first touch of the
// leads touched by @now, and the won leads' ids and amounts. Percentiles
// are then the engine's own (engine.StatsOf, nearest rank in integers)
// and won amounts are added in lead order, as ComputeScorecard adds them.
// Without ordered aggregates PostgreSQL can hash the few hundred cells
// in one pass instead of sorting the period's leads once per grouping.
const scorecardCellsSQL = `
SELECT g, band_g, rule_key, return_reason,
	count(*),
	count(*) FILTER (WHERE first_touch = 'on_time'),
	count(*) FILTER (WHERE first_touch = 'late'),
	count(*) FILTER (WHERE first_touch = 'pending'),
	count(*) FILTER (WHERE first_touch = 'closed'),
	count(*) FILTER (WHERE owes_cadence AND cadence_met),
	count(*) FILTER (WHERE owes_cadence AND NOT cadence_met AND @now >= cadence_end),
	count(*) FILTER (WHERE return_reason IS NOT NULL AND closed_at <= @now),
	count(*) FILTER (WHERE coalesce(opportunity_at <= @now, false) OR (state = 'won' AND coalesce(closed_at <= @now, false))
		OR (state = 'opportunity' AND opportunity_at IS NULL)),
	count(*) FILTER (WHERE won),
	count(*) FILTER (WHERE state = 'lost' AND closed_at <= @now),
	count(*) FILTER (WHERE received_at > @young),
	max(received_at),
	array_agg(first_touch_business) FILTER (WHERE touched),
	array_agg(lead_id) FILTER (WHERE won),
	array_agg(amount) FILTER (WHERE won)
FROM (
	SELECT %s AS g, %s AS band_g, coalesce(state = 'won' AND closed_at <= @now, false) AS won, judged.*
	FROM (%s) judged
) cells
GROUP BY 1, 2, 3, 4`

// scorecardCell is one row of scorecardCellsSQL.
type scorecardCell struct {
	group, band, rule string
	reason            *string
	counts            engine.ScorecardRow
	young             int
	newest            *time.Time
	business          []int64
	won               []wonLead
}

// scorecardTally sums cells into one scorecard row.
type scorecardTally struct {
	row       engine.ScorecardRow
	durations []time.Duration
	won       []wonLead
}

// wonLead is a won lead's id and amount, to add amounts in lead order.
type wonLead struct {
	id     int64
	amount float64
}

func (t *scorecardTally) add(c *scorecardCell) {
	r, n := &t.row, c.counts
	r.SQLs += n.SQLs
	r.OnTime, r.Late, r.Pending, r.Closed = r.OnTime+n.OnTime, r.Late+n.Late, r.Pending+n.Pending, r.Closed+n.Closed
	r.CadenceMet, r.CadenceMissed = r.CadenceMet+n.CadenceMet, r.CadenceMissed+n.CadenceMissed
	r.Opportunities, r.Won, r.Lost = r.Opportunities+n.Opportunities, r.Won+n.Won, r.Lost+n.Lost
	if n.Returned > 0 && c.reason != nil {
		if r.ReturnsByReason == nil {
			r.ReturnsByReason = map[string]int{}
		}
		r.Returned += n.Returned
		r.ReturnsByReason[*c.reason] += n.Returned
	}
	for _, v := range c.business {
		t.durations = append(t.durations, time.Duration(v))
	}
	t.won = append(t.won, c.won...)
}

// finish is the tallied row of group: its time to first touch by the
// engine's nearest rank and its won amount added in lead order.
func (t *scorecardTally) finish(group string) engine.ScorecardRow {
	r := t.row
	r.Group = group
	if r.ReturnsByReason == nil {
		r.ReturnsByReason = map[string]int{}
	}
	r.TimeToFirstTouch = engine.StatsOf(t.durations)
	slices.SortFunc(t.won, func(a, b wonLead) int { return cmp.Compare(a.id, b.id) })
	for _, w := range t.won {
		r.WonAmount += w.amount
	}
	return r
}

// scorecardTallies are a scorecard's rows being summed, by group.
type scorecardTallies map[string]*scorecardTally

func (ts scorecardTallies) add(group string, c *scorecardCell) {
	t := ts[group]
	if t == nil {
		t = &scorecardTally{}
		ts[group] = t
	}
	t.add(c)
}

// rows are the tallied rows, unordered (engine.FinishScorecard orders
// them); nil without any, as ComputeScorecard leaves them.
func (ts scorecardTallies) rows() []engine.ScorecardRow {
	var rows []engine.ScorecardRow
	for g, t := range ts {
		rows = append(rows, t.finish(g))
	}
	return rows
}

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
	sc = engine.Scorecard{By: by, Period: period, AsOf: asOf}
	byScore = engine.Scorecard{By: engine.ByScore, Period: period, AsOf: asOf}
	byRule = engine.Scorecard{By: engine.ByRule, Period: period, AsOf: asOf}

	// The cells and the MQLs are counted in one snapshot.
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return sc, byScore, byRule, mapError(err, "count the scorecard by %s over %s", by, period.Label)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	cells, err := scorecardCells(ctx, tx, fmt.Sprintf(scorecardCellsSQL, scorecardGroup(by, bounds), scorecardGroup(engine.ByScore, bounds),
		fmt.Sprintf(figuresJudged, scorecardCohort)), args)
	if err != nil {
		return sc, byScore, byRule, mapError(err, "count the scorecard by %s over %s", by, period.Label)
	}

	// Which groups get a row of their own; the others are one row.
	sqls := map[string]int{}
	for i := range cells {
		sqls[cells[i].group] += cells[i].counts.SQLs
	}
	keep := engine.ScorecardKeep(sqls, limit)
	groups, bands, ruleRows, all := scorecardTallies{}, scorecardTallies{}, scorecardTallies{}, &scorecardTally{}
	var young int
	for i := range cells {
		c := &cells[i]
		g := c.group
		if !keep[g] {
			g = engine.OthersGroup
		}
		groups.add(g, c)
		if withBands {
			bands.add(c.band, c)
			ruleRows.add(c.rule, c)
		}
		all.add(c)
		young += c.young
		if c.newest != nil && c.newest.After(sc.Newest) {
			sc.Newest = *c.newest
		}
	}
	cells = nil
	sc.Rows, byScore.Rows, byRule.Rows = groups.rows(), bands.rows(), ruleRows.rows()
	allRow := all.finish("")
	for _, card := range []*engine.Scorecard{&sc, &byScore, &byRule} {
		card.All, card.Young, card.Newest = allRow, young, sc.Newest
		card.All.ReturnsByReason = maps.Clone(allRow.ReturnsByReason)
	}
	if by == engine.BySource || by == engine.BySegment {
		// The MQLs are counted in PostgreSQL by their source or segment
		// as stored (a few distinct values), mostly from their hourly
		// counts (a quarter holds millions at a big floor), then keyed as
		// the engine keys them.
		column := "source"
		if by == engine.BySegment {
			column = "segment"
		}
		rows, err := tx.Query(ctx, fmt.Sprintf(scorecardMQLsSQL, column), mqlHoursArgs(period, asOf))
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

// scorecardCells reads scorecardCellsSQL (cellsSQL) in tx. The planner
// cannot size array_agg's state and takes each cell for megabytes (the
// more so with score bands, which it counts as a hundred scores), so it
// would sort the period's leads rather than hash them; sorting is turned
// off for this statement alone, whose only sort that would be.
func scorecardCells(ctx context.Context, tx pgx.Tx, cellsSQL string, args pgx.NamedArgs) ([]scorecardCell, error) {
	if _, err := tx.Exec(ctx, `SET LOCAL enable_sort = off`); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, cellsSQL, args)
	if err != nil {
		return nil, err
	}
	var (
		cells      []scorecardCell
		c          scorecardCell
		wonIDs     []int64
		wonAmounts []float64
	)
	_, err = pgx.ForEachRow(rows, []any{&c.group, &c.band, &c.rule, &c.reason, &c.counts.SQLs, &c.counts.OnTime,
		&c.counts.Late, &c.counts.Pending, &c.counts.Closed, &c.counts.CadenceMet, &c.counts.CadenceMissed, &c.counts.Returned,
		&c.counts.Opportunities, &c.counts.Won, &c.counts.Lost, &c.young, &c.newest, &c.business, &wonIDs, &wonAmounts}, func() error {
		if len(wonIDs) != len(wonAmounts) {
			return fmt.Errorf("%d won leads with %d amounts", len(wonIDs), len(wonAmounts))
		}
		for i, id := range wonIDs {
			c.won = append(c.won, wonLead{id: id, amount: wonAmounts[i]})
		}
		cells = append(cells, c)
		c, wonIDs, wonAmounts = scorecardCell{}, nil, nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	_, err = tx.Exec(ctx, `SET LOCAL enable_sort = on`)
	return cells, err
}

// scorecardMQLsSQL counts the MQLs of [@start, @end) up to @now by %s
// (source or segment, as stored): the whole hours [@lo, @hi) from
// mql_hours (migration 0021), the rest from mqls.
const scorecardMQLsSQL = `
SELECT %[1]s, sum(n)::bigint FROM (
	SELECT %[1]s, mqls AS n FROM mql_hours WHERE hour >= @lo AND hour < @hi
	UNION ALL
	SELECT %[1]s, 1 FROM mqls WHERE at >= @start AND at < @lo
	UNION ALL
	SELECT %[1]s, 1 FROM mqls WHERE at >= @hi AND at < @end AND at <= @now
) counted
GROUP BY 1`

// mqlHoursArgs are scorecardMQLsSQL's parameters: @lo and @hi bound the
// UTC hours that lie wholly in the period and not after asOf (none when
// the span is shorter than an hour).
func mqlHoursArgs(period engine.Period, asOf time.Time) pgx.NamedArgs {
	lo := period.Start.UTC().Truncate(time.Hour)
	if lo.Before(period.Start) {
		lo = lo.Add(time.Hour)
	}
	upTo := period.End
	if asOf.Before(upTo) {
		upTo = asOf
	}
	hi := upTo.UTC().Truncate(time.Hour)
	if !lo.Before(hi) {
		lo, hi = period.Start, period.Start
	}
	return pgx.NamedArgs{"start": period.Start, "end": period.End, "now": asOf, "lo": lo, "hi": hi}
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
