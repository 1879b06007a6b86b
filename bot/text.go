package bot

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// relative says how far t is from now in a few words: "in 14 min",
// "5 min ago", "in 2 h 5 min", "in 3 days". A countdown does not round its
// seconds up, and beyond two days it counts whole days.
func relative(t, now time.Time) string {
	d := t.Sub(now)
	past := d < 0
	if past {
		d = -d
	}
	if d < time.Second {
		return "now"
	}
	d = d.Truncate(time.Second)
	if d >= 48*time.Hour {
		d = d.Round(24 * time.Hour)
	}
	s := engine.FormatDurationShort(d)
	if past {
		return s + " ago"
	}
	return "in " + s
}

// clock formats t for a person in loc: "2:30 PM", with the weekday when it
// is not today and the date when it is more than a week away.
func clock(t, now time.Time, loc *time.Location) string {
	t, now = t.In(loc), now.In(loc)
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	switch {
	case y1 == y2 && m1 == m2 && d1 == d2:
		return t.Format("3:04 PM")
	case t.Sub(now) < 6*24*time.Hour && t.After(now):
		return t.Format("Mon 3:04 PM")
	}
	return t.Format("Jan 2, 3:04 PM")
}

// money formats an amount as $25,000.
func money(v float64) string {
	n := int64(math.Round(v))
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return "$" + b.String()
}

// thousands formats 1200 as 1,200.
func thousands(n int) string { return strings.TrimPrefix(money(float64(n)), "$") }

// plainSummary is lines as plain text, one under the other, for a summary:
// without styles, and without the space a marker leaves at a line's start.
func plainSummary(lines []view.Text) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimSpace(l.Plain())
	}
	return strings.Join(out, "\n")
}
