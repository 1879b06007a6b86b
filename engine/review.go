package engine

import (
	"fmt"
	"time"
)

// The review pack: what the owners of the agreement look at before they
// renew or change it. A month-by-month table of both sides' commitments
// (each month's own leads, as the scorecard counts them), with a flag on
// a commitment missed three months running; the period's breaches sorted
// by a likely cause whose definition anyone can recount; acceptance by
// source and the score check. Storage counts the figures; this file holds
// the shapes, the settings and the rules that turn figures into findings.

// ReviewConfig tunes the review (policy key review).
type ReviewConfig struct {
	// Owners are the agreement's owners (emails, lower-cased) who may ask
	// for the review besides the teams' managers (key review.owners).
	Owners []string
	// CapacityOpenLeads is K: a breach is put down to capacity when the
	// rep already held at least K open leads when the lead arrived (key
	// review.capacity_open_leads).
	CapacityOpenLeads int
	// RoutingDelay is R: a breach is put down to routing when the lead
	// took longer than R from hand-off to its owner (key
	// review.routing_delay).
	RoutingDelay time.Duration
}

// Defaults of the review's settings.
const (
	DefaultCapacityOpenLeads = 25
	DefaultRoutingDelay      = 15 * time.Minute
	// DefaultReviewMonths is how many full months the review looks back:
	// half a year, as an agreement reviewed twice a year wants.
	DefaultReviewMonths = 6
	// MaxReviewMonths caps the months one review shows.
	MaxReviewMonths = 24
	// MissedRunningFlag is how many consecutive missed months flag a
	// commitment.
	MissedRunningFlag = 3
	// ReviewPostDays is how many days before review_by the review is
	// posted to the report channel.
	ReviewPostDays = 14
)

// IsReviewOwner reports whether email is one of the agreement's owners.
func (p *Policy) IsReviewOwner(email string) bool {
	for _, o := range p.Review.Owners {
		if o != "" && o == lowerEmail(email) {
			return true
		}
	}
	return false
}

func lowerEmail(s string) string { return scopeKey(s) }

// ReviewMonthsBefore returns the n full calendar months (in loc) before
// the month that holds asOf, oldest first. A month in progress is left
// out: a commitment cannot be judged on half a month.
func ReviewMonthsBefore(n int, asOf time.Time, loc *time.Location) []Period {
	loc = orUTC(loc)
	if n <= 0 {
		n = DefaultReviewMonths
	}
	n = min(n, MaxReviewMonths)
	t := asOf.In(loc)
	months := make([]Period, n)
	for i := 0; i < n; i++ {
		months[i] = MonthPeriod(t.Year(), t.Month()-time.Month(n-i), loc)
	}
	return months
}

// ReviewMonth is one month's own leads and MQLs, as the scorecard counts
// them (its (all) row, MQLs included), as of the review's AsOf.
type ReviewMonth struct {
	Period  Period
	Figures ScorecardRow
}

// Commitment names a figure one side of the agreement commits to monthly.
type Commitment string

// The commitments the review judges month by month.
const (
	CommitMQLs   Commitment = "mqls"
	CommitSQLs   Commitment = "sqls"
	CommitOnTime Commitment = "first_touch_on_time"
)

// CommitmentMonth is how one month did against one commitment.
type CommitmentMonth struct {
	// Actual is the count (MQLs, SQLs) or the share (on time).
	Actual float64
	// Measured is false when the month had nothing to measure (no lead's
	// first touch decided).
	Measured bool
	// Missed: measured and short of the target.
	Missed bool
	// Streak counts the consecutive missed months ending with this one.
	Streak int
	// Flagged: Streak reached MissedRunningFlag.
	Flagged bool
}

// ReviewCommitment is one commitment's target and its months.
type ReviewCommitment struct {
	Key Commitment
	// Side is "Marketing" or "Sales"; Label what is committed ("first
	// touch on time"), Short the same in a word or two ("on time").
	Side, Label, Short string
	// Target is a count or a share (Share); 0 when the agreement sets none
	// (the months are shown, never missed).
	Target float64
	Share  bool
	Months []CommitmentMonth
}

// Flagged reports whether the latest month flags the commitment.
func (c ReviewCommitment) Flagged() bool {
	return len(c.Months) > 0 && c.Months[len(c.Months)-1].Flagged
}

// BreachCause is a likely cause of a breach.
type BreachCause string

// The causes, in the order of precedence: a breach goes to the first
// whose definition it meets.
const (
	CauseRouting      BreachCause = "routing"
	CauseCapacity     BreachCause = "capacity"
	CauseConcentrated BreachCause = "concentrated"
	CauseOther        BreachCause = "other"
)

// BreachCauses lists the causes in their order of precedence.
var BreachCauses = []BreachCause{CauseRouting, CauseCapacity, CauseConcentrated, CauseOther}

// Definition says in plain words how a breach is put down to c under cfg,
// so anyone can recount it.
func (c BreachCause) Definition(cfg ReviewConfig) string {
	cfg = cfg.withDefaults()
	switch c {
	case CauseRouting:
		return fmt.Sprintf("the lead took longer than %s from hand-off to its rep (review.routing_delay): an operations matter", FormatDuration(cfg.RoutingDelay))
	case CauseCapacity:
		return fmt.Sprintf("not routing, and the rep already held at least %d open leads when the lead arrived (review.capacity_open_leads): a question of staffing", cfg.CapacityOpenLeads)
	case CauseConcentrated:
		return "neither of those, and more than half of the rule's breaches came from two reps or fewer, this rep among them: a coaching matter"
	}
	return "none of the above"
}

// withDefaults fills the settings the file left out.
func (cfg ReviewConfig) withDefaults() ReviewConfig {
	if cfg.CapacityOpenLeads <= 0 {
		cfg.CapacityOpenLeads = DefaultCapacityOpenLeads
	}
	if cfg.RoutingDelay <= 0 {
		cfg.RoutingDelay = DefaultRoutingDelay
	}
	return cfg
}

// Settings returns the review's settings with the defaults filled in.
func (p *Policy) ReviewSettings() ReviewConfig { return p.Review.withDefaults() }

// RuleBreaches are one rule's breaches by cause.
type RuleBreaches struct {
	Rule    string
	Total   int
	ByCause map[BreachCause]int
	// Concentrated is true when more than half of the rule's breaches
	// came from its (at most) two reps with the most; TopReps names them.
	Concentrated bool
	TopReps      []string
}

// ReviewBreaches are the breaches of the review's leads by likely cause.
type ReviewBreaches struct {
	Total   int
	ByCause map[BreachCause]int
	// Rules are the rules with breaches, most first.
	Rules []RuleBreaches
}

// Review is the review pack's figures.
type Review struct {
	// Span covers the months; AsOf is when outcomes are counted to.
	Span   Period
	AsOf   time.Time
	Months []ReviewMonth
	// Commitments are judged month by month (JudgeCommitments).
	Commitments []ReviewCommitment
	Breaches    ReviewBreaches
	// Quality is acceptance by source over the span's leads.
	Quality Quality
	// ByScore is the span's leads by score band (the score check).
	ByScore Scorecard
	// Settings are the settings the causes were counted with.
	Settings ReviewConfig
	// ReviewBy is the agreement's review date (zero when unset).
	ReviewBy time.Time
}

// ReviewSpan is the span the months cover.
func ReviewSpan(months []Period) Period {
	if len(months) == 0 {
		return Period{}
	}
	first, last := months[0], months[len(months)-1]
	label := first.Label
	if len(months) > 1 {
		label = first.Label + " – " + last.Label
	}
	return Period{Start: first.Start, End: last.End, Label: label}
}

// JudgeCommitments judges each month against the agreement's monthly
// targets: Marketing's MQLs and SQLs, Sales' first touch on time. A
// month misses a commitment when it was measured and fell short of a
// target the agreement sets; the flag turns on at the MissedRunningFlag-th
// consecutive miss and stays on while the misses go on.
func JudgeCommitments(p *Policy, months []ReviewMonth) []ReviewCommitment {
	t := p.Targets
	onTimeTarget := t.FirstTouchOnTime
	if onTimeTarget <= 0 {
		onTimeTarget = DefaultFirstTouchOnTime
	}
	cs := []ReviewCommitment{
		{Key: CommitMQLs, Side: "Marketing", Label: "MQLs", Short: "MQLs", Target: float64(t.MQLs)},
		{Key: CommitSQLs, Side: "Marketing", Label: "SQLs", Short: "SQLs", Target: float64(t.SQLs)},
		{Key: CommitOnTime, Side: "Sales", Label: "first touch on time", Short: "on time", Target: onTimeTarget, Share: true},
	}
	for i := range cs {
		c := &cs[i]
		streak := 0
		for _, m := range months {
			f := m.Figures
			var cm CommitmentMonth
			switch c.Key {
			case CommitMQLs:
				cm.Actual, cm.Measured = float64(f.MQLs), true
			case CommitSQLs:
				cm.Actual, cm.Measured = float64(f.SQLs), true
			case CommitOnTime:
				if decided := f.OnTime + f.Late; decided > 0 {
					cm.Actual, cm.Measured = float64(f.OnTime)/float64(decided), true
				}
			}
			cm.Missed = cm.Measured && c.Target > 0 && cm.Actual < c.Target
			if cm.Missed {
				streak++
			} else {
				streak = 0
			}
			cm.Streak, cm.Flagged = streak, streak >= MissedRunningFlag
			c.Months = append(c.Months, cm)
		}
	}
	return cs
}

// ReviewPostDay is the day the review is posted to the report channel:
// ReviewPostDays before the review date, at midnight in the policy's zone.
// Zero when the agreement has no review date.
func ReviewPostDay(p *Policy) time.Time {
	if p == nil || p.ReviewBy.IsZero() {
		return time.Time{}
	}
	d := DateOf(p.ReviewBy.In(orUTC(p.Location)))
	return d.AddDays(-ReviewPostDays).In(orUTC(p.Location))
}
