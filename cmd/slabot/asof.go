package main

import (
	"time"

	"github.com/slabot/slabot/engine"
)

// asOfDate is the instant an --as-of DATE (YYYY-MM-DD) counts outcomes
// at: the end of that day in loc, or now when the flag is empty or the
// day has not ended yet.
func asOfDate(flag string, now time.Time, loc *time.Location) (time.Time, error) {
	if flag == "" {
		return now, nil
	}
	d, err := engine.ParseCalendarDate(flag)
	if err != nil {
		return time.Time{}, err
	}
	if end := d.AddDays(1).In(loc); end.Before(now) {
		return end, nil
	}
	return now, nil
}
