package storage

// The statements behind DB.Attainment and DB.Funnel, over lead_facts
// (migration 0010). Each follows a part of engine.ComputeAttainment or
// engine.ComputeFunnel, named in the comments; storage's oracle tests
// compare the two on generated histories.
//
// Parameters of every figures statement: @start the period's start, @end its
// end, @now now, @cut the cut-off (the period's end, or now when earlier), @key
// the scope's key (engine.ScopeKey).

// figuresLeadsOfPeriod are the leads that can count in the span [@from,
// @to) (the period, or the report's whole span), as DB.LeadFacts loads
// them: received before its end, and still open at, or closed after, its
// start.
const figuresLeadsOfPeriod = `received_at < @to AND (closed_at IS NULL OR closed_at >= @from OR received_at >= @from)`

// The scope's leads (Scope.hasLead) and breaches (Scope.hasBreach).
const (
	figuresScopeAll        = `@key = ''`
	figuresLeadScopeRep    = `has_owner AND owner_key = @key`
	figuresLeadScopeTeam   = `has_team AND team_key = @key`
	figuresBreachScopeRep  = `b.rep <> '' AND b.rep_key = @key`
	figuresBreachScopeTeam = `b.team_key <> '' AND b.team_key = @key`
)

// figuresJudged are the leads of the period and scope (%s: the scope's
// condition), each judged as of now: the first-touch outcome
// (judgeFirstTouch), the cadence decision (decideCadence) and whether the
// lead was open at the cut-off (openAt).
const figuresJudged = `
	SELECT f.*,
		received_at >= @start AND received_at < @end AND received_at <= @now AS in_cohort,
		touched,
		CASE
			WHEN assigned_at IS NULL THEN 'pending'
			WHEN first_touch_breached THEN 'late'
			WHEN touched AND (first_touch_due IS NULL OR first_touch_at <= first_touch_due) THEN 'on_time'
			WHEN touched THEN 'late'
			WHEN first_touch_due IS NULL THEN 'pending'
			WHEN NOT is_open AND (closed_at IS NULL OR closed_at <= first_touch_due) THEN 'closed'
			WHEN @now >= first_touch_due THEN 'late'
			ELSE 'pending'
		END AS first_touch,
		-- A cadence is owed unless the lead left Sales before its window
		-- closed without meeting it (or at an unknown time: an opportunity).
		cadence_end IS NOT NULL AND (cadence_met OR is_open OR coalesce(closed_at >= cadence_end, false)) AS owes_cadence,
		cadence_met,
		CASE WHEN cadence_met THEN cadence_met_at WHEN @now >= cadence_end THEN cadence_end END AS cadence_decided_at,
		CASE WHEN NOT cadence_met AND NOT is_open THEN closed_at END AS cadence_stopped_at,
		closed_at >= @start AND closed_at < @end AND closed_at <= @now AS closed_in_period,
		received_at < @cut AND coalesce(CASE WHEN is_open THEN closed_at IS NULL OR closed_at >= @cut ELSE closed_at >= @cut END, false) AS open_at_cutoff
	FROM lead_facts f,
		LATERAL (SELECT coalesce(first_touch_at <= @now, false) AS touched,
			coalesce(cadence_met_at <= @now, false) AS cadence_met) as_of_now
	WHERE ` + figuresLeadsOfPeriod + ` AND %s`

// figuresAttainmentSQL counts Attainment's lead figures over
// figuresJudged (%s: the scope's condition). Medians and 90th
// percentiles are by nearest rank, as engine.Stats: the value at rank
// ⌈p × n / 100⌉ of the sorted values, worked out in integers; SQL's
// percentile_disc would multiply in floating point and can land a rank
// off. WonAmount is summed in lead order, as ComputeAttainment adds it.
const figuresAttainmentSQL = `
WITH sums AS (
	SELECT
		count(*) FILTER (WHERE in_cohort) AS sqls,
		count(*) FILTER (WHERE in_cohort AND NOT has_owner) AS unrouted,
		count(*) FILTER (WHERE in_cohort AND first_touch = 'on_time') AS on_time,
		count(*) FILTER (WHERE in_cohort AND first_touch = 'late') AS late,
		count(*) FILTER (WHERE in_cohort AND first_touch = 'pending') AS pending,
		count(*) FILTER (WHERE in_cohort AND first_touch = 'closed') AS closed,
		array_agg(first_touch_business ORDER BY first_touch_business) FILTER (WHERE in_cohort AND touched) AS business,
		array_agg(first_touch_wall ORDER BY first_touch_wall) FILTER (WHERE in_cohort AND touched) AS wall,
		array_agg(routing_delay ORDER BY routing_delay) FILTER (WHERE in_cohort AND routing_delay IS NOT NULL) AS routing,
		count(*) FILTER (WHERE owes_cadence AND cadence_met AND cadence_met_at >= @start AND cadence_met_at < @end) AS cadence_met,
		count(*) FILTER (WHERE owes_cadence AND NOT cadence_met AND @now >= cadence_end AND cadence_end >= @start AND cadence_end < @end) AS cadence_missed,
		count(*) FILTER (WHERE owes_cadence AND assigned_at < @cut AND @cut < cadence_end AND @cut >= @start
			AND (cadence_decided_at IS NULL OR cadence_decided_at >= @cut)
			AND (cadence_stopped_at IS NULL OR cadence_stopped_at >= @cut)) AS cadence_running,
		count(*) FILTER (WHERE state = 'opportunity' AND coalesce(closed_at, received_at) >= @start
			AND coalesce(closed_at, received_at) < @end AND coalesce(closed_at, received_at) <= @now) AS opportunities,
		count(*) FILTER (WHERE state = 'won' AND closed_in_period) AS won,
		coalesce(sum(amount ORDER BY lead_id) FILTER (WHERE state = 'won' AND closed_in_period), 0) AS won_amount,
		count(*) FILTER (WHERE state = 'lost' AND closed_in_period) AS lost,
		count(*) FILTER (WHERE state = 'disqualified' AND closed_in_period) AS disqualified,
		count(*) FILTER (WHERE open_at_cutoff) AS open_leads
	FROM (` + figuresJudged + `) judged
)
SELECT sqls, unrouted, on_time, late, pending, closed,
	coalesce(cardinality(business), 0), business[greatest((50 * cardinality(business) + 99) / 100, 1)],
	business[greatest((90 * cardinality(business) + 99) / 100, 1)],
	coalesce(cardinality(wall), 0), wall[greatest((50 * cardinality(wall) + 99) / 100, 1)],
	wall[greatest((90 * cardinality(wall) + 99) / 100, 1)],
	coalesce(cardinality(routing), 0), routing[greatest((50 * cardinality(routing) + 99) / 100, 1)],
	routing[greatest((90 * cardinality(routing) + 99) / 100, 1)],
	cadence_met, cadence_missed, cadence_running, opportunities, won, won_amount, lost, disqualified, open_leads
FROM sums`

// figuresReturnsSQL counts the period's returns to Marketing by reason
// (%s: the scope's lead condition).
const figuresReturnsSQL = `
SELECT return_reason, count(*) FROM lead_facts
WHERE ` + figuresLeadsOfPeriod + ` AND %s
	AND return_reason IS NOT NULL AND closed_at >= @start AND closed_at < @end AND closed_at <= @now
GROUP BY return_reason`

// figuresBreachesSQL counts the period's breaches by rule, kind and rep
// (%s: the scope's breach condition), on the leads of the period only,
// as ComputeAttainment sees them.
const figuresBreachesSQL = `
SELECT b.rule, b.kind, b.rep, count(*) FROM lead_breach_facts b
WHERE b.at >= @start AND b.at < @end AND b.at <= @now AND %s AND ` + figuresBreachLeadsOfPeriod + `
GROUP BY b.rule, b.kind, b.rep`

// figuresBreachLeadsOfPeriod is figuresLeadsOfPeriod on a breach's copy
// of its lead's times.
const figuresBreachLeadsOfPeriod = `b.lead_received_at < @to
	AND (b.lead_closed_at IS NULL OR b.lead_closed_at >= @from OR b.lead_received_at >= @from)`

// figuresFunnelSQL counts the funnel's leads (ComputeFunnel): SQLs
// received, deals won, and leads open or at the opportunity stage at
// the cut-off; and the MQLs of the period. %s is unused: the funnel is
// everyone's.
const figuresFunnelSQL = `
SELECT
	(SELECT count(*) FROM mqls WHERE at >= @start AND at < @end AND at <= @now),
	count(*) FILTER (WHERE received_at >= @start AND received_at < @end AND received_at <= @now),
	count(*) FILTER (WHERE state = 'won' AND closed_at >= @start AND closed_at < @end AND closed_at <= @now),
	count(*) FILTER (WHERE received_at < @cut AND (
		(is_open AND (closed_at IS NULL OR closed_at >= @cut))
		OR (NOT is_open AND closed_at >= @cut)
		OR state = 'opportunity'))
FROM lead_facts
WHERE ` + figuresLeadsOfPeriod + ` AND %s`

// figuresStaleSQL lists up to $1 stale leads, with the seq each was
// marked at.
const figuresStaleSQL = `SELECT lead_id, seq FROM lead_facts_stale ORDER BY lead_id LIMIT $1`

// figuresUpsertSQL writes a batch of figures, unless figures read later
// (a higher stale_seq) are there already; it returns the leads written.
const figuresUpsertSQL = `
INSERT INTO lead_facts (lead_id, stale_seq, owner_key, team_key, has_owner, has_team, state, is_open,
	received_at, assigned_at, closed_at, amount, first_touch_due, first_touch_breached, first_touch_at,
	first_touch_business, first_touch_wall, routing_delay, cadence_end, cadence_met_at, return_reason,
	source_key, segment_key, rule_key, score, opportunity_at)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::boolean[], $6::boolean[],
	$7::text[], $8::boolean[], $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::float8[],
	$13::timestamptz[], $14::boolean[], $15::timestamptz[], $16::bigint[], $17::bigint[], $18::bigint[],
	$19::timestamptz[], $20::timestamptz[], $21::text[], $22::text[], $23::text[], $24::text[], $25::int[],
	$26::timestamptz[])
ON CONFLICT (lead_id) DO UPDATE SET
	stale_seq = EXCLUDED.stale_seq, owner_key = EXCLUDED.owner_key, team_key = EXCLUDED.team_key,
	has_owner = EXCLUDED.has_owner, has_team = EXCLUDED.has_team, state = EXCLUDED.state,
	is_open = EXCLUDED.is_open, received_at = EXCLUDED.received_at, assigned_at = EXCLUDED.assigned_at,
	closed_at = EXCLUDED.closed_at, amount = EXCLUDED.amount, first_touch_due = EXCLUDED.first_touch_due,
	first_touch_breached = EXCLUDED.first_touch_breached, first_touch_at = EXCLUDED.first_touch_at,
	first_touch_business = EXCLUDED.first_touch_business, first_touch_wall = EXCLUDED.first_touch_wall,
	routing_delay = EXCLUDED.routing_delay, cadence_end = EXCLUDED.cadence_end,
	cadence_met_at = EXCLUDED.cadence_met_at, return_reason = EXCLUDED.return_reason,
	source_key = EXCLUDED.source_key, segment_key = EXCLUDED.segment_key, rule_key = EXCLUDED.rule_key,
	score = EXCLUDED.score, opportunity_at = EXCLUDED.opportunity_at
WHERE lead_facts.stale_seq < EXCLUDED.stale_seq
RETURNING lead_id`

const figuresInsertBreachesSQL = `
INSERT INTO lead_breach_facts (lead_id, lead_received_at, lead_closed_at, at, kind, rule, rep, rep_key, team_key)
SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[],
	$7::text[], $8::text[], $9::text[])`

// figuresUnmarkSQL removes the stale marks a refresh read, unless the lead
// changed again since ($1 leads, $2 their seqs).
const figuresUnmarkSQL = `
DELETE FROM lead_facts_stale s USING unnest($1::bigint[], $2::bigint[]) AS done(lead_id, seq)
WHERE s.lead_id = done.lead_id AND s.seq = done.seq`

// figuresMarkAllSQL marks every lead stale: the policy changed.
const figuresMarkAllSQL = `
INSERT INTO lead_facts_stale (lead_id, seq) SELECT id, nextval('lead_facts_stale_seq') FROM leads
ON CONFLICT (lead_id) DO UPDATE SET seq = nextval('lead_facts_stale_seq')`

// figuresRepLinesSQL counts each rep's week for the report's lines
// (engine's repLines): SQLs, first touches decided and on time, over the
// leads they own, and whether they own a lead received in the week at all
// (which gives them a line even when nobody lists them). %s, the scope's
// filter, is unused: the lines are the whole floor's.
const figuresRepLinesSQL = `
SELECT owner_key,
	bool_or(received_at >= @start AND received_at < @end) AS owns_week_lead,
	count(*) FILTER (WHERE in_cohort) AS sqls,
	count(*) FILTER (WHERE in_cohort AND first_touch IN ('on_time', 'late')) AS decided,
	count(*) FILTER (WHERE in_cohort AND first_touch = 'on_time') AS on_time
FROM (` + figuresJudged + `) judged
WHERE has_owner
GROUP BY owner_key`

// figuresRepBreachesSQL counts the week's breaches by the rep they count
// for.
const figuresRepBreachesSQL = `
SELECT b.rep_key, count(*) FROM lead_breach_facts b
WHERE b.at >= @start AND b.at < @end AND b.at <= @now AND b.rep <> '' AND ` + figuresBreachLeadsOfPeriod + `
GROUP BY b.rep_key`

// figuresSQLsByDaySQL counts the SQLs of the period up to now by day:
// @days are the starts of its days in the policy's zone, worked out in
// Go, so the n-th bucket is the n-th day of the month.
const figuresSQLsByDaySQL = `
SELECT width_bucket(received_at, @days::timestamptz[]), count(*) FROM lead_facts
WHERE ` + figuresLeadsOfPeriod + `
	AND received_at >= @start AND received_at < @end AND received_at <= @now
GROUP BY 1`
