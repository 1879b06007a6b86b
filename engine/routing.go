package engine

import "time"

// Why a lead went to the rep it went to.
const (
	RoutedNamedOwner = "named_owner"   // the CRM named the owner and they are available
	RoutedRoundRobin = "round_robin"   // no owner named: the team's next turn
	RoutedOwnerAway  = "owner_away"    // the named owner is away: the team's next turn
	RoutedOwnerGone  = "owner_gone"    // the named owner is inactive: the team's next turn
	RoutedUnknown    = "owner_unknown" // the named owner is no rep of any team: the next turn
	RoutedNobody     = "nobody"        // no rep of the team is available
	RoutedExisting   = "existing"      // a repeat or linked lead stays with its owner
	// RoutedPreviousOwner: a returning contact goes back to the rep who
	// held their last lead (recycle.route_to: previous_owner).
	RoutedPreviousOwner = "previous_owner"
)

// Routing is the decision of who gets a lead.
type Routing struct {
	OwnerEmail string
	Team       string
	Reason     string
	// Cursor is the team's round-robin position after this decision; -1
	// when the round robin was not used.
	Cursor int
	// TellOps is set when ops must hear of the decision (an away, gone or
	// unknown owner, or nobody available).
	TellOps bool
}

// NextInRotation picks the first rep available at now after position cursor
// in reps (round-robin order), wrapping around. It returns the chosen index,
// or -1 when nobody is available.
func NextInRotation(reps []Rep, cursor int, now time.Time) int {
	n := len(reps)
	if n == 0 {
		return -1
	}
	start := cursor + 1
	if start < 0 || start >= n {
		start = 0
	}
	for i := range n {
		idx := (start + i) % n
		if reps[idx].Available(now) {
			return idx
		}
	}
	return -1
}

// Route decides who gets a new lead. named is the owner the CRM asked for
// ("" for none) and namedRep that rep's record (nil if unknown); team and
// reps are the team whose round robin applies, with its stored cursor.
func Route(named string, namedRep *Rep, team string, reps []Rep, cursor int, now time.Time) Routing {
	if named != "" && namedRep != nil && namedRep.Team != "" && namedRep.Available(now) {
		return Routing{OwnerEmail: namedRep.Email, Team: namedRep.Team, Reason: RoutedNamedOwner, Cursor: -1}
	}
	reason := RoutedRoundRobin
	switch {
	case named == "":
	case namedRep == nil || namedRep.Team == "":
		reason = RoutedUnknown
	case namedRep.Status == RepInactive:
		reason = RoutedOwnerGone
	default:
		reason = RoutedOwnerAway
	}
	idx := NextInRotation(reps, cursor, now)
	if idx < 0 {
		return Routing{Team: team, Reason: RoutedNobody, Cursor: -1, TellOps: true}
	}
	return Routing{OwnerEmail: reps[idx].Email, Team: team, Reason: reason, Cursor: idx, TellOps: reason != RoutedRoundRobin}
}

// RoutingExplanation says in words why a lead went where it went.
func RoutingExplanation(r Routing, named string) string {
	switch r.Reason {
	case RoutedNamedOwner:
		return "the CRM named " + r.OwnerEmail + " as the owner"
	case RoutedRoundRobin:
		return "it was " + r.OwnerEmail + "'s turn in " + r.Team + "'s round robin"
	case RoutedOwnerAway:
		return named + " is away, so it went to " + r.OwnerEmail + ", next in " + r.Team + "'s round robin"
	case RoutedOwnerGone:
		return named + " is no longer active, so it went to " + r.OwnerEmail + ", next in " + r.Team + "'s round robin"
	case RoutedUnknown:
		return named + " is not a rep in any team of the policy file, so it went to " + r.OwnerEmail + ", next in " + r.Team + "'s round robin"
	case RoutedNobody:
		return "nobody in " + r.Team + " is available to take it"
	case RoutedExisting:
		return "it stays with its current owner " + r.OwnerEmail
	case RoutedPreviousOwner:
		return "the contact came back, so it went back to " + r.OwnerEmail + ", who had it before"
	}
	return r.Reason
}
