package engine

// Lead quality counted where the leads are: storage groups a period's
// leads into classes that quality cannot tell apart (same source, rule,
// outcome, final rejection, feedback, …) and ComputeQualityClasses counts
// each class once, weighted by its leads, as ComputeQuality counts leads.

// The four places a handed-off lead ends in (see ComputeQuality).
const (
	QualityAccepted        = "accepted"
	QualityRejected        = "rejected"
	QualityAwaiting        = "awaiting"
	QualityClosedUndecided = "closed_undecided"
)

// QualityClass is Leads leads that count alike in lead quality.
type QualityClass struct {
	// Source and Rule are the leads' as stored.
	Source, Rule string
	// Outcome is QualityAccepted, QualityRejected, QualityAwaiting or
	// QualityClosedUndecided; Category and Detail are the rejection that
	// stands when QualityRejected.
	Outcome  string
	Category RejectCategory
	Detail   string
	// Feedback is the card's answer ("" for none); Unreachable whether the
	// leads were returned as unable to reach.
	Feedback    string
	Unreachable bool
	Leads       int
	// The class's rejections, summed over its leads: wrong-owner ones
	// (Misroutes), and the contests on the others by where they stand.
	Misroutes, ContestPending, Upheld, Overturned int
}

// ComputeQualityClasses counts classes as ComputeQuality counts the leads
// they stand for, by source when bySource.
func ComputeQualityClasses(classes []QualityClass, bySource bool, target float64) Quality {
	var group func(*QualityClass) string
	if bySource {
		group = func(c *QualityClass) string {
			if c.Source == "" {
				return "(no source)"
			}
			return c.Source
		}
	}
	counters := map[string]*qualityCounter{}
	all := newQualityCounter(AllGroup)
	for i := range classes {
		c := &classes[i]
		addQualityClass(all, c)
		if group != nil {
			name := group(c)
			g := counters[name]
			if g == nil {
				g = newQualityCounter(name)
				counters[name] = g
			}
			addQualityClass(g, c)
		}
	}
	return finishQualityGroups(target, all, counters)
}

func addQualityClass(g *qualityCounter, c *QualityClass) {
	n := c.Leads
	g.SQLs += n
	g.Misroutes += c.Misroutes
	if c.Misroutes > 0 {
		g.MisroutesByRule[c.Rule] += c.Misroutes
	}
	g.ContestPending += c.ContestPending
	g.Upheld += c.Upheld
	g.Overturned += c.Overturned
	g.Contested += c.ContestPending + c.Upheld + c.Overturned
	switch {
	case c.Feedback == FeedbackYes:
		g.FeedbackYes += n
	case c.Feedback != "":
		g.CardMissing += n
		g.MissingByWhat[c.Feedback] += n
	}
	switch c.Outcome {
	case QualityRejected:
		g.Rejected += n
		g.ByCategory[c.Category] += n
		if g.details[c.Category] == nil {
			g.details[c.Category] = map[string]int{}
		}
		g.details[c.Category][c.Detail] += n
	case QualityAccepted:
		g.Accepted += n
	case QualityAwaiting:
		g.Awaiting += n
	default:
		g.ClosedUndecided += n
	}
	if c.Unreachable {
		g.Unreachable += n
	}
}
