package engine

import (
	"time"
)

// Marketing's side: MQLs, SQLs and won deals against the monthly targets,
// pro-rated to the period's days.

// Funnel is Marketing's side over a period, against the monthly targets.
//
// Targets are monthly and pro-rated by calendar days: each day of the
// period adds 1/n of its month's target (n = the days in that month), so a
// week of 26 October to 1 November is 6/31 of October's target plus 1/30 of
// November's, and a quarter is three full months. The period's targets
// (MQLTarget, SQLTarget, WonTarget) are rounded up, as the plan's are; the
// paces use the unrounded target of the days elapsed.
type Funnel struct {
	Period Period
	// MQLs counts MQLs with At in the period; SQLs leads with ReceivedAt
	// in the period; Won leads won with ClosedAt in the period. Targets are
	// 0 when the agreement sets none.
	MQLs, MQLTarget int
	SQLs, SQLTarget int
	Won, WonTarget  int
	// MQLToSQL is SQLs ÷ MQLs and SQLToWon is Won ÷ SQLs, both of the
	// period (0 when the divisor is 0). Won deals mostly come from earlier
	// SQLs (the sales cycle), so SQLToWon over a short period is a rough
	// current rate, not the conversion of the period's own leads.
	MQLToSQL, MQLToSQLTarget, SQLToWon, SQLToWonTarget float64
	// DaysInPeriod counts the period's calendar days; DaysElapsed those
	// that have begun by now (today counts, as in the waterfall).
	DaysElapsed, DaysInPeriod int
	// MQLPace and SQLPace are actual ÷ the target pro-rated to the days
	// elapsed: 1 is on track, 0.8 is 20% behind. 0 when there is no target
	// or no day has elapsed.
	MQLPace, SQLPace float64
	// OpenSQLs counts leads open or at the opportunity stage at the end of
	// the period (or now), whenever received. ExpectedPipeline is OpenSQLs
	// × win rate × deal size: what they should bring in at the agreed
	// rates, win_rate (else sql_to_won) and deal_size; 0 without both.
	OpenSQLs         int
	ExpectedPipeline float64
}

// MonthlyTargets are the agreement's monthly MQL, SQL and won-deal targets
// as the funnel uses them:
//   - MQLs as written;
//   - SQLs as written or MQLs × mql_to_sql rounded up (Targets.SQLs), else
//     from the revenue goal: revenue ÷ deal size ÷ win rate (5000 at 100 and
//     0.5 is 100 SQLs);
//   - won deals SQLs × sql_to_won rounded up (450 × 0.15 → 68), else revenue
//     ÷ deal size, else SQLs × win rate.
//
// A 0 means no target.
func MonthlyTargets(p *Policy) (mqls, sqls, won int) {
	if p == nil {
		return 0, 0, 0
	}
	t := p.Targets
	mqls, sqls = t.MQLs, t.SQLs
	var plan *Plan
	if t.Revenue > 0 && t.DealSize > 0 {
		rate := t.WinRate
		if rate == 0 {
			rate = t.SQLToWon
		}
		if pl, err := PlanFromRevenue(t.Revenue, t.DealSize, rate, 0); err == nil {
			plan = &pl
		}
	}
	if sqls == 0 && plan != nil {
		sqls = plan.SQLs
	}
	switch {
	case t.SQLToWon > 0 && sqls > 0:
		won = ceilCount(float64(sqls) * t.SQLToWon)
	case t.Revenue > 0 && t.DealSize > 0:
		won = ceilCount(t.Revenue / t.DealSize)
	case t.WinRate > 0 && sqls > 0:
		won = ceilCount(float64(sqls) * t.WinRate)
	}
	return mqls, sqls, won
}

// monthShare is how many months' worth of target the dates hold: 1/n for
// each date of an n-day month, summed a month at a time so that a whole
// month is exactly 1.
func monthShare(dates []CalendarDate) float64 {
	type ym struct {
		y int
		m time.Month
	}
	days := map[ym]int{}
	var order []ym
	for _, d := range dates {
		k := ym{d.Year, d.Month}
		if days[k] == 0 {
			order = append(order, k)
		}
		days[k]++
	}
	total := 0.0
	for _, k := range order {
		n := time.Date(k.y, k.m+1, 0, 12, 0, 0, 0, time.UTC).Day()
		total += float64(days[k]) / float64(n)
	}
	return total
}

// pace is actual ÷ expected, 0 when nothing was expected.
func pace(actual int, expected float64) float64 {
	if expected <= 0 {
		return 0
	}
	return float64(actual) / expected
}

// ratio is num ÷ den, 0 for a zero den.
func ratio(num, den int) float64 {
	r, _ := share(num, den)
	return r
}

// ComputeFunnel measures Marketing's funnel over period as of now: MQLs
// from mqls, SQLs and won deals from facts (every lead, whatever its
// owner). Monthly targets are pro-rated to the period's days; see Funnel.
func ComputeFunnel(p *Policy, facts []LeadFacts, mqls []MQL, period Period, now time.Time) Funnel {
	var c FunnelCounts
	end := cutoff(period, now)
	for _, m := range mqls {
		if period.Contains(m.At) && !m.At.After(now) {
			c.MQLs++
		}
	}
	for i := range facts {
		l := &facts[i].Lead
		if period.Contains(l.ReceivedAt) && !l.ReceivedAt.After(now) {
			c.SQLs++
		}
		if l.State == StateWon && period.Contains(l.ClosedAt) && !l.ClosedAt.After(now) {
			c.Won++
		}
		if openAt(l, end) || (l.State == StateOpportunity && !l.ReceivedAt.IsZero() && l.ReceivedAt.Before(end)) {
			c.OpenSQLs++
		}
	}
	return FunnelOf(p, c, period, now)
}

// FunnelCounts are what a funnel counts over the leads and MQLs (see
// Funnel for each): storage counts them in SQL, ComputeFunnel in Go.
type FunnelCounts struct {
	MQLs, SQLs, Won, OpenSQLs int
}

// FunnelOf completes the funnel of period as of now from its counts: the
// targets pro-rated to the period's days, the paces and the rates.
func FunnelOf(p *Policy, c FunnelCounts, period Period, now time.Time) Funnel {
	f := Funnel{Period: period, MQLs: c.MQLs, SQLs: c.SQLs, Won: c.Won, OpenSQLs: c.OpenSQLs}
	dates := period.dates()
	f.DaysInPeriod = len(dates)
	loc := period.Start.Location()
	elapsed := dates[:0:0]
	for _, d := range dates {
		if !now.Before(d.In(loc)) {
			elapsed = append(elapsed, d)
		}
	}
	f.DaysElapsed = len(elapsed)

	mqlMonth, sqlMonth, wonMonth := MonthlyTargets(p)
	whole, sofar := monthShare(dates), monthShare(elapsed)
	f.MQLTarget = ceilCount(float64(mqlMonth) * whole)
	f.SQLTarget = ceilCount(float64(sqlMonth) * whole)
	f.WonTarget = ceilCount(float64(wonMonth) * whole)
	f.MQLPace = pace(f.MQLs, float64(mqlMonth)*sofar)
	f.SQLPace = pace(f.SQLs, float64(sqlMonth)*sofar)

	f.MQLToSQL = ratio(f.SQLs, f.MQLs)
	f.SQLToWon = ratio(f.Won, f.SQLs)
	if p != nil {
		t := p.Targets
		f.MQLToSQLTarget = t.MQLToSQL
		f.SQLToWonTarget = t.SQLToWon
		if f.SQLToWonTarget == 0 {
			f.SQLToWonTarget = t.WinRate
		}
		rate := t.WinRate
		if rate == 0 {
			rate = t.SQLToWon
		}
		f.ExpectedPipeline = float64(f.OpenSQLs) * rate * t.DealSize
	}
	return f
}
