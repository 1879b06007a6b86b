package engine

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The scorecard: which leads, handled how fast, turn into pipeline. It
// groups a period's own leads (received in it) by source, segment, rule or
// score band and follows each group to its outcomes as of now (or an
// earlier as-of), so that Marketing can see which sources pay off and
// Sales which leads it answers slowly. Like ComputeAttainment it is pure
// computation over loaded facts: storage counts the same figures in SQL
// and its oracle tests compare the two, cell by cell.

// GroupBy is what a scorecard groups leads by.
type GroupBy string

// The groupings of a scorecard.
const (
	BySource  GroupBy = "source"
	BySegment GroupBy = "segment"
	ByRule    GroupBy = "rule"
	ByScore   GroupBy = "score"
)

// GroupBys lists the groupings in the order they are offered.
var GroupBys = []GroupBy{BySource, BySegment, ByRule, ByScore}

// ParseGroupBy reads a grouping as people write it ("source", "sources",
// "Score"…); anything else is an EINVALID error.
func ParseGroupBy(s string) (GroupBy, error) {
	w := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "s")
	for _, g := range GroupBys {
		if w == string(g) {
			return g, nil
		}
	}
	return "", Errorf(EINVALID, "%s is not something to group leads by: use source, segment, rule or score", Quote(s))
}

// OthersGroup names the row that holds the groups left out of a shortened
// scorecard; AllGroup the row of every lead, as the CSV writes them.
const (
	OthersGroup = "(others)"
	AllGroup    = "(all)"
)

// YoungLeadAge is the age under which a lead has had little time to close:
// the scorecard says how many of its leads are that young.
const YoungLeadAge = 30 * 24 * time.Hour

// ScorecardRow is one group's figures. Every figure counts the leads of
// the group received in the period (its cohort), each as of the
// scorecard's AsOf.
type ScorecardRow struct {
	// Group is the source, segment, rule name or score band; "(none)"
	// for leads without one, OthersGroup for the groups left out.
	Group string
	SQLs  int
	// MQLs counts the period's marketing-qualified leads carrying the
	// group's source or segment (HasMQLs: grouped by source or segment,
	// which MQLs carry; rules and scores they do not).
	MQLs    int
	HasMQLs bool
	// The first-touch outcome of each lead, as Attainment judges it:
	// OnTime + Late + Pending + Closed = SQLs.
	OnTime, Late, Pending, Closed int
	// TimeToFirstTouch is the rep's delay to the first touch in business
	// time on the policy's calendar, over the group's touched leads.
	TimeToFirstTouch Stats
	// CadenceMet and CadenceMissed count the leads whose "N touches in D
	// days" is decided (met, or the window closed short while the lead
	// was with Sales) by AsOf, whenever that was.
	CadenceMet, CadenceMissed int
	// Returned counts leads returned to Marketing; ReturnsByReason by
	// reason ("no reason given" when none was recorded).
	Returned        int
	ReturnsByReason map[string]int
	// Opportunities counts leads that became an opportunity (by AsOf, when
	// the date is known) or were won; Won and Lost the leads closed so;
	// WonAmount sums the won amounts.
	Opportunities, Won, Lost int
	WonAmount                float64
}

// TopReturnReason is the commonest return reason (the first in order of
// the words on a tie) and its count; "" when nothing was returned.
func (r ScorecardRow) TopReturnReason() (string, int) {
	best, n := "", 0
	for reason, c := range r.ReturnsByReason {
		if c > n || (c == n && reason < best) {
			best, n = reason, c
		}
	}
	return best, n
}

// Scorecard is a period's leads grouped, with a row of every lead.
type Scorecard struct {
	By     GroupBy
	Period Period
	// AsOf is when outcomes are counted to: now, an --as-of date, or a
	// cohort's window's end.
	AsOf time.Time
	// Rows are the groups: score bands from lowest, rules in policy order,
	// sources and segments largest first; OthersGroup last.
	Rows []ScorecardRow
	All  ScorecardRow
	// Young counts the leads received less than YoungLeadAge before AsOf;
	// Newest is when the newest lead was received (zero without leads).
	Young  int
	Newest time.Time
}

// ScoreBands are the lower bounds of the score bands, ascending: the
// policy's report.score_bands, else the rules' distinct min_score values.
// Empty means one band holds every score.
func ScoreBands(p *Policy) []int {
	if p == nil {
		return nil
	}
	if len(p.ScoreBands) > 0 {
		return p.ScoreBands
	}
	var bands []int
	for _, r := range p.Rules {
		if r.Match.MinScore != nil && !slices.Contains(bands, *r.Match.MinScore) {
			bands = append(bands, *r.Match.MinScore)
		}
	}
	slices.Sort(bands)
	return bands
}

// ScoreBandLabels names the bands of bounds: "under 50", "50–79", "80+".
// The i-th label is the band of scores from bounds[i-1] (the 0th: below
// bounds[0]).
func ScoreBandLabels(bounds []int) []string {
	if len(bounds) == 0 {
		return []string{"any score"}
	}
	labels := []string{fmt.Sprintf("score under %d", bounds[0])}
	for i, b := range bounds {
		if i+1 < len(bounds) {
			labels = append(labels, fmt.Sprintf("score %d–%d", b, bounds[i+1]-1))
		} else {
			labels = append(labels, fmt.Sprintf("score %d+", b))
		}
	}
	return labels
}

// scoreBand is the index of score's band among bounds.
func scoreBand(bounds []int, score int) int {
	i := 0
	for i < len(bounds) && score >= bounds[i] {
		i++
	}
	return i
}

// ScorecardKeys are what a lead is grouped by, kept with its figures.
type ScorecardKeys struct {
	// Source and Segment are trimmed and lower-cased.
	Source, Segment string
	// Rule is the rule recorded on the lead, else the one it matches now;
	// "" for none.
	Rule  string
	Score int
	// OpportunityAt is when the lead became an opportunity (zero when it
	// did not, or the date is unknown).
	OpportunityAt time.Time
}

// ScorecardKey is how a source or segment is grouped: trimmed and
// lower-cased.
func ScorecardKey(s string) string { return scopeKey(s) }

// scorecardKeysOf works out f's keys under p.
func scorecardKeysOf(p *Policy, f *LeadFacts) ScorecardKeys {
	l := &f.Lead
	k := ScorecardKeys{Source: scopeKey(l.Source), Segment: scopeKey(l.Segment), Rule: l.Rule, Score: l.Score,
		OpportunityAt: f.OpportunityAt}
	if k.Rule == "" {
		if r := ruleOf(p, l); r != nil {
			k.Rule = r.Name
		}
	}
	return k
}

// GroupOf is the group of a lead with these keys; bandLabels are
// ScoreBandLabels(ScoreBands(p)).
func (k ScorecardKeys) GroupOf(by GroupBy, bounds []int, bandLabels []string) string {
	switch by {
	case BySegment:
		return k.Segment
	case ByRule:
		return k.Rule
	case ByScore:
		return bandLabels[scoreBand(bounds, k.Score)]
	}
	return k.Source
}

// ScorecardKeep chooses the groups a scorecard of at most limit rows shows
// by name: the limit largest by SQLs (ties by name), or all when they fit
// (limit ≤ 0: all). The others are merged into OthersGroup. It keeps one
// group fewer than limit when some are merged, so the rows with "others"
// are limit in all.
func ScorecardKeep(sqls map[string]int, limit int) map[string]bool {
	keep := make(map[string]bool, len(sqls))
	names := make([]string, 0, len(sqls))
	for g := range sqls {
		names = append(names, g)
	}
	if limit <= 0 || len(names) <= limit {
		for _, g := range names {
			keep[g] = true
		}
		return keep
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(sqls[b], sqls[a]), cmp.Compare(a, b))
	})
	for _, g := range names[:max(limit-1, 1)] {
		keep[g] = true
	}
	return keep
}

// scorecardCohort reports whether l is one of the period's own leads as
// of asOf.
func scorecardCohort(l *Lead, period Period, asOf time.Time) bool {
	return period.Contains(l.ReceivedAt) && !l.ReceivedAt.After(asOf)
}

// isOpportunity reports whether a lead with these facts counts as an
// opportunity as of asOf: it became one by then, or was won by then, or
// is one now and the date is not known.
func isOpportunity(l *Lead, oppAt, asOf time.Time) bool {
	switch {
	case !oppAt.IsZero() && !oppAt.After(asOf):
		return true
	case l.State == StateWon && !l.ClosedAt.IsZero() && !l.ClosedAt.After(asOf):
		return true
	}
	return l.State == StateOpportunity && oppAt.IsZero()
}

// ComputeScorecard groups the period's own leads by by, as of asOf, with
// at most limit rows (≤ 0: every group). mqls are the period's MQLs.
func ComputeScorecard(p *Policy, facts []LeadFacts, mqls []MQL, by GroupBy, period Period, asOf time.Time, limit int) Scorecard {
	bounds := ScoreBands(p)
	labels := ScoreBandLabels(bounds)
	groups := make([]string, len(facts))
	sqls := map[string]int{}
	for i := range facts {
		if scorecardCohort(&facts[i].Lead, period, asOf) {
			groups[i] = scorecardKeysOf(p, &facts[i]).GroupOf(by, bounds, labels)
			sqls[groups[i]]++
		}
	}
	keep := ScorecardKeep(sqls, limit)
	rows := map[string]*ScorecardRow{}
	all := &ScorecardRow{Group: AllGroup, ReturnsByReason: map[string]int{}}
	durations := map[string][]time.Duration{}
	var allDurations []time.Duration
	sc := Scorecard{By: by, Period: period, AsOf: asOf}
	for i := range facts {
		f := &facts[i]
		l := &f.Lead
		if !scorecardCohort(l, period, asOf) {
			continue
		}
		g := groups[i]
		if !keep[g] {
			g = OthersGroup
		}
		row := rows[g]
		if row == nil {
			row = &ScorecardRow{Group: g, ReturnsByReason: map[string]int{}}
			rows[g] = row
		}
		if l.ReceivedAt.After(sc.Newest) {
			sc.Newest = l.ReceivedAt
		}
		if asOf.Sub(l.ReceivedAt) < YoungLeadAge {
			sc.Young++
		}
		for _, r := range []*ScorecardRow{row, all} {
			r.SQLs++
			switch judgeFirstTouch(p, f, asOf) {
			case ftOnTime:
				r.OnTime++
			case ftLate:
				r.Late++
			case ftClosed:
				r.Closed++
			default:
				r.Pending++
			}
			if cd := decideCadence(p, f, asOf); cd.applies && cd.decided {
				if cd.met {
					r.CadenceMet++
				} else {
					r.CadenceMissed++
				}
			}
			if (l.State == StateReturned || f.ReturnedReason != "") && !l.ClosedAt.IsZero() && !l.ClosedAt.After(asOf) {
				r.Returned++
				r.ReturnsByReason[returnReasonOf(f)]++
			}
			if isOpportunity(l, f.OpportunityAt, asOf) {
				r.Opportunities++
			}
			closed := !l.ClosedAt.IsZero() && !l.ClosedAt.After(asOf)
			switch {
			case l.State == StateWon && closed:
				r.Won++
				r.WonAmount += l.Amount
			case l.State == StateLost && closed:
				r.Lost++
			}
		}
		if t, ok := firstTouch(f, asOf); ok {
			d := p.CalendarForLead(l).Between(l.AssignedAt, t)
			durations[g] = append(durations[g], d)
			allDurations = append(allDurations, d)
		}
	}
	for g, row := range rows {
		row.TimeToFirstTouch = StatsOf(durations[g])
		sc.Rows = append(sc.Rows, *row)
	}
	all.TimeToFirstTouch = StatsOf(allDurations)
	sc.All = *all
	if by == BySource || by == BySegment {
		mqlsOf := map[string]int{}
		for _, m := range mqls {
			if !period.Contains(m.At) || m.At.After(asOf) {
				continue
			}
			k := scopeKey(m.Source)
			if by == BySegment {
				k = scopeKey(m.Segment)
			}
			if !keep[k] {
				k = OthersGroup
			}
			mqlsOf[k]++
			sc.All.MQLs++
		}
		sc.All.HasMQLs = true
		// Groups of MQLs without SQLs are not rows: the scorecard is of leads.
		for i := range sc.Rows {
			sc.Rows[i].MQLs, sc.Rows[i].HasMQLs = mqlsOf[sc.Rows[i].Group], true
		}
	}
	FinishScorecard(p, &sc)
	return sc
}

// returnReasonOf is the reason a returned lead is counted under.
func returnReasonOf(f *LeadFacts) string {
	reason := strings.TrimSpace(f.ReturnedReason)
	if reason == "" {
		reason = strings.TrimSpace(f.Lead.ReturnReason)
	}
	if reason == "" {
		reason = "no reason given"
	}
	return reason
}

// NoGroup names the group of leads without a source, segment or rule.
const NoGroup = "(none)"

// FinishScorecard names and orders the rows of sc as ComputeScorecard
// leaves them: storage, which counts the rows in SQL, calls it too.
func FinishScorecard(p *Policy, sc *Scorecard) {
	for i := range sc.Rows {
		if sc.Rows[i].Group == "" {
			sc.Rows[i].Group = NoGroup
		}
		if sc.Rows[i].ReturnsByReason == nil {
			sc.Rows[i].ReturnsByReason = map[string]int{}
		}
	}
	if sc.All.ReturnsByReason == nil {
		sc.All.ReturnsByReason = map[string]int{}
	}
	sc.All.Group = AllGroup
	rank := func(g string) int { return 0 }
	switch sc.By {
	case ByScore:
		labels := ScoreBandLabels(ScoreBands(p))
		rank = func(g string) int { return slices.Index(labels, g) }
	case ByRule:
		rank = func(g string) int {
			if p == nil {
				return 0
			}
			if i := slices.IndexFunc(p.Rules, func(r Rule) bool { return r.Name == g }); i >= 0 {
				return i
			}
			return len(p.Rules)
		}
	}
	slices.SortFunc(sc.Rows, func(a, b ScorecardRow) int {
		ao, bo := a.Group == OthersGroup, b.Group == OthersGroup
		if ao != bo {
			if ao {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(rank(a.Group), rank(b.Group)), cmp.Compare(b.SQLs, a.SQLs), cmp.Compare(a.Group, b.Group))
	})
}

// ReportSourceRows is how many rows the weekly report's "By source" block
// has: the five largest sources, then the others.
const ReportSourceRows = 6

// ReportScorecards are the weekly report's scorecards.
type ReportScorecards struct {
	// Week is the week's leads by source (ReportSourceRows rows at most).
	Week Scorecard
	// PreviousMonth is last month's leads by source, on the first report
	// of a month; nil otherwise.
	PreviousMonth *Scorecard
	// Slower are the "slower on better leads" findings over the month to
	// date.
	Slower []SlowerFinding
}

// ComputeReportScorecards counts the report's scorecards over facts and
// mqls (the report's span) as of now.
func ComputeReportScorecards(p *Policy, facts []LeadFacts, mqls []MQL, spans ReportSpans, now time.Time) ReportScorecards {
	out := ReportScorecards{Week: ComputeScorecard(p, facts, mqls, BySource, spans.Week, now, ReportSourceRows)}
	out.Slower = SlowerOnBetterLeads(p, ComputeScorecard(p, facts, mqls, ByScore, spans.Month, now, 0),
		ComputeScorecard(p, facts, mqls, ByRule, spans.Month, now, 0))
	if spans.HasPreviousMonth {
		prev := ComputeScorecard(p, facts, mqls, BySource, spans.PreviousMonth, now, ReportSourceRows)
		out.PreviousMonth = &prev
	}
	return out
}
