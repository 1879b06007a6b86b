package engine

import (
	"slices"
	"testing"
)

func TestABreachCountsForTheTeamItRecords(t *testing.T) {
	p := &Policy{Teams: []Team{
		{Name: "sdr-east", Reps: []string{"ana@example.com"}},
		{Name: "sdr-west", Reps: []string{"bo@example.com"}},
	}}
	tests := []struct {
		name   string
		policy *Policy
		breach Breach
		lead   Lead
		want   string
	}{
		{"the team recorded on the breach", p, Breach{Team: "emea", RepEmail: "ana@example.com"},
			Lead{Team: "sdr-west", OwnerEmail: "bo@example.com"}, "emea"},
		{"the policy's team of the rep it names", p, Breach{RepEmail: "ana@example.com"},
			Lead{Team: "sdr-west", OwnerEmail: "bo@example.com"}, "sdr-east"},
		{"no team for a rep the policy has no more", p, Breach{RepEmail: "gone@example.com"},
			Lead{Team: "sdr-west", OwnerEmail: "bo@example.com"}, ""},
		{"the lead's team when the breach names nobody", p, Breach{},
			Lead{Team: "sdr-west", OwnerEmail: "ana@example.com"}, "sdr-west"},
		{"the owner's team when the lead has none", p, Breach{},
			Lead{OwnerEmail: "ana@example.com"}, "sdr-east"},
		{"no policy, a rep named", nil, Breach{RepEmail: "ana@example.com"},
			Lead{Team: "sdr-west"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := breachTeam(tt.policy, tt.breach, &tt.lead); got != tt.want {
				t.Errorf("breachTeam = %q, want %q", got, tt.want)
			}
			// The figures kept per lead and the scope's own test agree.
			figures := FiguresOf(tt.policy, &LeadFacts{Lead: tt.lead, Breaches: []Breach{tt.breach}})
			inTeam := Scope{Kind: ScopeTeam, Team: tt.want}.hasBreach(tt.policy, tt.breach, &tt.lead)
			if tt.want != "" && (!inTeam || figures.Breaches[0].TeamKey != scopeKey(tt.want)) {
				t.Errorf("scope says in team %v, figures keep team key %q; want both %q", inTeam, figures.Breaches[0].TeamKey, tt.want)
			}
		})
	}
}

func TestScopeRepsAreWhomAScopesFiguresDrawOn(t *testing.T) {
	p := &Policy{Teams: []Team{{Name: "sdr-east", Reps: []string{"ana@example.com", " Bo@Example.com"}}}}
	tests := []struct {
		name   string
		policy *Policy
		scope  Scope
		want   []string
	}{
		{"a rep, as Scope compares them", p, Scope{Kind: ScopeRep, Rep: " Ana@Example.com "}, []string{"ana@example.com"}},
		{"a rep without a policy", nil, Scope{Kind: ScopeRep, Rep: "ana@example.com"}, []string{"ana@example.com"}},
		{"a team's reps in the policy", p, Scope{Kind: ScopeTeam, Team: " SDR-East"}, []string{"ana@example.com", "bo@example.com"}},
		{"a team the policy does not have", p, Scope{Kind: ScopeTeam, Team: "emea"}, nil},
		{"a team without a policy", nil, Scope{Kind: ScopeTeam, Team: "sdr-east"}, nil},
		{"everyone: no narrowing", p, Scope{Kind: ScopeAll}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ScopeReps(tt.policy, tt.scope); !slices.Equal(got, tt.want) {
				t.Errorf("ScopeReps = %q, want %q", got, tt.want)
			}
		})
	}
}
