package engine

import (
	"cmp"
	"slices"
	"strings"
)

// Lead quality: how Sales received what Marketing handed off, by source.
// Every lead handed off in a period ends in exactly one of four places:
// accepted, rejected, awaiting a decision, or closed before one, so
//
//	accepted + rejected + awaiting + closed before a decision = SQLs.

// DefaultAcceptedTarget is the share of hand-offs a healthy agreement sees
// accepted, when the policy sets no targets.accepted.
const DefaultAcceptedTarget = 0.9

// RejectionFact is one rejection recorded on a lead.
type RejectionFact struct {
	// EventID is the rejected event's id.
	EventID  int64
	Category RejectCategory
	Detail   string
	// Contest is where a contest of the rejection stands: "" (not
	// contested), ContestPending, ContestUpheld or ContestOverturned.
	Contest string
}

// QualityFacts is what quality counts of one lead handed off in the
// period: its row and the rejections recorded on it, in order.
type QualityFacts struct {
	Lead       Lead
	Rejections []RejectionFact
	// Feedback is the rep's answer to "Did the card have what you
	// needed?" ("" for none).
	Feedback string
}

// QualityFigures are one group's figures (a source, or every lead).
type QualityFigures struct {
	Group string
	SQLs  int
	// Accepted: accepted (or touched) by the owner who holds it, and not
	// rejected since. Rejected: rejected in a category that sends it back
	// (a wrong owner's rejection re-routes it, to be decided afresh).
	// Awaiting: open and not yet decided. ClosedUndecided: closed (by a
	// breach, an outcome, a return) before anyone accepted or rejected it.
	Accepted, Rejected, Awaiting, ClosedUndecided int
	// AcceptedShare is Accepted of the leads decided (Accepted + Rejected);
	// Decided is false when none was.
	AcceptedShare float64
	Decided       bool
	// ByCategory counts the rejections that sent leads back, by category;
	// TopDetail is each category's most frequent detail.
	ByCategory map[RejectCategory]int
	TopDetail  map[RejectCategory]string
	// Unreachable counts leads returned as unable to reach.
	Unreachable int
	// Misroutes counts wrong-owner rejections; MisroutesByRule by the rule
	// that routed the lead.
	Misroutes       int
	MisroutesByRule map[string]int
	// Contested counts rejections Marketing contested: Upheld and
	// Overturned decided, ContestPending not yet. An overturned rejection
	// does not count as one: its lead went back to the rep, accepted.
	Contested, Upheld, Overturned, ContestPending int
	// FeedbackYes counts cards that had what the rep needed; CardMissing
	// those that lacked something, MissingByWhat by what.
	FeedbackYes, CardMissing int
	MissingByWhat            map[string]int
}

// Quality is a period's figures, by source when asked, then for all.
type Quality struct {
	Target float64
	Groups []QualityFigures
	All    QualityFigures
}

// ComputeQuality counts facts (leads handed off in the period) as of now,
// by source when bySource.
func ComputeQuality(facts []QualityFacts, bySource bool, target float64) Quality {
	var group func(*Lead) string
	if bySource {
		group = func(l *Lead) string {
			if l.Source == "" {
				return "(no source)"
			}
			return l.Source
		}
	}
	return ComputeQualityBy(facts, group, target)
}

// QualityGroupOf groups leads as the scorecard grouped by by does, so
// quality figures can sit beside its rows.
func QualityGroupOf(p *Policy, by GroupBy) func(*Lead) string {
	bounds := ScoreBands(p)
	labels := ScoreBandLabels(bounds)
	return func(l *Lead) string {
		f := LeadFacts{Lead: *l}
		return scorecardKeysOf(p, &f).GroupOf(by, bounds, labels)
	}
}

// ComputeQualityBy counts facts as ComputeQuality does, by the group each
// lead falls in (nil: no groups, only all).
func ComputeQualityBy(facts []QualityFacts, group func(*Lead) string, target float64) Quality {
	groups := map[string]*qualityCounter{}
	all := newQualityCounter(AllGroup)
	for _, f := range facts {
		addQuality(all, f)
		if group != nil {
			name := group(&f.Lead)
			g := groups[name]
			if g == nil {
				g = newQualityCounter(name)
				groups[name] = g
			}
			addQuality(g, f)
		}
	}
	return finishQualityGroups(target, all, groups)
}

// finishQualityGroups finishes all and the groups, largest group first.
func finishQualityGroups(target float64, all *qualityCounter, groups map[string]*qualityCounter) Quality {
	if target <= 0 {
		target = DefaultAcceptedTarget
	}
	q := Quality{Target: target, All: finishQuality(all)}
	for _, g := range groups {
		q.Groups = append(q.Groups, finishQuality(g))
	}
	slices.SortFunc(q.Groups, func(a, b QualityFigures) int {
		return cmp.Or(cmp.Compare(b.SQLs, a.SQLs), cmp.Compare(a.Group, b.Group))
	})
	return q
}

// qualityCounter counts one group, with the details of its rejections.
type qualityCounter struct {
	QualityFigures
	details map[RejectCategory]map[string]int
}

func newQualityCounter(group string) *qualityCounter {
	return &qualityCounter{QualityFigures: QualityFigures{Group: group, ByCategory: map[RejectCategory]int{},
		TopDetail: map[RejectCategory]string{}, MisroutesByRule: map[string]int{}, MissingByWhat: map[string]int{}},
		details: map[RejectCategory]map[string]int{}}
}

func addQuality(g *qualityCounter, f QualityFacts) {
	l := &f.Lead
	g.SQLs++
	var final *RejectionFact
	for i, r := range f.Rejections {
		if r.Category == RejectWrongOwner {
			g.Misroutes++
			g.MisroutesByRule[l.Rule]++
			continue
		}
		switch r.Contest {
		case ContestPending:
			g.Contested++
			g.ContestPending++
		case ContestUpheld:
			g.Contested++
			g.Upheld++
		case ContestOverturned:
			g.Contested++
			g.Overturned++
			continue // the rejection did not stand
		}
		final = &f.Rejections[i]
	}
	switch {
	case f.Feedback == FeedbackYes:
		g.FeedbackYes++
	case f.Feedback != "":
		g.CardMissing++
		g.MissingByWhat[f.Feedback]++
	}
	switch {
	case final != nil:
		g.Rejected++
		g.ByCategory[final.Category]++
		if g.details[final.Category] == nil {
			g.details[final.Category] = map[string]int{}
		}
		g.details[final.Category][final.Detail]++
	case !l.AcknowledgedAt.IsZero() || !l.FirstTouchAt.IsZero():
		g.Accepted++
	case l.State.Open():
		g.Awaiting++
	default:
		g.ClosedUndecided++
	}
	if l.State == StateReturned && strings.HasPrefix(l.ReturnReason, ReturnReasonUnreachable) {
		g.Unreachable++
	}
}

func finishQuality(g *qualityCounter) QualityFigures {
	for cat, details := range g.details {
		best, n := "", 0
		for d, c := range details {
			if c > n || (c == n && d < best) {
				best, n = d, c
			}
		}
		g.TopDetail[cat] = best
	}
	if decided := g.Accepted + g.Rejected; decided > 0 {
		g.Decided = true
		g.AcceptedShare = float64(g.Accepted) / float64(decided)
	}
	return g.QualityFigures
}

// TopRejection is the category that sent back most leads (ties go to the
// first in the contract's order), with its most frequent detail; n is 0
// when nothing was rejected.
func (q QualityFigures) TopRejection() (category RejectCategory, detail string, n int) {
	for _, c := range []RejectCategory{RejectBadData, RejectNotOurBuyer, RejectDuplicate} {
		if q.ByCategory[c] > n {
			category, n = c, q.ByCategory[c]
		}
	}
	return category, q.TopDetail[category], n
}
