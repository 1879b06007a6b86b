package main

import (
	"flag"
	"io"
	"testing"
	"time"
)

func TestAsOfDateIsTheEndOfTheDayOrNow(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		flag string
		want time.Time
	}{
		{"", now},
		{"2026-11-30", time.Date(2026, 12, 1, 0, 0, 0, 0, ny)},
		{"2026-12-07", now}, // today has not ended: now
		{"2027-01-01", now}, // a day to come: now
	} {
		got, err := asOfDate(tc.flag, now, ny)
		if err != nil {
			t.Errorf("%q: %v", tc.flag, err)
			continue
		}
		if !got.Equal(tc.want) {
			t.Errorf("%q: %v, want %v", tc.flag, got, tc.want)
		}
	}
	if _, err := asOfDate("30/11/2026", now, ny); err == nil {
		t.Error("an unreadable date was taken")
	}
}

// A command's flags are all it takes: a wrong flag or a word left over is
// refused with the usage shown.
func TestParseFlagsRefusesWhatIsLeftOver(t *testing.T) {
	cases := []struct {
		args      []string
		ok, usage bool
	}{
		{nil, true, false},
		{[]string{"--months", "3"}, true, false},
		{[]string{"--months", "3", "extra"}, false, true},
		{[]string{"--bogus"}, false, true},
	}
	for _, c := range cases {
		var usage bool
		fs := flag.NewFlagSet("review", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Int("months", 6, "")
		fs.Usage = func() { usage = true }
		if ok := parseFlags(fs, c.args); ok != c.ok || usage != c.usage {
			t.Errorf("parseFlags(%q) = %v with usage shown %v; want %v and %v", c.args, ok, usage, c.ok, c.usage)
		}
	}
}
