package engine

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAPostIsRecordedAsSentToThePersonsEmailOrTheChannel(t *testing.T) {
	assigned := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	key := PostKey{Kind: "card", LeadID: 7, AssignedAt: assigned, Key: "job-1"}
	tests := []struct {
		name string
		to   Destination
		want MessageRef
	}{
		{"a person, by email", Destination{Person: &ChatIdentity{Email: "ana@example.com", UserID: "U1"}},
			MessageRef{Platform: PlatformTeams, LeadID: 7, Kind: "card", Recipient: "ana@example.com",
				Conversation: "a:1", MessageID: "m1", AssignedAt: assigned}},
		{"a channel, as the policy names it", Destination{Channel: "#sales-escalations"},
			MessageRef{Platform: PlatformTeams, LeadID: 7, Kind: "card", Recipient: "#sales-escalations",
				Conversation: "a:1", MessageID: "m1", AssignedAt: assigned}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := key.Ref(PlatformTeams, tt.to, "a:1", "m1")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Ref (-want +got):\n%s", diff)
			}
		})
	}
}
