package engine

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The spans a report covers: ISO weeks, months and quarters in the agreement's
// zone.

// Period is a span of time a report covers, [Start, End). Its dates are
// read in Start's location, which the constructors set to the agreement's
// zone: a week starts at Monday 00:00 there, whatever the offset.
type Period struct {
	Start, End time.Time
	// Label names the period for people: "week 47 (Nov 16–22)",
	// "November 2026", "Q4 2026".
	Label string
}

// Contains reports whether t is in [Start, End).
func (p Period) Contains(t time.Time) bool {
	return !t.IsZero() && !t.Before(p.Start) && t.Before(p.End)
}

// dates lists the calendar dates the period covers, in Start's location.
// A date counts when its first instant is inside the period, so a period
// built from midnights covers exactly its days, DST or not.
func (p Period) dates() []CalendarDate {
	loc := p.Start.Location()
	var out []CalendarDate
	for d := DateOf(p.Start.In(loc)); d.In(loc).Before(p.End); d = d.AddDays(1) {
		if !d.In(loc).Before(p.Start) {
			out = append(out, d)
		}
	}
	return out
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// isoWeek1Monday is the Monday starting ISO week 1 of year: the week that
// holds 4 January.
func isoWeek1Monday(year int) CalendarDate {
	jan4 := CalendarDate{year, time.January, 4}
	return jan4.AddDays(-((int(jan4.Weekday()) + 6) % 7))
}

// isoWeeksIn is 52 or 53: the ISO week of 28 December, which is always in
// the year's last week.
func isoWeeksIn(year int) int {
	_, w := time.Date(year, time.December, 28, 12, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

// WeekPeriod returns ISO week week of year, from Monday 00:00 to the next
// Monday 00:00 in loc (UTC when nil): 2026 week 47 is 16–22 November. A
// week outside 1–52/53 rolls over into the neighbouring year, like
// time.Date; ParseISOWeek rejects those instead.
func WeekPeriod(year, week int, loc *time.Location) Period {
	loc = orUTC(loc)
	start := isoWeek1Monday(year).AddDays((week - 1) * 7)
	last := start.AddDays(6)
	_, w := time.Date(start.Year, start.Month, start.Day, 12, 0, 0, 0, time.UTC).ISOWeek()
	span := fmt.Sprintf("%s %d–%d", start.Month.String()[:3], start.Day, last.Day)
	if last.Month != start.Month {
		span = fmt.Sprintf("%s %d–%s %d", start.Month.String()[:3], start.Day, last.Month.String()[:3], last.Day)
	}
	return Period{Start: start.In(loc), End: start.AddDays(7).In(loc), Label: fmt.Sprintf("week %d (%s)", w, span)}
}

// MonthPeriod returns the calendar month, from the 1st at 00:00 in loc
// (UTC when nil) to the 1st of the next month, labelled "November 2026".
func MonthPeriod(year int, month time.Month, loc *time.Location) Period {
	loc = orUTC(loc)
	first := DateOf(time.Date(year, month, 1, 12, 0, 0, 0, time.UTC))
	next := DateOf(time.Date(year, month+1, 1, 12, 0, 0, 0, time.UTC))
	return Period{Start: first.In(loc), End: next.In(loc), Label: fmt.Sprintf("%s %d", first.Month, first.Year)}
}

// QuarterPeriod returns quarter q (1–4) of year in loc, labelled "Q4 2026".
func QuarterPeriod(year, q int, loc *time.Location) Period {
	loc = orUTC(loc)
	first := DateOf(time.Date(year, time.Month(3*(q-1)+1), 1, 12, 0, 0, 0, time.UTC))
	next := DateOf(time.Date(year, time.Month(3*q+1), 1, 12, 0, 0, 0, time.UTC))
	return Period{Start: first.In(loc), End: next.In(loc), Label: fmt.Sprintf("Q%d %d", (int(first.Month)-1)/3+1, first.Year)}
}

// PeriodContaining returns the week (ISO, Monday first), month or quarter
// that holds t, read in loc (UTC when nil). kind is "week", "month" or
// "quarter"; anything else is an EINVALID error.
func PeriodContaining(kind string, t time.Time, loc *time.Location) (Period, error) {
	loc = orUTC(loc)
	lt := t.In(loc)
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "week":
		y, w := lt.ISOWeek()
		return WeekPeriod(y, w, loc), nil
	case "month":
		return MonthPeriod(lt.Year(), lt.Month(), loc), nil
	case "quarter":
		return QuarterPeriod(lt.Year(), (int(lt.Month())-1)/3+1, loc), nil
	}
	return Period{}, Errorf(EINVALID, "%q is not a kind of period: use week, month or quarter", kind)
}

// ParseISOWeek reads an ISO week written "2026-W47" (the W may be
// lower-case) and returns it as WeekPeriod does. A week the year does not
// have (W00, W53 of a 52-week year) is an EINVALID error.
func ParseISOWeek(s string, loc *time.Location) (Period, error) {
	bad := func(why string) (Period, error) {
		return Period{}, Errorf(EINVALID, "%q is not an ISO week%s: write it as YYYY-Www, like 2026-W47", s, why)
	}
	ys, ws, ok := strings.Cut(strings.ToUpper(strings.TrimSpace(s)), "-W")
	if !ok || len(ys) != 4 || len(ws) < 1 || len(ws) > 2 {
		return bad("")
	}
	year, err1 := strconv.Atoi(ys)
	week, err2 := strconv.Atoi(ws)
	if err1 != nil || err2 != nil || year < 1 || week < 0 {
		return bad("")
	}
	if n := isoWeeksIn(year); week < 1 || week > n {
		return bad(fmt.Sprintf(" (%d has weeks 1 to %d)", year, n))
	}
	return WeekPeriod(year, week, loc), nil
}
