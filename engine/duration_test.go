package engine

import (
	"strings"
	"testing"
	"time"
)

func TestParseDurationAcceptsWhatPeopleWriteInThePolicy(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"90s", 90 * time.Second},
		{"15m", 15 * time.Minute},
		{"4h", 4 * time.Hour},
		{"15d", 15 * 24 * time.Hour},
		{"2w", 14 * 24 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"1h 30m", 90 * time.Minute},
		{"1d12h", 36 * time.Hour},
		{" 4h ", 4 * time.Hour},
		{"4 h", 4 * time.Hour},
		{"0", 0},
		{"0m", 0},
		{"+5m", 5 * time.Minute},
		{"1.5h", 90 * time.Minute},
		{"0.1h", 6 * time.Minute},
		{".5d", 12 * time.Hour},
		{"500ms", 500 * time.Millisecond},
		{"2h45m30.5s", 2*time.Hour + 45*time.Minute + 30*time.Second + 500*time.Millisecond},
		{"1us", time.Microsecond},
		{"1µs", time.Microsecond},
		{"7ns", 7},
		{"15000w", 15000 * 7 * 24 * time.Hour},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if err != nil {
			t.Errorf("ParseDuration(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseDurationAcceptsEveryUnsignedGoDuration(t *testing.T) {
	for _, s := range []string{"300ms", "1.5h", "2h45m", "1h0m0s", "3.000000001s", "0.000001ms", "10s"} {
		want, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseDuration(s)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; Go says %v", s, got, err, want)
		}
	}
}

func TestParseDurationRejectsWithAMessageASalesOpsPersonUnderstands(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `a duration is missing: write a number followed by s, m, h, d or w, like 15m or 4h`},
		{"   ", `a duration is missing: write a number followed by s, m, h, d or w, like 15m or 4h`},
		{"4 hours", `"4 hours" is not a duration: write a number followed by s, m, h, d or w, like 15m or 4h`},
		{"4hours", `"4hours" is not a duration: write a number followed by s, m, h, d or w, like 15m or 4h`},
		{"1mo", `"1mo" is not a duration: write a number followed by s, m, h, d or w, like 15m or 4h`},
		{"1y", `"1y" is not a duration: write a number followed by s, m, h, d or w, like 15m or 4h`},
		{"h", `"h" is not a duration: write a number followed by s, m, h, d or w, like 15m or 4h`},
		{"soon", `"soon" is not a duration: write a number followed by s, m, h, d or w, like 15m or 4h`},
		{"15", `"15" has no unit after 15: write 15m for minutes, 15h for hours or 15d for days`},
		{"4h30", `"4h30" has no unit after 30: write 30m for minutes, 30h for hours or 30d for days`},
		{"-5m", `"-5m" is negative: a duration counts forward from the hand-off, like 15m or 4h`},
		{"99999999999w", `"99999999999w" is too long: slabot counts durations up to about 292 years (15,000 weeks)`},
		{"15300w", `"15300w" is too long: slabot counts durations up to about 292 years (15,000 weeks)`},
		{"15000w15000w", `"15000w15000w" is too long: slabot counts durations up to about 292 years (15,000 weeks)`},
		{"99999999999999999999999s", `"99999999999999999999999s" is too long: slabot counts durations up to about 292 years (15,000 weeks)`},
	}
	for _, tt := range tests {
		_, err := ParseDuration(tt.in)
		if err == nil {
			t.Errorf("ParseDuration(%q) succeeded, want an error", tt.in)
			continue
		}
		if ErrorCode(err) != EINVALID {
			t.Errorf("ParseDuration(%q): code %q, want %q", tt.in, ErrorCode(err), EINVALID)
		}
		if got := ErrorMessage(err); got != tt.want {
			t.Errorf("ParseDuration(%q) message\n got: %s\nwant: %s", tt.in, got, tt.want)
		}
	}
}

func TestFormatDurationWritesForPeople(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0 minutes"},
		{15 * time.Minute, "15 minutes"},
		{time.Minute, "1 minute"},
		{4 * time.Hour, "4 hours"},
		{time.Hour, "1 hour"},
		{90 * time.Minute, "1 hour 30 minutes"},
		{24 * time.Hour, "1 day"},
		{36 * time.Hour, "1 day 12 hours"},
		{15 * 24 * time.Hour, "15 days"},
		{7 * 24 * time.Hour, "1 week"},
		{14 * 24 * time.Hour, "2 weeks"},
		{90 * time.Second, "1 minute 30 seconds"},
		{time.Second, "1 second"},
		{500 * time.Millisecond, "500 milliseconds"},
		{time.Microsecond, "less than a millisecond"},
		{-15 * time.Minute, "minus 15 minutes"},
		{time.Hour + 500*time.Millisecond, "1 hour"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.in); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// The extremes must not panic.
	_ = FormatDuration(time.Duration(-1 << 63))
	_ = FormatDuration(time.Duration(1<<63 - 1))
}

func TestFormattedDurationsOfWholeUnitsParseBack(t *testing.T) {
	for _, s := range []string{"15m", "4h", "1h30m", "15d", "2w", "90s", "1d12h"} {
		d, err := ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		compact := compactDuration(d)
		back, err := ParseDuration(compact)
		if err != nil || back != d {
			t.Errorf("%s → %s → %v, %v", s, compact, back, err)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"15m", "4h", "1h30m", "15d", "2w", "90s", "4 hours", "", "-5m", "1.5h",
		"99999999999w", "0", ".", "1..5h", "µs", "3µs", "1e9s", "0x10m", "1h-30m", "\x00", "9223372036854775807ns", "9223372036854775808ns"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if strings.TrimSpace(ErrorMessage(err)) == "" {
				t.Fatalf("ParseDuration(%q): rejection without a message", s)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v: negative", s, d)
		}
		// Whatever Go accepts, without a sign, must agree to the nanosecond
		// except where Go rounds long fractions differently.
		if g, gerr := time.ParseDuration(strings.TrimSpace(s)); gerr == nil && g >= 0 && !strings.ContainsAny(s, "dw ") {
			if diff := g - d; diff > time.Microsecond || diff < -time.Microsecond {
				t.Fatalf("ParseDuration(%q) = %v, Go says %v", s, d, g)
			}
		}
		_ = FormatDuration(d)
	})
}

func TestRoughDurationIsForCountdowns(t *testing.T) {
	tests := map[time.Duration]string{
		4*24*time.Hour + 5*time.Hour:   "4 days",
		14*24*time.Hour + 23*time.Hour: "15 days", // a fresh 15-day window, seconds in
		35 * time.Hour:                 "35 hours",
		37 * time.Hour:                 "2 days",
		2 * time.Hour:                  "2 hours",
		89 * time.Minute:               "89 minutes",
		119 * time.Minute:              "2 hours",
		time.Minute:                    "1 minute",
		30 * time.Second:               "less than a minute",
		0:                              "no time",
	}
	for d, want := range tests {
		if got := roughDuration(d); got != want {
			t.Errorf("roughDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFormatDurationShortIsForChatLines(t *testing.T) {
	tests := map[time.Duration]string{
		0:                               "0 s",
		30 * time.Second:                "30 s",
		12 * time.Minute:                "12 min",
		12*time.Minute + 30*time.Second: "13 min",
		time.Hour:                       "1 h",
		125 * time.Minute:               "2 h 5 min",
		48*time.Hour - 15*time.Second:   "48 h",
		72 * time.Hour:                  "3 days",
		76 * time.Hour:                  "3 days 4 h",
		76*time.Hour + 40*time.Minute:   "3 days 5 h",
	}
	for d, want := range tests {
		if got := FormatDurationShort(d); got != want {
			t.Errorf("FormatDurationShort(%v) = %q, want %q", d, got, want)
		}
	}
}
