package engine

import (
	"strings"
	"testing"
)

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

func TestQuoteShowsAValueCleanShortAndQuoted(t *testing.T) {
	tests := []struct{ in, want string }{
		{"stauts", `"stauts"`},
		{"  padded\t", `"padded"`},
		{"two\nlines", `"two lines"`},
		{"`code` here", `"code here"`},
		{`say "hi"`, `"say \"hi\""`},
		{"<@U1>&", `"<@U1>&"`},
		{strings.Repeat("x", 80), `"` + strings.Repeat("x", 59) + `…"`},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
