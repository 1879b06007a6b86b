package bot

import (
	"testing"
	"time"
)

func TestRelativeTimeReadsLikeACountdown(t *testing.T) {
	now := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "now"},
		{40 * time.Second, "in 40 s"},
		{40*time.Second + 900*time.Millisecond, "in 40 s"}, // a countdown does not round up
		{-40 * time.Second, "40 s ago"},
		{14*time.Minute + 20*time.Second, "in 14 min"},
		{2*time.Hour + 5*time.Minute, "in 2 h 5 min"},
		{-3 * time.Hour, "3 h ago"},
		{72 * time.Hour, "in 3 days"},
		{59 * time.Hour, "in 2 days"}, // beyond two days, whole days
		{-60 * time.Hour, "3 days ago"},
	}
	for _, c := range cases {
		if got := relative(now.Add(c.d), now); got != c.want {
			t.Errorf("relative(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestMoneyAndThousands(t *testing.T) {
	if got := money(25000); got != "$25,000" {
		t.Errorf("money = %q", got)
	}
	if got := thousands(1200); got != "1,200" {
		t.Errorf("thousands = %q", got)
	}
}
