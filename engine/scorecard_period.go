package engine

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The spans a scorecard covers, as people write them: "week", "month",
// "quarter" (the one holding now, as /sla status takes them), "2026-05",
// "last 90d", and "cohort 2026-05 window 180d" (May's leads, judged by
// what became of them within 180 days of the month's end).

var (
	scorecardMonthRe  = regexp.MustCompile(`^(\d{4})-(\d{1,2})$`)
	scorecardLastRe   = regexp.MustCompile(`^(\d{1,4})d$`)
	scorecardWindowRe = regexp.MustCompile(`^(\d{1,4})d$`)
)

// ScorecardSpan is a resolved scorecard period: the leads received in
// Period, their outcomes as of AsOf.
type ScorecardSpan struct {
	Period Period
	AsOf   time.Time
	// Window is the cohort's window (0 when none); WindowOver reports
	// whether AsOf is its end, not now.
	Window     int
	WindowOver bool
}

// ParseScorecardMonth reads "2026-05" as that month in loc.
func ParseScorecardMonth(s string, loc *time.Location) (Period, error) {
	m := scorecardMonthRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return Period{}, Errorf(EINVALID, "%s is not a month: write it as YYYY-MM, like 2026-05", Quote(s))
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	if mo < 1 || mo > 12 || y < 2000 || y > 2200 {
		return Period{}, Errorf(EINVALID, "%s is not a month: write it as YYYY-MM, like 2026-05", Quote(s))
	}
	return MonthPeriod(y, time.Month(mo), loc), nil
}

// ResolveScorecardSpan reads a scorecard period from words (empty: this
// month) as of now in loc. A period that has not begun is refused.
func ResolveScorecardSpan(words []string, now time.Time, loc *time.Location) (ScorecardSpan, error) {
	loc = orUTC(loc)
	const how = "say week, month, quarter, a month as 2026-05, last 90d, or cohort 2026-05 window 180d"
	for i := range words {
		words[i] = strings.ToLower(strings.TrimSpace(words[i]))
	}
	span := ScorecardSpan{AsOf: now}
	var err error
	switch {
	case len(words) == 0:
		span.Period, err = PeriodContaining("month", now, loc)
	case len(words) == 1 && isPeriodWord(words[0]):
		span.Period, err = PeriodContaining(words[0], now, loc)
	case len(words) == 1 && scorecardMonthRe.MatchString(words[0]):
		span.Period, err = ParseScorecardMonth(words[0], loc)
	case len(words) == 2 && words[0] == "last":
		m := scorecardLastRe.FindStringSubmatch(words[1])
		if m == nil {
			return span, Errorf(EINVALID, "%s is not a number of days: write it like last 90d", Quote(words[1]))
		}
		days, _ := strconv.Atoi(m[1])
		if days < 1 {
			return span, Errorf(EINVALID, "last %s covers no days: write it like last 90d", words[1])
		}
		today := DateOf(now.In(loc))
		start := today.AddDays(-(days - 1)).In(loc)
		span.Period = Period{Start: start, End: now, Label: fmt.Sprintf("the last %d days (%s–%s)", days,
			start.Format("Jan 2"), now.In(loc).Format("Jan 2"))}
	case len(words) == 4 && words[0] == "cohort" && words[2] == "window":
		span.Period, err = ParseScorecardMonth(words[1], loc)
		if err != nil {
			return span, err
		}
		m := scorecardWindowRe.FindStringSubmatch(words[3])
		if m == nil {
			return span, Errorf(EINVALID, "%s is not a window: write it in days, like window 180d", Quote(words[3]))
		}
		span.Window, _ = strconv.Atoi(m[1])
		end := DateOf(span.Period.End.In(loc)).AddDays(span.Window).In(loc)
		if !end.After(now) {
			span.AsOf, span.WindowOver = end, true
		}
		span.Period.Label = fmt.Sprintf("leads of %s, judged over %d days", span.Period.Label, span.Window)
	default:
		return span, Errorf(EINVALID, "I can't read %s as a period: %s", Quote(strings.Join(words, " ")), how)
	}
	if err != nil {
		return span, err
	}
	if !span.Period.Start.Before(now) {
		return span, Errorf(EINVALID, "%s has not begun yet, so it has no leads", span.Period.Label)
	}
	return span, nil
}

func isPeriodWord(w string) bool { return w == "week" || w == "month" || w == "quarter" }
