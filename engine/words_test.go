package engine

import "testing"

func TestAndListJoinsLikeASentence(t *testing.T) {
	tests := []struct {
		items []string
		want  string
	}{
		{nil, ""},
		{[]string{"sdr-east"}, "sdr-east"},
		{[]string{"sdr-east", "sdr-west"}, "sdr-east and sdr-west"},
		{[]string{"call", "email", "meeting"}, "call, email and meeting"},
	}
	for _, tt := range tests {
		if got := AndList(tt.items); got != tt.want {
			t.Errorf("AndList(%q) = %q, want %q", tt.items, got, tt.want)
		}
	}
}
