package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
)

// What one lead brings to the figures of any period, worked out once with
// the policy, so that storage can keep it per lead and count it with SQL
// aggregates instead of loading every lead of a period into memory.
//
// Nothing here depends on now or on the period: the parts of
// ComputeAttainment that do (a touch not yet made, a deadline not yet
// passed, a cadence window still open, the period's cut-off) are left to
// the query, which has now and the period. Each field says which part of
// ComputeAttainment it replaces; storage's oracle tests compare both on
// generated histories.

// LeadFigures is one lead's policy-dependent, now-independent facts.
type LeadFigures struct {
	LeadID int64
	// OwnerKey and TeamKey are the current owner's email and the lead's team
	// (leadTeam: the policy's team of the owner when the lead has none),
	// trimmed and lower-cased, as Scope compares them; HasOwner and HasTeam
	// whether they were set at all (Scope.has refuses "").
	OwnerKey, TeamKey string
	HasOwner, HasTeam bool
	State             LeadState
	ReceivedAt        time.Time
	AssignedAt        time.Time
	ClosedAt          time.Time
	Amount            float64
	// FirstTouchDue is firstTouchDue: zero when there is no assignment or rule.
	FirstTouchDue time.Time
	// FirstTouchBreached: a first-touch breach recorded for this assignment.
	FirstTouchBreached bool
	// FirstTouchAt is the earliest touch that answers the current
	// assignment, whenever it was made: firstTouch as of now is this one
	// when it is not after now, else none. Zero when there is none, or no
	// assignment. FirstTouchBusiness and FirstTouchWall are the delays to it.
	FirstTouchAt                       time.Time
	FirstTouchBusiness, FirstTouchWall time.Duration
	// RoutingDelay is HandedOffAt → AssignedAt when it counts
	// (HasRoutingDelay): both set and the lead never reassigned.
	RoutingDelay    time.Duration
	HasRoutingDelay bool
	// CadenceEnd is the end of the cadence window the lead owes for this
	// assignment; zero when its rule asks for no cadence or it is not
	// assigned. CadenceMetAt is the touch that completed the cadence inside
	// the window, whenever made; zero when there is none.
	CadenceEnd, CadenceMetAt time.Time
	// ReturnReason is the reason counted in ReturnsByReason when the lead
	// went back to Marketing (Returned); "no reason given" when none.
	Returned     bool
	ReturnReason string
	// Breaches are the lead's breaches, each with whom it counts for.
	Breaches []BreachFigures
	// Keys are what the scorecard groups the lead by.
	Keys ScorecardKeys
}

// BreachFigures is one breach as Attainment counts it.
type BreachFigures struct {
	At   time.Time
	Kind BreachKind
	// Rule is the breach's rule, or the lead's when it names none.
	Rule string
	// Rep is breachRep (lower-cased, the BreachesByRep key); RepKey and
	// TeamKey are the rep and team the breach counts for, trimmed and
	// lower-cased, as Scope.hasBreach finds them ("" for none).
	Rep, RepKey, TeamKey string
}

// FiguresOf works out f's figures under policy p (nil: no rules, 24×7).
func FiguresOf(p *Policy, f *LeadFacts) LeadFigures {
	l := &f.Lead
	team := leadTeam(p, l)
	g := LeadFigures{
		LeadID:   l.ID,
		OwnerKey: scopeKey(l.OwnerEmail), TeamKey: scopeKey(team),
		HasOwner: l.OwnerEmail != "", HasTeam: team != "",
		State: l.State, ReceivedAt: l.ReceivedAt, AssignedAt: l.AssignedAt, ClosedAt: l.ClosedAt, Amount: l.Amount,
		Keys: scorecardKeysOf(p, f),
	}
	if !l.AssignedAt.IsZero() {
		g.FirstTouchDue = firstTouchDue(p, l)
		for _, b := range f.Breaches {
			if b.Kind == BreachFirstTouch && !b.Due.Before(l.AssignedAt) {
				g.FirstTouchBreached = true
			}
		}
		// firstTouch with a now after every touch: the earliest one.
		if t, ok := firstTouch(f, latestOf(f)); ok {
			g.FirstTouchAt = t
			g.FirstTouchBusiness = p.CalendarForLead(l).Between(l.AssignedAt, t)
			g.FirstTouchWall = max(0, t.Sub(l.AssignedAt))
		}
	}
	if !l.HandedOffAt.IsZero() && !l.AssignedAt.IsZero() && !reassigned(f) {
		g.RoutingDelay, g.HasRoutingDelay = max(0, l.AssignedAt.Sub(l.HandedOffAt)), true
	}
	if r := ruleOf(p, l); r != nil && r.Touches.Count > 0 && r.Touches.Within > 0 && !l.AssignedAt.IsZero() {
		g.CadenceEnd = r.cadenceEnd(l.AssignedAt, p.leadZone(l))
		n := 0
		for _, t := range f.Touches {
			if !t.Before(l.AssignedAt) && t.Before(g.CadenceEnd) {
				if n++; n == r.Touches.Count {
					g.CadenceMetAt = t
					break
				}
			}
		}
	}
	if l.State == StateReturned || f.ReturnedReason != "" {
		reason := strings.TrimSpace(f.ReturnedReason)
		if reason == "" {
			reason = strings.TrimSpace(l.ReturnReason)
		}
		if reason == "" {
			reason = "no reason given"
		}
		g.Returned, g.ReturnReason = true, reason
	}
	for _, b := range f.Breaches {
		rule := b.Rule
		if rule == "" {
			rule = l.Rule
		}
		rep := breachRep(b, l)
		g.Breaches = append(g.Breaches, BreachFigures{At: b.At, Kind: b.Kind, Rule: rule, Rep: rep, RepKey: scopeKey(rep), TeamKey: scopeKey(breachTeam(p, b, l))})
	}
	return g
}

// latestOf is a time at or after every touch of f: firstTouch and the
// cadence ignore touches after now, and figures must see them all.
func latestOf(f *LeadFacts) time.Time {
	latest := f.Lead.FirstTouchAt
	for _, t := range f.Touches {
		if t.After(latest) {
			latest = t
		}
	}
	return latest
}

// scopeKey is how Scope compares a rep or a team: trimmed, without regard
// to case.
func scopeKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ScopeKey is the key of scope's rep or team as LeadFigures and
// BreachFigures store them; "" for ScopeAll.
func ScopeKey(s Scope) string {
	switch s.Kind {
	case ScopeRep:
		return scopeKey(s.Rep)
	case ScopeTeam:
		return scopeKey(s.Team)
	}
	return ""
}

// figuresVersion changes whenever FiguresOf works figures out differently,
// so that stored figures are worked out again.
const figuresVersion = 2 // 2: with the scorecard's keys (migration 0017)

// FiguresFingerprint names everything in p that FiguresOf reads: the rules
// (matching, first touch, cadence), the calendar and its zone, and the
// teams' reps. Figures kept under another fingerprint are out of date.
func FiguresFingerprint(p *Policy) string {
	var b strings.Builder
	fmt.Fprintf(&b, "figures v%d\n", figuresVersion)
	if p != nil {
		fmt.Fprintf(&b, "zone %q %s\n", p.TimezoneName, locName(p.Location))
		if c := p.Calendar; c != nil {
			b.WriteString("calendar " + calendarFingerprint(c) + "\n")
		}
		for _, t := range p.Teams {
			fmt.Fprintf(&b, "team %q %q\n", t.Name, t.Reps)
			// Only a team with its own calendar adds a line, so that the
			// fingerprint of a policy without any stays as it was.
			if t.Calendar != nil {
				fmt.Fprintf(&b, "team %q calendar %s\n", t.Name, calendarFingerprint(t.Calendar))
			}
		}
		for _, r := range p.Rules {
			minScore := "any"
			if r.Match.MinScore != nil {
				minScore = fmt.Sprint(*r.Match.MinScore)
			}
			fmt.Fprintf(&b, "rule %q %q %q %s %d %d %d %s\n", r.Name, r.Match.Source, r.Match.Segment, minScore,
				r.FirstTouch, r.Touches.Count, r.Touches.Within, locName(r.loc))
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// calendarFingerprint names everything about c that counts business time.
func calendarFingerprint(c *Calendar) string {
	holidays := make([]string, 0, len(c.holidays))
	for d, closed := range c.holidays {
		if closed {
			holidays = append(holidays, fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day))
		}
	}
	slices.Sort(holidays)
	return fmt.Sprintf("%s %v %v %v-%v %v", locName(c.loc), c.alwaysOpen, c.open, c.start, c.end, holidays)
}

func locName(loc *time.Location) string {
	if loc == nil {
		return "-"
	}
	return loc.String()
}
