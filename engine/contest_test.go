package engine

import (
	"strings"
	"testing"
	"time"
)

func TestTheQualitySectionNamesWhoMayContestAndForHowLong(t *testing.T) {
	const base = "teams: [{name: a, manager: m@example.com, reps: [r@example.com]}]\nrules: [{name: d, first_touch: 4h}]\n"
	tests := []struct {
		name, yaml string
		want       QualityConfig
		problem    string
	}{
		{"absent: contesting is off", "", QualityConfig{}, ""},
		{"a channel and a person", "quality: {contest_within: 3d, contesters: [\"#marketing\", Mia@Example.com]}",
			QualityConfig{ContestWithin: 3 * 24 * time.Hour, Contesters: []string{"mia@example.com"}, ContestChannel: "#marketing"}, ""},
		{"one person, the default window", "quality: {contesters: mia@example.com}",
			QualityConfig{ContestWithin: DefaultContestWithin, Contesters: []string{"mia@example.com"}}, ""},
		{"a Teams channel", "quality: {contesters: [\"Marketing/Leads\"]}",
			QualityConfig{ContestWithin: DefaultContestWithin, ContestChannel: "Marketing/Leads"}, ""},
		{"a window without contesters", "quality: {contest_within: 5d}", QualityConfig{}, "quality.contesters: is missing"},
		{"two channels", "quality: {contesters: [\"#a\", \"#b\"]}", QualityConfig{}, "names a second channel"},
		{"a bad email", "quality: {contesters: [mia@]}", QualityConfig{}, "is not an email address"},
		{"a misspelt key", "quality: {contest_whithin: 5d, contesters: [\"#m\"]}", QualityConfig{}, "contest_whithin"},
		{"a window of nothing", "quality: {contest_within: 0d, contesters: [\"#m\"]}", QualityConfig{}, "quality.contest_within"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, probs := ParsePolicy([]byte(base+tt.yaml+"\n"), policyNow)
			if tt.problem != "" {
				if !strings.Contains(probs.Error(), tt.problem) {
					t.Fatalf("problems %q, want one about %q", probs.Error(), tt.problem)
				}
				return
			}
			if p == nil || probs.Error() != "" {
				t.Fatalf("problems: %v", probs)
			}
			got := p.Quality
			if got.ContestWithin != tt.want.ContestWithin || got.ContestChannel != tt.want.ContestChannel ||
				strings.Join(got.Contesters, ",") != strings.Join(tt.want.Contesters, ",") {
				t.Errorf("quality %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestContestOfFollowsARejectionToItsDecision(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	events := []Event{
		{ID: 1, Kind: EventRejected, At: at, Data: map[string]any{"category": "wrong_owner"}},
		{ID: 2, Kind: EventRejected, At: at, Data: map[string]any{"category": "bad_data", "detail": "phone"}},
		{ID: 3, Kind: EventContested, At: at, Actor: "mia@example.com", Data: map[string]any{"rejection": float64(2)}},
		{ID: 4, Kind: EventContestDecided, At: at, Actor: "m@example.com", Data: map[string]any{"contest": float64(3), "decision": ContestOverturned}},
		{ID: 5, Kind: EventRejected, At: at, Data: map[string]any{"category": "duplicate", "detail": "x"}},
	}
	if _, ok := ContestOf(events, 1); ok {
		t.Error("a wrong owner's rejection is contestable; it re-routed the lead")
	}
	st, ok := ContestOf(events, 2)
	if !ok || st.Contest.ID != 3 || st.Decided.ID != 4 || st.Decision != ContestOverturned {
		t.Errorf("rejection 2: %+v", st)
	}
	last, ok := ContestOf(events, 0)
	if !ok || last.Rejection.ID != 5 || last.Decision != "" {
		t.Errorf("the last rejection: %+v", last)
	}
	st, _ = ContestOf(events[:3], 2)
	if st.Decision != ContestPending {
		t.Errorf("contested, undecided: %q", st.Decision)
	}
}

func TestQualityCountsContestsAndCardFeedbackKeepingEachLeadInOnePlace(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	returned := Lead{Source: "web", State: StateReturned, AssignedAt: at}
	back := Lead{Source: "web", State: StateAcknowledged, AssignedAt: at, AcknowledgedAt: at.Add(time.Hour)}
	facts := []QualityFacts{
		{Lead: returned, Rejections: []RejectionFact{{EventID: 1, Category: RejectBadData, Detail: "phone", Contest: ContestUpheld}}},
		{Lead: back, Rejections: []RejectionFact{{EventID: 2, Category: RejectBadData, Detail: "email", Contest: ContestOverturned}}},
		{Lead: returned, Rejections: []RejectionFact{{EventID: 3, Category: RejectNotOurBuyer, Detail: "student", Contest: ContestPending}}},
		{Lead: returned, Rejections: []RejectionFact{{EventID: 4, Category: RejectNotOurBuyer, Detail: "student"}}},
		{Lead: Lead{Source: "web", State: StateWorking, FirstTouchAt: at}, Feedback: FeedbackYes},
		{Lead: Lead{Source: "web", State: StateWorking, FirstTouchAt: at}, Feedback: "budget"},
		{Lead: Lead{Source: "web", State: StateWorking, FirstTouchAt: at}, Feedback: "budget"},
	}
	g := ComputeQuality(facts, false, 0).All
	if g.Accepted+g.Rejected+g.Awaiting+g.ClosedUndecided != g.SQLs || g.SQLs != 7 {
		t.Fatalf("%d + %d + %d + %d is not %d SQLs", g.Accepted, g.Rejected, g.Awaiting, g.ClosedUndecided, g.SQLs)
	}
	if g.Accepted != 4 || g.Rejected != 3 {
		t.Errorf("accepted %d, rejected %d; want 4 (the overturned one among them) and 3", g.Accepted, g.Rejected)
	}
	if g.Contested != 3 || g.Upheld != 1 || g.Overturned != 1 || g.ContestPending != 1 {
		t.Errorf("contested %d: %d upheld, %d overturned, %d pending", g.Contested, g.Upheld, g.Overturned, g.ContestPending)
	}
	if g.ByCategory[RejectBadData] != 1 || g.ByCategory[RejectNotOurBuyer] != 2 {
		t.Errorf("by category %v: the overturned rejection counts in none", g.ByCategory)
	}
	if cat, detail, n := g.TopRejection(); cat != RejectNotOurBuyer || detail != "student" || n != 2 {
		t.Errorf("top rejection %s (%s) %d, want not our buyer (student) 2", cat, detail, n)
	}
	if g.FeedbackYes != 1 || g.CardMissing != 2 || g.MissingByWhat["budget"] != 2 {
		t.Errorf("feedback: %d yes, %d missing %v", g.FeedbackYes, g.CardMissing, g.MissingByWhat)
	}
}

func TestThePolicySummarySaysWhoMayContest(t *testing.T) {
	p, probs := ParsePolicy([]byte("teams: [{name: a, manager: m@example.com, reps: [r@example.com]}]\nrules: [{name: d, first_touch: 4h}]\n"+
		"quality: {contest_within: 3d, contesters: [\"#marketing\", mia@example.com]}\n"), policyNow)
	if p == nil {
		t.Fatal(probs)
	}
	want := "Marketing may contest a rejection within 3 days (anyone outside Sales in #marketing and mia@example.com); the rep's manager decides."
	if got := p.Summary(); !strings.Contains(got, want) {
		t.Errorf("the summary does not say %q:\n%s", want, got)
	}
}
