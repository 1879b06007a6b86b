package engine

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Speed to lead: the period's leads by how fast they were first touched,
// each band with its opportunity and won rates and their 95% intervals.
// Within each rule by default: fast rules tend to hold the best leads
// (demo requests), so pooling rules makes speed look more profitable than
// it is.

// SpeedBands are the upper bounds of the touched bands, in business time:
// ≤ 5 min, 5–15 min, 15–60 min, 1–4 h, then over 4 h and never.
var SpeedBands = []time.Duration{5 * time.Minute, 15 * time.Minute, time.Hour, 4 * time.Hour}

// SpeedBandLabels name the bands, the last two "over 4 h" and "never".
var SpeedBandLabels = []string{"≤ 5 min", "5–15 min", "15–60 min", "1–4 h", "over 4 h", "never"}

// The bands that are not a time.
const (
	SpeedBandOver4h = 4
	SpeedBandNever  = 5
	speedBandCount  = 6
)

// MinLeadsToJudge is the fewest leads a band needs before its rates are
// compared: under it the band is "too few to judge".
const MinLeadsToJudge = 30

// speedBandOf is the band of a first touch after d.
func speedBandOf(d time.Duration) int {
	for i, b := range SpeedBands {
		if d <= b {
			return i
		}
	}
	return SpeedBandOver4h
}

// Rate is a share with its Wilson 95% interval.
type Rate struct {
	Count, Of int
	Share     float64
	Low, High float64
}

// z95 is the standard normal quantile of 97.5%.
const z95 = 1.959963984540054

// WilsonRate is count of n with its Wilson score interval at 95%: unlike
// the textbook p ± 1.96·√(p(1−p)/n) it stays inside [0, 1] and does not
// shrink to nothing at 0 or n successes. n = 0 gives the whole [0, 1].
func WilsonRate(count, n int) Rate {
	r := Rate{Count: count, Of: n, High: 1}
	if n <= 0 {
		return r
	}
	p := float64(count) / float64(n)
	nf := float64(n)
	z2 := z95 * z95
	den := 1 + z2/nf
	centre := (p + z2/(2*nf)) / den
	half := z95 * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / den
	r.Share, r.Low, r.High = p, max(0, centre-half), min(1, centre+half)
	return r
}

// SpeedCell is one band's leads and what became of them.
type SpeedCell struct {
	Band  int
	Label string
	Leads int
	// Opportunities and Won are rates over the band's leads.
	Opportunities, Won Rate
	// TooFew: fewer than MinLeadsToJudge leads, so the rates are shown
	// but not compared.
	TooFew bool
}

// SpeedTable is the bands of one rule's leads ("" when pooled).
type SpeedTable struct {
	Rule  string
	Cells []SpeedCell
	Leads int
}

// SpeedFinding is a difference between the fastest and slowest bands that
// can be judged whose intervals do not overlap.
type SpeedFinding struct {
	Rule string
	// What is "won" or "opportunity".
	What         string
	Fast, Slow   SpeedCell
	FasterBetter bool
}

// Speed is the period's leads by time to first touch.
type Speed struct {
	Period Period
	AsOf   time.Time
	// Pooled: one table for every rule; otherwise one per rule.
	Pooled bool
	// Rule is the only rule asked for ("" for all).
	Rule   string
	Tables []SpeedTable
	// NotYet counts leads not touched yet whose first touch is still
	// pending: they belong to no band yet.
	NotYet   int
	Findings []SpeedFinding
}

// SpeedCount is how many leads of a rule fell in a band, and their outcomes
// as of the speed's AsOf; storage counts these in SQL.
type SpeedCount struct {
	Rule                      string
	Band                      int
	Leads, Opportunities, Won int
}

// speedBandOfLead is a lead's band as of asOf, or -1 when it is not
// touched yet and its first touch is still pending.
func speedBandOfLead(p *Policy, f *LeadFacts, asOf time.Time) int {
	if t, ok := firstTouch(f, asOf); ok {
		return speedBandOf(p.CalendarForLead(&f.Lead).Between(f.Lead.AssignedAt, t))
	}
	switch judgeFirstTouch(p, f, asOf) {
	case ftLate, ftClosed:
		return SpeedBandNever
	}
	return -1
}

// ComputeSpeed sorts the period's own leads into speed bands as of asOf,
// per rule unless pooled; rule, when not "", keeps that rule's leads only.
func ComputeSpeed(p *Policy, facts []LeadFacts, period Period, asOf time.Time, rule string, pooled bool) Speed {
	counts := map[[2]any]*SpeedCount{}
	notYet := 0
	for i := range facts {
		f := &facts[i]
		l := &f.Lead
		if !scorecardCohort(l, period, asOf) {
			continue
		}
		keys := scorecardKeysOf(p, f)
		if rule != "" && keys.Rule != rule {
			continue
		}
		band := speedBandOfLead(p, f, asOf)
		if band < 0 {
			notYet++
			continue
		}
		r := keys.Rule
		if pooled {
			r = ""
		}
		c := counts[[2]any{r, band}]
		if c == nil {
			c = &SpeedCount{Rule: r, Band: band}
			counts[[2]any{r, band}] = c
		}
		c.Leads++
		if isOpportunity(l, f.OpportunityAt, asOf) {
			c.Opportunities++
		}
		if l.State == StateWon && !l.ClosedAt.IsZero() && !l.ClosedAt.After(asOf) {
			c.Won++
		}
	}
	list := make([]SpeedCount, 0, len(counts))
	for _, c := range counts {
		list = append(list, *c)
	}
	return SpeedFromCounts(p, period, asOf, rule, pooled, list, notYet)
}

// SpeedFromCounts builds the speed tables from counts (in any order):
// rules in policy order, each with every band, and the findings.
func SpeedFromCounts(p *Policy, period Period, asOf time.Time, rule string, pooled bool, counts []SpeedCount, notYet int) Speed {
	s := Speed{Period: period, AsOf: asOf, Pooled: pooled, Rule: rule, NotYet: notYet}
	tables := map[string]*SpeedTable{}
	for _, c := range counts {
		t := tables[c.Rule]
		if t == nil {
			t = &SpeedTable{Rule: c.Rule, Cells: make([]SpeedCell, speedBandCount)}
			tables[c.Rule] = t
		}
		cell := &t.Cells[c.Band]
		cell.Leads += c.Leads
		cell.Opportunities.Count += c.Opportunities
		cell.Won.Count += c.Won
		t.Leads += c.Leads
	}
	for _, t := range tables {
		for b := range t.Cells {
			cell := &t.Cells[b]
			cell.Band, cell.Label = b, SpeedBandLabels[b]
			cell.Opportunities = WilsonRate(cell.Opportunities.Count, cell.Leads)
			cell.Won = WilsonRate(cell.Won.Count, cell.Leads)
			cell.TooFew = cell.Leads < MinLeadsToJudge
		}
		s.Tables = append(s.Tables, *t)
	}
	rank := func(name string) int {
		if p == nil {
			return 0
		}
		if i := slices.IndexFunc(p.Rules, func(r Rule) bool { return r.Name == name }); i >= 0 {
			return i
		}
		return len(p.Rules)
	}
	slices.SortFunc(s.Tables, func(a, b SpeedTable) int {
		if d := rank(a.Rule) - rank(b.Rule); d != 0 {
			return d
		}
		switch {
		case a.Rule < b.Rule:
			return -1
		case a.Rule > b.Rule:
			return 1
		}
		return 0
	})
	for _, t := range s.Tables {
		s.Findings = append(s.Findings, speedFindings(t)...)
	}
	return s
}

// speedFindings compares the fastest and the slowest touched bands of t
// that have enough leads to judge, on each rate: a finding when their
// intervals do not overlap. One comparison per rate, not every pair, so
// that chance alone rarely makes a finding.
func speedFindings(t SpeedTable) []SpeedFinding {
	var judged []SpeedCell
	for _, c := range t.Cells[:SpeedBandNever] {
		if !c.TooFew {
			judged = append(judged, c)
		}
	}
	if len(judged) < 2 {
		return nil
	}
	fast, slow := judged[0], judged[len(judged)-1]
	var out []SpeedFinding
	for _, what := range []string{"opportunity", "won"} {
		f, s := fast.Opportunities, slow.Opportunities
		if what == "won" {
			f, s = fast.Won, slow.Won
		}
		switch {
		case f.Low > s.High:
			out = append(out, SpeedFinding{Rule: t.Rule, What: what, Fast: fast, Slow: slow, FasterBetter: true})
		case s.Low > f.High:
			out = append(out, SpeedFinding{Rule: t.Rule, What: what, Fast: fast, Slow: slow})
		}
	}
	return out
}

// String says the finding in a line.
func (f SpeedFinding) String() string {
	rate := func(c SpeedCell) Rate {
		if f.What == "won" {
			return c.Won
		}
		return c.Opportunities
	}
	verb := "became opportunities"
	if f.What == "won" {
		verb = "were won"
	}
	who := "leads"
	if f.Rule != "" {
		who = f.Rule + " leads"
	}
	fr, sr := rate(f.Fast), rate(f.Slow)
	lead := "Faster converts better"
	if !f.FasterBetter {
		lead = "Slower converts better"
	}
	return fmt.Sprintf("%s: %s touched %s %s %s of the time (%s–%s), those touched %s %s (%s–%s).",
		lead, who, f.Fast.Label, verb, FormatPercent(fr.Share, PercentRate), FormatPercent(fr.Low, PercentRate),
		FormatPercent(fr.High, PercentRate), f.Slow.Label, FormatPercent(sr.Share, PercentRate),
		FormatPercent(sr.Low, PercentRate), FormatPercent(sr.High, PercentRate))
}

// MinLeadsForSlower is the fewest touched leads each of two groups needs
// before a longer median time to first touch on the better one is told.
const MinLeadsForSlower = 20

// SlowerFinding is a better group (a higher score band, or a stricter
// rule) whose leads wait longer for their first touch than a lesser one's.
type SlowerFinding struct {
	// By is ByScore or ByRule.
	By                        GroupBy
	Better, Worse             string
	BetterMedian, WorseMedian time.Duration
	BetterLeads, WorseLeads   int
}

// String says the finding in a line.
func (f SlowerFinding) String() string {
	better, worse := f.Better+" leads", f.Worse+" leads"
	if f.By == ByRule {
		better, worse = "leads of the stricter rule "+f.Better, "those of "+f.Worse
	}
	return fmt.Sprintf("Slower on better leads: %s wait %s for a first touch (median of %d), %s %s (median of %d).",
		better, FormatDurationShort(f.BetterMedian), f.BetterLeads, worse, FormatDurationShort(f.WorseMedian), f.WorseLeads)
}

// SlowerOnBetterLeads compares the median time to first touch of every
// higher score band with every lower one (byScore), and of every stricter
// rule (shorter first_touch) with every looser one (byRule), when both
// have at least MinLeadsForSlower touched leads. Either scorecard may be
// the zero Scorecard; OthersGroup rows are left out.
func SlowerOnBetterLeads(p *Policy, byScore, byRule Scorecard) []SlowerFinding {
	var out []SlowerFinding
	compare := func(by GroupBy, better, worse ScorecardRow) {
		b, w := better.TimeToFirstTouch, worse.TimeToFirstTouch
		if b.Count >= MinLeadsForSlower && w.Count >= MinLeadsForSlower && b.Median > w.Median {
			out = append(out, SlowerFinding{By: by, Better: better.Group, Worse: worse.Group,
				BetterMedian: b.Median, WorseMedian: w.Median, BetterLeads: b.Count, WorseLeads: w.Count})
		}
	}
	// Score rows are in band order, lowest first.
	rows := slices.DeleteFunc(slices.Clone(byScore.Rows), func(r ScorecardRow) bool { return r.Group == OthersGroup })
	for i := len(rows) - 1; i >= 0; i-- {
		for j := 0; j < i; j++ {
			compare(ByScore, rows[i], rows[j])
		}
	}
	if p == nil {
		return out
	}
	firstTouchOf := func(name string) (time.Duration, bool) {
		if r := p.Rule(name); r != nil && r.FirstTouch > 0 {
			return r.FirstTouch, true
		}
		return 0, false
	}
	for _, a := range byRule.Rows {
		for _, b := range byRule.Rows {
			fa, oka := firstTouchOf(a.Group)
			fb, okb := firstTouchOf(b.Group)
			if oka && okb && fa < fb {
				compare(ByRule, a, b)
			}
		}
	}
	return out
}
