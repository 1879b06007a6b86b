package engine

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// The figures of a replay, per rule, counted as /sla status counts them:
// ComputeAttainment over the replayed leads, everyone's scope.

// ReplayFigures are one rule's figures over the period under one policy.
type ReplayFigures struct {
	// Leads counts the leads received in the period under the rule;
	// OnTime and Late their first touches, as Attainment counts them;
	// Pending the rest: not yet due, never assigned, or closed before the
	// deadline untouched.
	Leads, OnTime, Late, Pending int
	// TimeToFirstTouch is the business time from assignment to first touch
	// (median and 90th percentile), as /sla status reports it.
	TimeToFirstTouch Stats
	// Breaches counts the breaches in the period by kind.
	Breaches map[BreachKind]int
	// Reassigned counts automatic reassignments on a breach in the period;
	// Returned leads sent back to Marketing in the period, by anyone;
	// Reminders the reminders that would have gone out in the period.
	Reassigned, Returned, Reminders int
}

// RuleFigures are a rule's figures under one policy.
type RuleFigures struct {
	Rule string
	ReplayFigures
}

// ReplayResult is a replay's outcome over a period.
type ReplayResult struct {
	Period Period
	// Rules are in the policy's order.
	Rules []RuleFigures
	// Total is over every rule, with the same figures as
	// ComputeAttainment over all the replayed leads.
	Total ReplayFigures
	// PeakOpen is the most open leads one rep held at once in the period.
	PeakOpen int
}

// Replayer replays batches of leads under one policy and tallies the
// figures of a period, so that a long history streams through it.
type Replayer struct {
	replay Replay
	period Period
	byRule map[string]*ruleTally
	total  ruleTally
	// held are the reps' changes in open leads within the period.
	held map[string][]openChange
}

// openChange is a rep's open leads going up or down by one at at.
type openChange struct {
	at    time.Time
	delta int
}

type ruleTally struct {
	fig       ReplayFigures
	durations []time.Duration
}

// NewReplayer replays under r.Policy and counts the figures of period as
// of r.Now.
func NewReplayer(r Replay, period Period) *Replayer {
	rp := &Replayer{replay: r, period: period, byRule: map[string]*ruleTally{}, held: map[string][]openChange{}}
	for _, rule := range r.Policy.Rules {
		rp.byRule[strings.ToLower(rule.Name)] = &ruleTally{}
	}
	return rp
}

// Add replays a batch of leads and tallies them. Give the batches in the
// order the leads arrived, so the round robins replay in that order.
func (rp *Replayer) Add(batch []LeadHistory) {
	parts := map[string][]LeadFacts{}
	extra := map[string]*ReplayFigures{}
	for i := range batch {
		out := rp.replay.Lead(&batch[i])
		key := strings.ToLower(out.Facts.Lead.Rule)
		parts[key] = append(parts[key], out.Facts)
		x := extra[key]
		if x == nil {
			x = &ReplayFigures{}
			extra[key] = x
		}
		for _, t := range out.Reminders {
			if rp.period.Contains(t) {
				x.Reminders++
			}
		}
		for _, t := range out.Reassigned {
			if rp.period.Contains(t) {
				x.Reassigned++
			}
		}
		rp.hold(out.Held)
	}
	for key, facts := range parts {
		t := rp.byRule[key]
		if t == nil {
			t = &ruleTally{}
			rp.byRule[key] = t
		}
		for _, tally := range []*ruleTally{t, &rp.total} {
			tally.add(rp.replay.Policy, facts, rp.period, rp.replay.Now)
			tally.fig.Reminders += extra[key].Reminders
			tally.fig.Reassigned += extra[key].Reassigned
		}
	}
}

// hold notes the holdings' changes in open leads within the period (and
// before the replay's Now).
func (rp *Replayer) hold(held []Holding) {
	end := cutoff(rp.period, rp.replay.Now)
	for _, h := range held {
		from, to := h.From, h.To
		if to.IsZero() || to.After(end) {
			to = end
		}
		if from.Before(rp.period.Start) {
			from = rp.period.Start
		}
		if !to.After(from) {
			continue
		}
		rp.held[h.Rep] = append(rp.held[h.Rep], openChange{from, 1}, openChange{to, -1})
	}
}

// peakOpen is the most open leads one rep held at once: at an instant a
// lead leaves and another arrives, the one leaving goes first.
func (rp *Replayer) peakOpen() int {
	peak := 0
	for _, changes := range rp.held {
		slices.SortFunc(changes, func(a, b openChange) int { return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.delta, b.delta)) })
		n := 0
		for _, c := range changes {
			n += c.delta
			peak = max(peak, n)
		}
	}
	return peak
}

// add counts facts with ComputeAttainment, keeping the response times
// (which do not add up across batches) to summarise at the end.
func (t *ruleTally) add(p *Policy, facts []LeadFacts, period Period, now time.Time) {
	a := ComputeAttainment(p, facts, Scope{Kind: ScopeAll}, period, now)
	f := &t.fig
	f.Leads += a.SQLs
	f.OnTime += a.FirstTouchOnTime
	f.Late += a.FirstTouchLate
	f.Pending += a.FirstTouchPending + a.FirstTouchClosed
	f.Returned += a.Returns
	if f.Breaches == nil {
		f.Breaches = map[BreachKind]int{}
	}
	for k, n := range a.BreachesByKind {
		f.Breaches[k] += n
	}
	// The same durations as ComputeAttainment's TimeToFirstTouchBusiness.
	for i := range facts {
		l := &facts[i].Lead
		if !period.Contains(l.ReceivedAt) || l.ReceivedAt.After(now) {
			continue
		}
		if ft, ok := firstTouch(&facts[i], now); ok {
			t.durations = append(t.durations, p.CalendarForLead(l).Between(l.AssignedAt, ft))
		}
	}
}

func (t *ruleTally) figures() ReplayFigures {
	f := t.fig
	if f.Breaches == nil {
		f.Breaches = map[BreachKind]int{}
	}
	f.TimeToFirstTouch = StatsOf(t.durations)
	return f
}

// Result is the figures of every lead added so far: a rule of the policy
// with no lead has zero figures; leads that no rule matches are counted
// under "" after the policy's rules.
func (rp *Replayer) Result() ReplayResult {
	res := ReplayResult{Period: rp.period, Total: rp.total.figures(), PeakOpen: rp.peakOpen()}
	seen := map[string]bool{}
	for _, rule := range rp.replay.Policy.Rules {
		key := strings.ToLower(rule.Name)
		if seen[key] {
			continue
		}
		seen[key] = true
		res.Rules = append(res.Rules, RuleFigures{Rule: rule.Name, ReplayFigures: rp.byRule[key].figures()})
	}
	if t := rp.byRule[""]; t != nil && !seen[""] {
		res.Rules = append(res.Rules, RuleFigures{Rule: "", ReplayFigures: t.figures()})
	}
	return res
}

// RuleComparison is one rule's figures under the current and the proposed
// policy; nil on the side whose policy has no such rule.
type RuleComparison struct {
	Rule              string
	Current, Proposed *ReplayFigures
}

// CompareReplays pairs the rules of two replays by name (without regard
// to case): the current policy's rules in order, then the rules only the
// proposed one has.
func CompareReplays(current, proposed ReplayResult) []RuleComparison {
	var out []RuleComparison
	index := map[string]int{}
	for _, r := range current.Rules {
		f := r.ReplayFigures
		index[strings.ToLower(r.Rule)] = len(out)
		out = append(out, RuleComparison{Rule: r.Rule, Current: &f})
	}
	for _, r := range proposed.Rules {
		f := r.ReplayFigures
		if i, ok := index[strings.ToLower(r.Rule)]; ok {
			out[i].Proposed = &f
			continue
		}
		out = append(out, RuleComparison{Rule: r.Rule, Proposed: &f})
	}
	return out
}

// ReplayLookback is how long before start a lead may have arrived and
// still, under any of policies, have a timer at or after start: two
// assignments (the first, and one automatic reassignment), each with its
// first-touch deadline on the policy's or a team's calendar (whichever is
// slowest) and its cadence window. The
// first-touch span is the longest the calendar gives over the 120 days
// before start (tried hour by hour: weekends, holidays), plus an hour.
func ReplayLookback(start time.Time, policies ...*Policy) time.Duration {
	const day = 24 * time.Hour
	longest := time.Duration(0)
	for _, p := range policies {
		if p == nil {
			continue
		}
		cals := []*Calendar{p.Calendar}
		for i := range p.Teams {
			if c := p.Teams[i].Calendar; c != nil {
				cals = append(cals, c)
			}
		}
		for _, r := range p.Rules {
			for _, cal := range cals {
				span := r.FirstTouch
				if !cal.Always() {
					span = 0
					for t := start.Add(-120 * day); t.Before(start); t = t.Add(time.Hour) {
						span = max(span, cal.Add(t, r.FirstTouch).Sub(t))
					}
					span += time.Hour
				}
				longest = max(longest, span+r.Touches.Within)
			}
		}
	}
	return 2*longest + day
}

// RuleMove is how many leads received in the period one policy puts under
// rule From and another under rule To.
type RuleMove struct {
	From, To string
	Leads    int
}

// RuleMoves counts, batch by batch, the leads received in a period that
// the second policy puts under another rule than the first (by name,
// without regard to case).
type RuleMoves struct {
	first, second *Policy
	period        Period
	now           time.Time
	counts        map[[2]string]int
}

// NewRuleMoves counts the leads that move from first's rules to second's
// among those received in period by now.
func NewRuleMoves(first, second *Policy, period Period, now time.Time) *RuleMoves {
	return &RuleMoves{first: first, second: second, period: period, now: now, counts: map[[2]string]int{}}
}

// Add counts a batch.
func (m *RuleMoves) Add(batch []LeadHistory) {
	name := func(r *Rule) string {
		if r == nil {
			return ""
		}
		return r.Name
	}
	for i := range batch {
		l := &batch[i].Facts.Lead
		if !m.period.Contains(l.ReceivedAt) || l.ReceivedAt.After(m.now) {
			continue
		}
		a := name(m.first.RuleFor(l.Source, l.Segment, l.Score))
		b := name(m.second.RuleFor(l.Source, l.Segment, l.Score))
		if !strings.EqualFold(a, b) {
			m.counts[[2]string{a, b}]++
		}
	}
}

// Moves lists the moves, the largest first (then by rule names).
func (m *RuleMoves) Moves() []RuleMove {
	out := make([]RuleMove, 0, len(m.counts))
	for k, n := range m.counts {
		out = append(out, RuleMove{From: k[0], To: k[1], Leads: n})
	}
	slices.SortFunc(out, func(a, b RuleMove) int {
		return cmp.Or(cmp.Compare(b.Leads, a.Leads), strings.Compare(a.From, b.From), strings.Compare(a.To, b.To))
	})
	return out
}
