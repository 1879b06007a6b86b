package engine

import (
	"strings"
)

// Whose figures: a rep's, a team's or everyone's, and which leads and
// breaches count for them.

// ScopeKind says whose attainment is measured.
type ScopeKind string

// The scopes of an attainment.
const (
	ScopeRep  ScopeKind = "rep"
	ScopeTeam ScopeKind = "team"
	ScopeAll  ScopeKind = "all"
)

// Scope selects the leads an attainment covers. Leads belong to their
// current owner (Lead.OwnerEmail) and that owner's team (Lead.Team, or the
// policy's team of the owner when the lead has none): a reassigned lead
// counts for the rep who holds it now. Breaches are the exception: a
// breach counts for the rep and team recorded on it, the owner when it
// happened, so a rep who inherits a breached lead does not inherit the blame.
// An empty Kind is ScopeAll.
type Scope struct {
	Kind ScopeKind
	// Rep is the rep's email for ScopeRep (compared without regard to case).
	Rep string
	// Team is the team's name for ScopeTeam (compared without regard to case).
	Team string
}

// String names the scope for people: "everyone", "ana@example.com",
// "team sdr-east".
func (s Scope) String() string {
	switch s.Kind {
	case ScopeRep:
		return strings.ToLower(strings.TrimSpace(s.Rep))
	case ScopeTeam:
		return "team " + strings.TrimSpace(s.Team)
	}
	return "everyone"
}

// ScopeReps are the reps whose leads and breaches a scope's figures can
// draw on, trimmed and lower-cased as Scope compares them: the rep of a
// ScopeRep, the policy's reps of a ScopeTeam's team, and none for
// ScopeAll or a team the policy does not have. A loader narrows what it
// reads to these reps' leads and breaches, and the scope's own team's.
func ScopeReps(p *Policy, s Scope) []string {
	switch s.Kind {
	case ScopeRep:
		return []string{scopeKey(s.Rep)}
	case ScopeTeam:
		if p == nil {
			return nil
		}
		t := p.Team(s.Team)
		if t == nil {
			return nil
		}
		reps := make([]string, 0, len(t.Reps))
		for _, r := range t.Reps {
			reps = append(reps, scopeKey(r))
		}
		return reps
	}
	return nil
}

// has reports whether a lead or breach held by owner in team is in scope.
func (s Scope) has(owner, team string) bool {
	switch s.Kind {
	case ScopeRep:
		return owner != "" && strings.EqualFold(strings.TrimSpace(owner), strings.TrimSpace(s.Rep))
	case ScopeTeam:
		return team != "" && strings.EqualFold(strings.TrimSpace(team), strings.TrimSpace(s.Team))
	}
	return true
}

// leadTeam is the lead's team, or the policy's team of its owner when the
// lead does not record one.
func leadTeam(p *Policy, l *Lead) string {
	if l.Team != "" || p == nil {
		return l.Team
	}
	if t := p.TeamOf(l.OwnerEmail); t != nil {
		return t.Name
	}
	return ""
}

func (s Scope) hasLead(p *Policy, l *Lead) bool { return s.has(l.OwnerEmail, leadTeam(p, l)) }

// hasBreach reports whether breach b on lead l is in scope: by the rep and
// team recorded on the breach, falling back to the lead's when the breach
// does not say.
func (s Scope) hasBreach(p *Policy, b Breach, l *Lead) bool {
	return s.has(breachRep(b, l), breachTeam(p, b, l))
}

// breachTeam is the team a breach counts for: the one recorded on it;
// else, when it names its rep, the policy's team of that rep; else the
// lead's team (leadTeam).
func breachTeam(p *Policy, b Breach, l *Lead) string {
	switch {
	case b.Team != "":
		return b.Team
	case b.RepEmail == "":
		return leadTeam(p, l)
	case p != nil:
		if t := p.TeamOf(b.RepEmail); t != nil {
			return t.Name
		}
	}
	return ""
}

func breachRep(b Breach, l *Lead) string {
	if b.RepEmail != "" {
		return strings.ToLower(b.RepEmail)
	}
	return strings.ToLower(l.OwnerEmail)
}
