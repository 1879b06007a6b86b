package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// PlanBasis says which end of the funnel a plan was worked out from.
type PlanBasis string

// The two ways to work out a plan.
const (
	// FromRevenue is the reverse funnel: revenue goal → deals → SQLs → MQLs.
	FromRevenue PlanBasis = "revenue"
	// FromMQLs is the forward funnel: MQLs → SQLs → deals.
	FromMQLs PlanBasis = "mqls"
)

// Plan is a monthly funnel: how many MQLs, SQLs and deals the agreement
// needs, and the rates that link them. Counts are rounded up, because half a
// lead cannot be delivered and a goal is met only by the next whole one.
type Plan struct {
	Basis PlanBasis
	// Revenue and DealSize are 0 in a plan from MQLs.
	Revenue  float64
	DealSize float64
	// WinRate is the share of SQLs won; SQLToWon is the same number (the
	// policy file names it either way), both set in every plan.
	WinRate  float64
	SQLToWon float64
	// MQLToSQL is the share of MQLs that become SQLs; 0 in a plan from
	// revenue when it was not given, and then MQLs is 0 too.
	MQLToSQL float64
	MQLs     int
	SQLs     int
	Deals    int
}

// planEpsilon absorbs float error before rounding up: 1800 × 0.25 is exactly
// 450, but 300 / 0.1 is 3000.0000000000005 in floating point, which must not
// become 3001.
const planEpsilon = 1e-9

// ceilCount rounds x up to a whole count, ignoring float noise just above a
// whole number.
func ceilCount(x float64) int {
	return int(math.Ceil(x - planEpsilon*math.Max(1, math.Abs(x))))
}

// PlanFromRevenue works the funnel backwards from a monthly revenue goal:
// deals = revenue ÷ deal size, SQLs = deals ÷ win rate, and, when mqlToSQL is
// more than 0, MQLs = SQLs ÷ mqlToSQL, each rounded up. A revenue goal of
// 5000 at 100 a deal and a 0.5 win rate needs 50 deals and 100 SQLs; at an
// MQL→SQL rate of 0.25 that is 400 MQLs. Rates are fractions between 0 and 1.
func PlanFromRevenue(revenue, dealSize, winRate, mqlToSQL float64) (Plan, error) {
	const example = "for example revenue 5000, deal size 100, win rate 0.5 and MQL→SQL rate 0.25 give 50 deals, 100 SQLs and 400 MQLs"
	switch {
	case !(revenue > 0) || math.IsInf(revenue, 0):
		return Plan{}, Errorf(EINVALID, "the revenue goal must be a number above 0, not %s; %s", planNum(revenue), example)
	case !(dealSize > 0) || math.IsInf(dealSize, 0):
		return Plan{}, Errorf(EINVALID, "the deal size must be a number above 0, not %s; %s", planNum(dealSize), example)
	case !(winRate > 0 && winRate <= 1):
		return Plan{}, Errorf(EINVALID, "the win rate must be a fraction above 0 and at most 1 (50%% is 0.5), not %s; %s", planNum(winRate), example)
	case !(mqlToSQL >= 0 && mqlToSQL <= 1):
		return Plan{}, Errorf(EINVALID, "the MQL→SQL rate must be a fraction from 0 to 1 (25%% is 0.25; 0 leaves MQLs out), not %s; %s", planNum(mqlToSQL), example)
	}
	p := Plan{Basis: FromRevenue, Revenue: revenue, DealSize: dealSize, WinRate: winRate, SQLToWon: winRate, MQLToSQL: mqlToSQL}
	p.Deals = ceilCount(revenue / dealSize)
	p.SQLs = ceilCount(float64(p.Deals) / winRate)
	if mqlToSQL > 0 {
		p.MQLs = ceilCount(float64(p.SQLs) / mqlToSQL)
	}
	if p.Deals < 0 || p.SQLs < 0 || p.MQLs < 0 || float64(p.MQLs) > math.MaxInt32 {
		return Plan{}, Errorf(EINVALID, "these numbers give a funnel too large to plan (over two billion leads); %s", example)
	}
	return p, nil
}

// PlanFromMQLs works the funnel forwards from Marketing's monthly MQLs:
// SQLs = MQLs × mqlToSQL, deals = SQLs × sqlToWon, each rounded up. 1,800
// MQLs at 0.25 and 0.15 give 450 SQLs and 68 deals (67.5 rounded up).
func PlanFromMQLs(mqls int, mqlToSQL, sqlToWon float64) (Plan, error) {
	const example = "for example 1800 MQLs, MQL→SQL rate 0.25 and SQL→won rate 0.15 give 450 SQLs and 68 deals"
	switch {
	case mqls <= 0:
		return Plan{}, Errorf(EINVALID, "the number of MQLs must be above 0, not %d; %s", mqls, example)
	case !(mqlToSQL > 0 && mqlToSQL <= 1):
		return Plan{}, Errorf(EINVALID, "the MQL→SQL rate must be a fraction above 0 and at most 1 (25%% is 0.25), not %s; %s", planNum(mqlToSQL), example)
	case !(sqlToWon > 0 && sqlToWon <= 1):
		return Plan{}, Errorf(EINVALID, "the SQL→won rate must be a fraction above 0 and at most 1 (15%% is 0.15), not %s; %s", planNum(sqlToWon), example)
	}
	p := Plan{Basis: FromMQLs, MQLs: mqls, MQLToSQL: mqlToSQL, SQLToWon: sqlToWon, WinRate: sqlToWon}
	p.SQLs = ceilCount(float64(mqls) * mqlToSQL)
	p.Deals = ceilCount(float64(p.SQLs) * sqlToWon)
	return p, nil
}

// String writes the plan for people, one step of the funnel a line.
func (p Plan) String() string {
	var b strings.Builder
	switch p.Basis {
	case FromRevenue:
		fmt.Fprintf(&b, "Revenue goal %s ÷ deal size %s = %s deals a month\n", amountText(p.Revenue), amountText(p.DealSize), countText(p.Deals))
		fmt.Fprintf(&b, "%s deals at a %s win rate = %s SQLs a month\n", countText(p.Deals), FormatPercent(p.WinRate, PercentRate), countText(p.SQLs))
		if p.MQLToSQL > 0 {
			fmt.Fprintf(&b, "%s SQLs at a %s MQL→SQL rate = %s MQLs a month\n", countText(p.SQLs), FormatPercent(p.MQLToSQL, PercentRate), countText(p.MQLs))
		} else {
			b.WriteString("Give the MQL→SQL rate to see how many MQLs Marketing must deliver\n")
		}
	default:
		fmt.Fprintf(&b, "%s MQLs at a %s MQL→SQL rate = %s SQLs a month\n", countText(p.MQLs), FormatPercent(p.MQLToSQL, PercentRate), countText(p.SQLs))
		fmt.Fprintf(&b, "%s SQLs at a %s SQL→won rate = %s deals a month\n", countText(p.SQLs), FormatPercent(p.SQLToWon, PercentRate), countText(p.Deals))
	}
	b.WriteString("Counts are rounded up: half a lead cannot be delivered.")
	return b.String()
}

// planNum writes a number as given, for error messages.
func planNum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// countText writes a count with thousands separators: 1,800.
func countText(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// amountText writes an amount of money without a currency (the agreement
// does not say which): 5,000 or 1,234.5.
func amountText(x float64) string {
	cents := int64(math.Round(x * 100))
	s := countText(int(cents / 100))
	if c := cents % 100; c != 0 {
		s += fmt.Sprintf(".%02d", c)
	}
	return s
}

// PercentStyle says how FormatPercent rounds.
type PercentStyle int

const (
	// PercentRate writes a rate as the agreement sets it, to a hundredth
	// of a percent: 0.25 is "25%", 0.125 is "12.5%".
	PercentRate PercentStyle = iota
	// PercentShare writes a measured share as a whole percentage, 2/3 is
	// "67%"; a share that would round to a misleading 0% or 100% gets one
	// decimal, cut down: 0.995 is "99.5%", 0.001 is "0.1%".
	PercentShare
)

// FormatPercent writes the fraction x as a percentage, rounded as style
// says: 0.25 is "25%" in either style.
func FormatPercent(x float64, style PercentStyle) string {
	places := 2 // a rate: hundredths of a percent
	if style == PercentShare {
		if r := math.Round(x * 100); (r == 100 && x < 1) || (r == 0 && x > 0) {
			return strconv.FormatFloat(math.Floor(x*1000)/10, 'f', 1, 64) + "%"
		}
		places = 0
	}
	return strconv.FormatFloat(math.Round(x*math.Pow10(places+2))/math.Pow10(places), 'f', -1, 64) + "%"
}
