package engine

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// This file reads durations as the policy file writes them (ParseDuration)
// and writes them for people: in words (FormatDuration), in the short units
// of a chat line (FormatDurationShort), coarsely for countdowns
// (roughDuration) and back in the policy file's syntax (compactDuration).

// durDay and durWeek are the calendar units the policy file adds to Go's own.
// A day is always 24 hours here: whether those hours are business hours is
// the calendar's job, not the duration's.
const (
	durDay  = 24 * time.Hour
	durWeek = 7 * durDay
)

// durationHint ends every rejection so that the reader knows what to write
// instead, whatever went wrong.
const durationHint = "write a number followed by s, m, h, d or w, like 15m or 4h"

// durationUnits are the units ParseDuration accepts. The sub-second units are
// there so that anything Go's time.ParseDuration accepts keeps working.
var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond,
	"us": time.Microsecond,
	"µs": time.Microsecond, // U+00B5 micro sign
	"μs": time.Microsecond, // U+03BC Greek mu
	"ms": time.Millisecond,
	"s":  time.Second,
	"m":  time.Minute,
	"h":  time.Hour,
	"d":  durDay,
	"w":  durWeek,
}

// ParseDuration reads a duration as people write it in the policy file:
// one or more parts of a number and a unit, with the units s, m, h, d (24
// hours) and w (7 days), such as "90s", "15m", "4h", "15d", "2w" or "1h30m".
// Parts may be separated by spaces ("1h 30m") and may have a decimal
// fraction ("1.5h"); Go's own units ns, us, ms are accepted too, so every
// string time.ParseDuration accepts without a sign is accepted here.
//
// "0" and "0m" are accepted: whether zero makes sense is the caller's call.
// Empty strings, negative durations, numbers without a unit, unknown units
// and durations too long to represent (over about 292 years) are rejected
// with an EINVALID *Error whose message tells a person what to write.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, Errorf(EINVALID, "a duration is missing: %s", durationHint)
	}
	if s[0] == '-' {
		return 0, Errorf(EINVALID, "%q is negative: a duration counts forward from the hand-off, like 15m or 4h", orig)
	}
	if s[0] == '+' {
		s = strings.TrimSpace(s[1:])
	}
	if s == "0" {
		return 0, nil
	}

	var total time.Duration
	for s != "" {
		// The number: digits, optionally a fraction.
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		intPart := s[:i]
		fracPart := ""
		if i < len(s) && s[i] == '.' {
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			fracPart = s[i+1 : j]
			i = j
		}
		if intPart == "" && fracPart == "" {
			return 0, Errorf(EINVALID, "%q is not a duration: %s", orig, durationHint)
		}
		number := s[:i]
		s = strings.TrimLeft(s[i:], " \t")

		// The unit: everything up to the next digit or space.
		j := 0
		for j < len(s) && !(s[j] >= '0' && s[j] <= '9') && s[j] != '.' && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		unitName := s[:j]
		s = strings.TrimLeft(s[j:], " \t")
		if unitName == "" {
			return 0, Errorf(EINVALID, "%q has no unit after %s: write %sm for minutes, %sh for hours or %sd for days", orig, number, number, number, number)
		}
		unit, ok := durationUnits[unitName]
		if !ok {
			return 0, Errorf(EINVALID, "%q is not a duration: %s", orig, durationHint)
		}

		part, ok := durationPart(intPart, fracPart, unit)
		if !ok || total > math.MaxInt64-part {
			return 0, Errorf(EINVALID, "%q is too long: slabot counts durations up to about 292 years (15,000 weeks)", orig)
		}
		total += part
	}
	return total, nil
}

// durationPart returns (intPart.fracPart) × unit, or false on overflow.
// It works in integers so that "0.1h" is exactly 6 minutes.
func durationPart(intPart, fracPart string, unit time.Duration) (time.Duration, bool) {
	var n int64
	for _, c := range intPart {
		if n > (math.MaxInt64-9)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if n > math.MaxInt64/int64(unit) {
		return 0, false
	}
	v := n * int64(unit)
	// The fraction: read at most as many digits as can still change the
	// result (a unit is at most a week, about 6e14 ns, so 16 digits suffice).
	var f, scale int64 = 0, 1
	for _, c := range fracPart {
		if scale > 1e16 {
			break
		}
		f = f*10 + int64(c-'0')
		scale *= 10
	}
	if f > 0 {
		// f/scale × unit without overflowing: unit ≤ 6.048e14 and f < scale ≤ 1e17
		// could overflow, so use float64 for the product and accept its rounding
		// below a nanosecond's worth of precision loss on huge fractions.
		frac := int64(float64(f) * (float64(unit) / float64(scale)))
		if v > math.MaxInt64-frac {
			return 0, false
		}
		v += frac
	}
	return time.Duration(v), true
}

// FormatDuration writes d for people: "15 minutes", "4 hours", "1 hour 30
// minutes", "15 days", "2 weeks". Weeks are used only for whole weeks, so 15
// days stays "15 days" as the agreement says it. Seconds are shown only
// when present; under a second it says "less than a second" (or the
// milliseconds when there are any). A negative d is written "minus …".
func FormatDuration(d time.Duration) string {
	if d < 0 {
		if d == math.MinInt64 {
			d++ // -MinInt64 overflows; a nanosecond does not matter here
		}
		return "minus " + FormatDuration(-d)
	}
	switch {
	case d == 0:
		return "0 minutes"
	case d < time.Millisecond:
		return "less than a millisecond"
	case d < time.Second:
		return countNoun(int64(d/time.Millisecond), "millisecond")
	case d%durWeek == 0:
		return countNoun(int64(d/durWeek), "week")
	}
	var parts []string
	for _, u := range writtenUnits {
		if n := d / u.size; n > 0 && u.size != durWeek { // weeks only when whole, above
			parts = append(parts, countNoun(int64(n), u.long))
			d -= n * u.size
		}
	}
	return strings.Join(parts, " ")
}

// FormatDurationShort writes d in the short units of a chat line, to two
// units at most: "45 s", "12 min", "2 h 5 min", "3 days 4 h". It rounds to
// its last unit: seconds under a minute, minutes under an hour, whole
// minutes under two days and whole hours beyond.
func FormatDurationShort(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute)/time.Minute))
	case d < 2*durDay:
		d = d.Round(time.Minute)
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	d = d.Round(time.Hour)
	days, h := int(d/durDay), int(d%durDay/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%d days", days)
	}
	return fmt.Sprintf("%d days %d h", days, h)
}

// roughDuration writes d coarsely, for countdowns where minutes do not
// matter once days are left: "4 days", "5 hours", "12 minutes".
func roughDuration(d time.Duration) string {
	switch {
	// Rounded to the nearest unit: 14 days 23 hours reads as 15 days.
	case d >= 2*durDay-durDay/2:
		return countNoun(int64((d+durDay/2)/durDay), "day")
	case d >= 2*time.Hour-30*time.Minute:
		return countNoun(int64((d+30*time.Minute)/time.Hour), "hour")
	case d >= time.Minute:
		return countNoun(int64((d+30*time.Second)/time.Minute), "minute")
	case d > 0:
		return "less than a minute"
	}
	return "no time"
}

// compactDuration writes d the way the policy file does: "8h", "7h30m".
func compactDuration(d time.Duration) string {
	var b strings.Builder
	for _, u := range writtenUnits {
		if n := d / u.size; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.short)
			d -= n * u.size
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}

// writtenUnits are the units FormatDuration and compactDuration write,
// largest first, with their names in words and in the policy file.
var writtenUnits = []struct {
	size        time.Duration
	long, short string
}{
	{durWeek, "week", "w"},
	{durDay, "day", "d"},
	{time.Hour, "hour", "h"},
	{time.Minute, "minute", "m"},
	{time.Second, "second", "s"},
}

// countNoun writes "1 hour" or "3 hours".
func countNoun(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
