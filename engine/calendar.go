package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// TimeOfDay is a wall-clock time of day in minutes since midnight, from
// 00:00 (0) to 24:00 (1440). 24:00 is allowed only as the end of a shift.
type TimeOfDay int

// HourMinute returns the time of day hour:minute, e.g. HourMinute(9, 30) for 09:30.
func HourMinute(hour, minute int) TimeOfDay { return TimeOfDay(hour*60 + minute) }

// ParseTimeOfDay reads "HH:MM" (24-hour clock; "9:00" is fine too).
// "24:00" is accepted as the end of the day.
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	bad := Errorf(EINVALID, "%q is not a time of day: write it on the 24-hour clock as HH:MM, like 09:00 or 17:30", s)
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, bad
	}
	hour, minute := 0, 0
	for _, c := range h {
		if c < '0' || c > '9' {
			return 0, bad
		}
		hour = hour*10 + int(c-'0')
	}
	for _, c := range m {
		if c < '0' || c > '9' {
			return 0, bad
		}
		minute = minute*10 + int(c-'0')
	}
	if minute > 59 || hour > 24 || (hour == 24 && minute != 0) {
		return 0, bad
	}
	return HourMinute(hour, minute), nil
}

// String writes the time as HH:MM.
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// CalendarDate is a date without a time or zone, such as a holiday; it is
// placed in time by the calendar that uses it.
type CalendarDate struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseCalendarDate reads a date written YYYY-MM-DD, such as "2026-12-25".
func ParseCalendarDate(s string) (CalendarDate, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return CalendarDate{}, Errorf(EINVALID, "%q is not a date: write it as YYYY-MM-DD, like 2026-12-25", s)
	}
	return DateOf(t), nil
}

// DateOf returns the date of t in t's own location.
func DateOf(t time.Time) CalendarDate {
	y, m, d := t.Date()
	return CalendarDate{y, m, d}
}

// String writes the date as YYYY-MM-DD.
func (d CalendarDate) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Weekday is the day of the week of d.
func (d CalendarDate) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// AddDays returns the date n days after d (before, for negative n).
func (d CalendarDate) AddDays(n int) CalendarDate {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// Before reports whether d is earlier than e.
func (d CalendarDate) Before(e CalendarDate) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// In returns midnight at the start of d in loc (or the first instant of the
// day, where a DST change skips midnight).
func (d CalendarDate) In(loc *time.Location) time.Time {
	return wallTime(d, 0, loc)
}

// Calendar is a business calendar: the hours in which the SLA clock runs.
// It opens on the given weekdays from Start to End, wall-clock time in its
// zone, except on holidays. When End is not after Start the shift runs past
// midnight (22:00–06:00) and belongs to the day it starts on: a Friday night
// shift is open on Saturday morning even if Saturday is closed, and a
// holiday closes the shift that starts on it. Start == End is a 24-hour
// shift.
//
// Hours are wall-clock hours: on the day clocks spring forward a window that
// covers 02:00–03:00 is an hour shorter, on the day they fall back an hour
// longer. A start or end that falls in the skipped hour moves to the moment
// the clocks jump.
//
// A nil *Calendar is open 24×7 in UTC; AlwaysOpen gives one in another zone.
// A Calendar is immutable and safe for concurrent use.
type Calendar struct {
	loc        *time.Location
	alwaysOpen bool
	open       [7]bool
	start, end TimeOfDay
	holidays   map[CalendarDate]bool
}

// NewCalendar returns a calendar open on days from start to end in loc,
// closed on holidays. It rejects a nil location, a calendar with no open
// weekday (which would never open, so no deadline could ever be computed),
// and times outside 00:00–24:00 (24:00 only as the end).
func NewCalendar(loc *time.Location, days []time.Weekday, start, end TimeOfDay, holidays []CalendarDate) (*Calendar, error) {
	if loc == nil {
		return nil, Errorf(EINVALID, "the business calendar needs a time zone")
	}
	c := &Calendar{loc: loc, start: start, end: end, holidays: make(map[CalendarDate]bool, len(holidays))}
	for _, d := range days {
		if d < time.Sunday || d > time.Saturday {
			return nil, Errorf(EINVALID, "%d is not a day of the week", d)
		}
		c.open[d] = true
	}
	if !slices.Contains(c.open[:], true) {
		return nil, Errorf(EINVALID, "the business calendar has no open day: list at least one, like [mon, tue, wed, thu, fri]")
	}
	if start < 0 || start >= HourMinute(24, 0) {
		return nil, Errorf(EINVALID, "the business day cannot start at %s: use a time from 00:00 to 23:59", start)
	}
	if end < 0 || end > HourMinute(24, 0) {
		return nil, Errorf(EINVALID, "the business day cannot end at %s: use a time from 00:00 to 24:00", end)
	}
	for _, h := range holidays {
		c.holidays[h] = true
	}
	return c, nil
}

// AlwaysOpen returns a calendar that is open 24×7 in loc (UTC if loc is
// nil). It behaves like a nil *Calendar but remembers its zone.
func AlwaysOpen(loc *time.Location) *Calendar {
	if loc == nil {
		loc = time.UTC
	}
	return &Calendar{loc: loc, alwaysOpen: true}
}

// Location is the calendar's time zone (UTC for a nil calendar).
func (c *Calendar) Location() *time.Location {
	if c == nil {
		return time.UTC
	}
	return c.loc
}

// Always reports whether the calendar is open 24×7.
func (c *Calendar) Always() bool { return c == nil || c.alwaysOpen }

// Days lists the open weekdays, Monday first.
func (c *Calendar) Days() []time.Weekday {
	var days []time.Weekday
	for i := 1; i <= 7; i++ {
		d := time.Weekday(i % 7)
		if c.Always() || c.open[d] {
			days = append(days, d)
		}
	}
	return days
}

// Hours returns the daily opening and closing times (00:00 and 24:00 for
// a 24×7 calendar).
func (c *Calendar) Hours() (start, end TimeOfDay) {
	if c.Always() {
		return 0, HourMinute(24, 0)
	}
	return c.start, c.end
}

// Holidays lists the holidays in date order.
func (c *Calendar) Holidays() []CalendarDate {
	if c.Always() {
		return nil
	}
	hs := make([]CalendarDate, 0, len(c.holidays))
	for h := range c.holidays {
		hs = append(hs, h)
	}
	slices.SortFunc(hs, func(a, b CalendarDate) int {
		if a.Before(b) {
			return -1
		} else if b.Before(a) {
			return 1
		}
		return 0
	})
	return hs
}

// OpenPerDay is how much open time a regular open day has (ignoring DST).
func (c *Calendar) OpenPerDay() time.Duration {
	if c.Always() {
		return durDay
	}
	span := c.end - c.start
	if span <= 0 {
		span += HourMinute(24, 0)
	}
	return time.Duration(span) * time.Minute
}

// In returns a calendar with the same days, hours and holidays in another
// zone: a rep in Berlin keeps 09:00–17:00 of Berlin time. Holidays stay the
// same dates, now read in loc.
func (c *Calendar) In(loc *time.Location) *Calendar {
	if c.Always() {
		return AlwaysOpen(loc)
	}
	if loc == nil {
		loc = time.UTC
	}
	cc := *c
	cc.loc = loc
	return &cc
}

// String writes the hours for people: "Mon–Fri 09:00–17:00
// America/New_York, holidays excluded", or "24×7 (UTC)".
func (c *Calendar) String() string {
	if c.Always() {
		return "24×7 (" + c.Location().String() + ")"
	}
	s := weekdaysText(c.Days()) + " " + c.start.String() + "–" + c.end.String()
	if c.end <= c.start {
		s += " (overnight)"
	}
	s += " " + c.loc.String()
	if len(c.holidays) > 0 {
		s += ", holidays excluded"
	}
	return s
}

// weekdayNames maps what people write for a day, in lower case, to the day.
var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "sunday": time.Sunday,
	"mon": time.Monday, "monday": time.Monday,
	"tue": time.Tuesday, "tues": time.Tuesday, "tuesday": time.Tuesday,
	"wed": time.Wednesday, "wednesday": time.Wednesday,
	"thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday, "thursday": time.Thursday,
	"fri": time.Friday, "friday": time.Friday,
	"sat": time.Saturday, "saturday": time.Saturday,
}

// ParseWeekday reads a day of the week as people write it, in any case:
// its English name ("Monday") or a short form ("mon", "tues", "thurs").
func ParseWeekday(s string) (time.Weekday, bool) {
	d, ok := weekdayNames[strings.ToLower(s)]
	return d, ok
}

// weekdaysText writes days (Monday first) compactly: "Mon–Fri", "Mon, Wed,
// Fri", "Mon–Thu, Sat".
func weekdaysText(days []time.Weekday) string {
	if len(days) == 7 {
		return "every day"
	}
	idx := func(d time.Weekday) int { return (int(d) + 6) % 7 } // Monday = 0
	var parts []string
	for i := 0; i < len(days); {
		j := i
		for j+1 < len(days) && idx(days[j+1]) == idx(days[j])+1 {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, days[i].String()[:3]+"–"+days[j].String()[:3])
		case j == i+1:
			parts = append(parts, days[i].String()[:3], days[j].String()[:3])
		default:
			parts = append(parts, days[i].String()[:3])
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// wallTime is the instant at which the wall clock in loc reads minutes past
// midnight on date d. In a gap (the clocks spring forward over it) it is the
// instant of the jump, the first moment at or after the wanted wall time; in
// an overlap it is whichever instant Go's time.Date picks.
func wallTime(d CalendarDate, minutes TimeOfDay, loc *time.Location) time.Time {
	t := time.Date(d.Year, d.Month, d.Day, 0, int(minutes), 0, 0, loc)
	want := time.Date(d.Year, d.Month, d.Day, 0, int(minutes), 0, 0, time.UTC)
	got := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	if got.Equal(want) {
		return t
	}
	start, end := t.ZoneBounds()
	if got.Before(want) {
		return end
	}
	return start
}

// shift returns the open span that starts on date d, if d is open.
func (c *Calendar) shift(d CalendarDate) (start, end time.Time, ok bool) {
	if !c.open[d.Weekday()] || c.holidays[d] {
		return time.Time{}, time.Time{}, false
	}
	start = wallTime(d, c.start, c.loc)
	if c.end > c.start {
		end = wallTime(d, c.end, c.loc)
	} else {
		end = wallTime(d.AddDays(1), c.end, c.loc)
	}
	// A shift that lies wholly inside a skipped DST hour is empty.
	return start, end, end.After(start)
}

// maxSearchDays bounds the search for the next shift, which starts from
// yesterday. Construction ensures an open weekday, so the next shift starts
// within a week unless holidays delay it, each by at most a week; the bound
// is never reached on a valid calendar.
func (c *Calendar) maxSearchDays() int { return 10 + 7*len(c.holidays) }

// farFuture is returned if a calendar somehow never opens, so that callers
// see a deadline that will not fire rather than a panic or a loop.
var farFuture = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// shiftAt returns the first shift whose end is after t: the one containing t
// if t is open, else the next one.
func (c *Calendar) shiftAt(t time.Time) (start, end time.Time) {
	d := DateOf(t.In(c.loc)).AddDays(-1) // yesterday's overnight shift may hold t
	for i := 0; i < c.maxSearchDays(); i++ {
		if s, e, ok := c.shift(d); ok && e.After(t) {
			return s, e
		}
		d = d.AddDays(1)
	}
	return farFuture, farFuture
}

// IsOpen reports whether the SLA clock runs at t.
func (c *Calendar) IsOpen(t time.Time) bool {
	if c.Always() {
		return true
	}
	s, _ := c.shiftAt(t)
	return !s.After(t)
}

// NextOpen returns t if the calendar is open at t, else the moment it next
// opens.
func (c *Calendar) NextOpen(t time.Time) time.Time {
	if c.Always() {
		return t
	}
	s, _ := c.shiftAt(t)
	if s.After(t) {
		return s
	}
	return t
}

// Add returns the moment at which d of open time has passed since t: the
// clock starts at t if open, else at the next opening, and stops while
// the calendar is closed. The result is always an open instant: when d runs
// out exactly at a closing time, the result is the next opening (both have
// the same open time since t). Add(t, 0) is NextOpen(t); a negative d counts
// as 0. It steps shift by shift, so adding weeks costs a few dozen steps.
func (c *Calendar) Add(t time.Time, d time.Duration) time.Time {
	if d < 0 {
		d = 0
	}
	if c.Always() {
		return t.Add(d)
	}
	cur := t
	for {
		s, e := c.shiftAt(cur)
		if s.Equal(farFuture) {
			return farFuture
		}
		if s.After(cur) {
			cur = s
		}
		left := e.Sub(cur)
		if d < left {
			return cur.Add(d)
		}
		d -= left
		cur = e
	}
}

// Between returns the open time in [a, b): how much SLA clock ran from a
// to b. It is 0 when b is not after a.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	if c.Always() {
		return b.Sub(a)
	}
	var total time.Duration
	cur := a
	for cur.Before(b) {
		s, e := c.shiftAt(cur)
		if !s.Before(b) || s.Equal(farFuture) {
			break
		}
		if s.After(cur) {
			cur = s
		}
		if e.After(b) {
			e = b
		}
		total += e.Sub(cur)
		cur = e
	}
	return total
}
