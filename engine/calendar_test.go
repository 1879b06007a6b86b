package engine

import (
	"math/rand"
	"testing"
	"time"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at reads "2026-11-20 16:55" in loc, or an exact instant when the string
// carries an offset: "2026-03-08 03:00 -0400".
func at(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	if v, err := time.Parse("2006-01-02 15:04 -0700", s); err == nil {
		return v.In(loc)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func date(s string) CalendarDate {
	d, err := ParseCalendarDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

var weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
var everyDay = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}

func mustCalendar(t testing.TB, loc *time.Location, days []time.Weekday, start, end string, holidays ...string) *Calendar {
	t.Helper()
	s, err := ParseTimeOfDay(start)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ParseTimeOfDay(end)
	if err != nil {
		t.Fatal(err)
	}
	var hs []CalendarDate
	for _, h := range holidays {
		hs = append(hs, date(h))
	}
	c, err := NewCalendar(loc, days, s, e, hs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewYorkOfficeHours(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	cal := mustCalendar(t, ny, weekdays, "09:00", "17:00", "2026-12-25", "2027-01-01")
	tests := []struct {
		name    string
		from    string
		add     time.Duration
		want    string
		between time.Duration // open time from `from` to `want`, when from is open
	}{
		{"a lead handed off Friday evening is due Monday morning", "2026-11-20 18:00", 15 * time.Minute, "2026-11-23 09:15", 0},
		{"the clock stops at Friday's close and resumes Monday", "2026-11-20 16:50", 15 * time.Minute, "2026-11-23 09:05", 15 * time.Minute},
		{"time running out exactly at close is due at the next opening", "2026-11-20 16:45", 15 * time.Minute, "2026-11-23 09:00", 15 * time.Minute},
		{"a weekend hand-off starts counting Monday at nine", "2026-11-21 11:00", 4 * time.Hour, "2026-11-23 13:00", 0},
		{"before opening counts from opening", "2026-11-24 07:30", time.Hour, "2026-11-24 10:00", 0},
		{"within a day it is plain addition", "2026-11-24 10:00", 4 * time.Hour, "2026-11-24 14:00", 4 * time.Hour},
		{"a holiday Friday is skipped", "2026-12-24 16:00", 4 * time.Hour, "2026-12-28 12:00", 4 * time.Hour},
		{"a holiday is closed all day", "2026-12-25 10:00", time.Hour, "2026-12-28 10:00", 0},
		{"New Year's Day is skipped too", "2026-12-31 16:30", time.Hour, "2027-01-04 09:30", time.Hour},
		{"adding zero to a closed instant gives the next opening", "2026-11-21 11:00", 0, "2026-11-23 09:00", 0},
		{"adding zero to an open instant gives itself", "2026-11-24 11:00", 0, "2026-11-24 11:00", 0},
		{"a negative duration counts as zero", "2026-11-24 11:00", -time.Hour, "2026-11-24 11:00", 0},
		{"a week of business time is five working days", "2026-11-23 09:00", 40 * time.Hour, "2026-11-30 09:00", 40 * time.Hour},
		{"Friday before spring forward to Monday after", "2026-03-06 16:00", 2 * time.Hour, "2026-03-09 10:00 -0400", 2 * time.Hour},
		{"Friday before fall back to Monday after", "2026-10-30 16:00", 2 * time.Hour, "2026-11-02 10:00 -0500", 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, want := at(t, ny, tt.from), at(t, ny, tt.want)
			got := cal.Add(from, tt.add)
			if !got.Equal(want) {
				t.Fatalf("Add(%s, %v) = %s, want %s", from, tt.add, got, want)
			}
			if !cal.IsOpen(got) {
				t.Errorf("Add returned %s, which is closed", got)
			}
			if cal.IsOpen(from) {
				if b := cal.Between(from, want); b != tt.between {
					t.Errorf("Between(%s, %s) = %v, want %v", from, want, b, tt.between)
				}
			}
		})
	}
}

func TestOpeningHoursIncludeTheStartAndExcludeTheEnd(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	cal := mustCalendar(t, ny, weekdays, "09:00", "17:00", "2026-12-25")
	tests := []struct {
		at   string
		open bool
		next string
	}{
		{"2026-11-23 08:59", false, "2026-11-23 09:00"},
		{"2026-11-23 09:00", true, "2026-11-23 09:00"},
		{"2026-11-23 16:59", true, "2026-11-23 16:59"},
		{"2026-11-23 17:00", false, "2026-11-24 09:00"},
		{"2026-11-21 12:00", false, "2026-11-23 09:00"}, // Saturday
		{"2026-11-22 23:59", false, "2026-11-23 09:00"}, // Sunday
		{"2026-12-25 12:00", false, "2026-12-28 09:00"}, // Christmas, a Friday
		{"2026-12-24 23:00", false, "2026-12-28 09:00"},
	}
	for _, tt := range tests {
		a := at(t, ny, tt.at)
		if got := cal.IsOpen(a); got != tt.open {
			t.Errorf("IsOpen(%s) = %v, want %v", tt.at, got, tt.open)
		}
		if got, want := cal.NextOpen(a), at(t, ny, tt.next); !got.Equal(want) {
			t.Errorf("NextOpen(%s) = %s, want %s", tt.at, got, want)
		}
	}
}

func TestDaylightSavingTimeChangesTheLengthOfTheBusinessDay(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	berlin := mustLoad(t, "Europe/Berlin")
	tests := []struct {
		name       string
		loc        *time.Location
		start, end string
		day        string // a date; open time from its midnight to the next
		want       time.Duration
	}{
		{"New York spring forward: 00:00–08:00 is 7 hours", ny, "00:00", "08:00", "2026-03-08", 7 * time.Hour},
		{"New York the day before: 8 hours", ny, "00:00", "08:00", "2026-03-07", 8 * time.Hour},
		{"New York fall back: 00:00–08:00 is 9 hours", ny, "00:00", "08:00", "2026-11-01", 9 * time.Hour},
		{"New York spring forward does not touch 09:00–17:00", ny, "09:00", "17:00", "2026-03-08", 8 * time.Hour},
		{"New York a window starting in the skipped hour opens at the jump", ny, "02:30", "06:00", "2026-03-08", 3 * time.Hour},
		{"Berlin spring forward: 01:00–05:00 is 3 hours", berlin, "01:00", "05:00", "2026-03-29", 3 * time.Hour},
		{"Berlin a window starting in the skipped hour opens at the jump", berlin, "02:30", "06:00", "2026-03-29", 3 * time.Hour},
		{"Berlin a window inside the skipped hour is closed", berlin, "02:10", "02:50", "2026-03-29", 0},
		{"Berlin fall back: 00:00–06:00 is 7 hours", berlin, "00:00", "06:00", "2026-10-25", 7 * time.Hour},
		{"Berlin the day after fall back: 6 hours", berlin, "00:00", "06:00", "2026-10-26", 6 * time.Hour},
		{"Berlin 24-hour shift on spring forward is 23 hours", berlin, "00:00", "00:00", "2026-03-29", 23 * time.Hour},
		{"Berlin 24-hour shift on fall back is 25 hours", berlin, "00:00", "24:00", "2026-10-25", 25 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cal := mustCalendar(t, tt.loc, everyDay, tt.start, tt.end)
			d := date(tt.day)
			from, to := d.In(tt.loc), d.AddDays(1).In(tt.loc)
			if got := cal.Between(from, to); got != tt.want {
				t.Fatalf("open time on %s = %v, want %v", tt.day, got, tt.want)
			}
			if tt.want > 0 {
				// Adding the day's open time from its opening lands on the next day's opening.
				open := cal.NextOpen(from)
				if got, want := cal.Add(open, tt.want), cal.NextOpen(to); !got.Equal(want) {
					t.Errorf("Add(%s, %v) = %s, want %s", open, tt.want, got, want)
				}
			}
		})
	}
}

func TestTheSkippedHourOpensAtTheJump(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	berlin := mustLoad(t, "Europe/Berlin")
	if got, want := wallTime(date("2026-03-08"), HourMinute(2, 30), ny), at(t, ny, "2026-03-08 03:00 -0400"); !got.Equal(want) {
		t.Errorf("New York 02:30 on spring-forward day = %s, want %s", got, want)
	}
	if got, want := wallTime(date("2026-03-29"), HourMinute(2, 30), berlin), at(t, berlin, "2026-03-29 03:00 +0200"); !got.Equal(want) {
		t.Errorf("Berlin 02:30 on spring-forward day = %s, want %s", got, want)
	}
}

func TestAnOvernightShiftBelongsToTheDayItStarts(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	// Night support Monday to Friday nights, 22:00 to 06:00; 2026-11-27 (a
	// Friday) is a holiday, which closes Friday night's shift.
	cal := mustCalendar(t, berlin, weekdays, "22:00", "06:00", "2026-11-27")
	open := []struct {
		at   string
		open bool
	}{
		{"2026-11-23 21:59", false}, // Monday evening
		{"2026-11-23 22:00", true},
		{"2026-11-24 03:00", true}, // Monday's shift, Tuesday morning
		{"2026-11-24 06:00", false},
		{"2026-11-23 03:00", false}, // Sunday's shift: Sunday is closed
		{"2026-11-27 03:00", true},  // Thursday's shift runs into the holiday
		{"2026-11-27 23:00", false}, // the holiday's own shift is closed
		{"2026-11-28 05:00", false}, // Saturday morning after the holiday Friday
		{"2026-11-14 05:00", true},  // a normal Saturday morning: Friday's shift
		{"2026-11-14 23:00", false}, // Saturday night
	}
	for _, tt := range open {
		if got := cal.IsOpen(at(t, berlin, tt.at)); got != tt.open {
			t.Errorf("IsOpen(%s) = %v, want %v", tt.at, got, tt.open)
		}
	}
	// An hour left at 05:00 on Saturday: half an hour there, the rest on Monday night.
	got := cal.Add(at(t, berlin, "2026-11-14 05:30"), time.Hour)
	if want := at(t, berlin, "2026-11-16 22:30"); !got.Equal(want) {
		t.Errorf("Add over the weekend = %s, want %s", got, want)
	}
	if b := cal.Between(at(t, berlin, "2026-11-16 12:00"), at(t, berlin, "2026-11-18 12:00")); b != 16*time.Hour {
		t.Errorf("two nights = %v, want 16h", b)
	}
	if got := cal.String(); got != "Mon–Fri 22:00–06:00 (overnight) Europe/Berlin, holidays excluded" {
		t.Errorf("String() = %q", got)
	}
}

func TestA24x7CalendarIsPlainArithmetic(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	a := at(t, berlin, "2026-03-28 12:00")
	b := a.Add(48 * time.Hour)
	for name, cal := range map[string]*Calendar{"nil": nil, "AlwaysOpen": AlwaysOpen(berlin)} {
		if !cal.IsOpen(a) || !cal.NextOpen(a).Equal(a) {
			t.Errorf("%s: not open at %s", name, a)
		}
		if got := cal.Add(a, 48*time.Hour); !got.Equal(b) {
			t.Errorf("%s: Add = %s, want %s", name, got, b)
		}
		if got := cal.Between(a, b); got != 48*time.Hour {
			t.Errorf("%s: Between = %v", name, got)
		}
		if got := cal.Between(b, a); got != 0 {
			t.Errorf("%s: Between backwards = %v, want 0", name, got)
		}
	}
	var nilCal *Calendar
	if nilCal.Location() != time.UTC || AlwaysOpen(berlin).Location() != berlin || AlwaysOpen(nil).Location() != time.UTC {
		t.Error("24×7 calendars report the wrong zone")
	}
	if got := nilCal.String(); got != "24×7 (UTC)" {
		t.Errorf("String() = %q", got)
	}
}

func TestInKeepsTheHoursInTheRepsOwnZone(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	berlin := mustLoad(t, "Europe/Berlin")
	team := mustCalendar(t, ny, weekdays, "09:00", "17:00", "2026-12-25")
	rep := team.In(berlin)
	if rep.Location() != berlin || team.Location() != ny {
		t.Fatal("In changed the wrong calendar's zone")
	}
	nine := at(t, berlin, "2026-11-23 09:00")
	if !rep.IsOpen(nine) || team.IsOpen(nine) {
		t.Errorf("09:00 Berlin (03:00 New York): rep open %v, team open %v", rep.IsOpen(nine), team.IsOpen(nine))
	}
	if rep.IsOpen(at(t, berlin, "2026-12-25 10:00")) {
		t.Error("the holiday date is not kept in the rep's zone")
	}
	if (*Calendar)(nil).In(berlin).Location() != berlin {
		t.Error("a 24×7 calendar moved to Berlin should be in Berlin")
	}
}

func TestNewCalendarRejectsCalendarsThatNeverOpen(t *testing.T) {
	utc := time.UTC
	tests := []struct {
		name       string
		loc        *time.Location
		days       []time.Weekday
		start, end TimeOfDay
		want       string
	}{
		{"no open day", utc, nil, HourMinute(9, 0), HourMinute(17, 0), "the business calendar has no open day: list at least one, like [mon, tue, wed, thu, fri]"},
		{"no zone", nil, weekdays, HourMinute(9, 0), HourMinute(17, 0), "the business calendar needs a time zone"},
		{"start at 24:00", utc, weekdays, HourMinute(24, 0), HourMinute(17, 0), "the business day cannot start at 24:00: use a time from 00:00 to 23:59"},
		{"end after 24:00", utc, weekdays, HourMinute(9, 0), HourMinute(25, 0), "the business day cannot end at 25:00: use a time from 00:00 to 24:00"},
		{"a bad weekday", utc, []time.Weekday{9}, HourMinute(9, 0), HourMinute(17, 0), "9 is not a day of the week"},
	}
	for _, tt := range tests {
		_, err := NewCalendar(tt.loc, tt.days, tt.start, tt.end, nil)
		if got := ErrorMessage(err); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseTimeOfDay(t *testing.T) {
	good := map[string]TimeOfDay{"09:00": HourMinute(9, 0), "9:00": HourMinute(9, 0), "17:30": HourMinute(17, 30), "00:00": 0, "24:00": HourMinute(24, 0), "23:59": HourMinute(23, 59)}
	for s, want := range good {
		if got, err := ParseTimeOfDay(s); err != nil || got != want {
			t.Errorf("ParseTimeOfDay(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "9", "9am", "24:01", "12:60", "-1:00", "123:00", "09:0", "ab:cd", "09:00:00"} {
		_, err := ParseTimeOfDay(s)
		if err == nil || ErrorMessage(err) == "" {
			t.Errorf("ParseTimeOfDay(%q) accepted or had no message", s)
		}
	}
}

func TestParseWeekday(t *testing.T) {
	for s, want := range map[string]time.Weekday{
		"mon": time.Monday, "Monday": time.Monday, "TUES": time.Tuesday, "wed": time.Wednesday,
		"thur": time.Thursday, "thurs": time.Thursday, "thursday": time.Thursday, "sun": time.Sunday, "Sat": time.Saturday,
	} {
		if got, ok := ParseWeekday(s); !ok || got != want {
			t.Errorf("ParseWeekday(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "mo", "weds", "next monday", " monday", "1"} {
		if got, ok := ParseWeekday(s); ok {
			t.Errorf("ParseWeekday(%q) = %v, want no day", s, got)
		}
	}
}

func TestWeekdaysText(t *testing.T) {
	tests := []struct {
		days []time.Weekday
		want string
	}{
		{weekdays, "Mon–Fri"},
		{everyDay, "every day"},
		{[]time.Weekday{time.Monday, time.Wednesday, time.Friday}, "Mon, Wed, Fri"},
		{[]time.Weekday{time.Monday, time.Tuesday, time.Thursday, time.Friday, time.Saturday}, "Mon, Tue, Thu–Sat"},
		{[]time.Weekday{time.Sunday}, "Sun"},
	}
	for _, tt := range tests {
		cal, err := NewCalendar(time.UTC, tt.days, HourMinute(9, 0), HourMinute(17, 0), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := weekdaysText(cal.Days()); got != tt.want {
			t.Errorf("weekdaysText(%v) = %q, want %q", tt.days, got, tt.want)
		}
	}
}

// randomCalendar makes calendars of every shape: day windows, overnight
// windows, 24-hour shifts, a few days a week, holidays, zones with DST.
func randomCalendar(t testing.TB, rng *rand.Rand, zones []*time.Location) *Calendar {
	var days []time.Weekday
	for len(days) == 0 {
		for d := time.Sunday; d <= time.Saturday; d++ {
			if rng.Intn(2) == 0 {
				days = append(days, d)
			}
		}
	}
	start := TimeOfDay(rng.Intn(24*4) * 15)
	end := TimeOfDay(rng.Intn(24*4)*15 + 15)
	var holidays []CalendarDate
	for i := rng.Intn(6); i > 0; i-- {
		holidays = append(holidays, CalendarDate{2026, time.Month(1 + rng.Intn(12)), 1 + rng.Intn(28)})
	}
	cal, err := NewCalendar(zones[rng.Intn(len(zones))], days, start, end, holidays)
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

func randomInstant(rng *rand.Rand) time.Time {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return base.Add(time.Duration(rng.Int63n(int64(400 * 24 * time.Hour))))
}

func TestPropertyTheBusinessClockNeverGoesBackwards(t *testing.T) {
	zones := []*time.Location{time.UTC, mustLoad(t, "America/New_York"), mustLoad(t, "Europe/Berlin"), mustLoad(t, "Australia/Lord_Howe")}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 3000; i++ {
		cal := randomCalendar(t, rng, zones)
		t1 := randomInstant(rng)
		t2 := t1.Add(time.Duration(rng.Int63n(int64(72 * time.Hour))))
		d1 := time.Duration(rng.Int63n(int64(100 * time.Hour)))
		d2 := d1 + time.Duration(rng.Int63n(int64(50*time.Hour)))
		a11, a12, a21 := cal.Add(t1, d1), cal.Add(t1, d2), cal.Add(t2, d1)
		if a12.Before(a11) {
			t.Fatalf("%s: Add(%s, %v) = %s is before Add(…, %v) = %s", cal, t1, d2, a12, d1, a11)
		}
		if a21.Before(a11) {
			t.Fatalf("%s: Add(%s, %v) = %s is before Add(%s, …) = %s", cal, t2, d1, a21, t1, a11)
		}
		if a11.Before(t1) || !cal.IsOpen(a11) {
			t.Fatalf("%s: Add(%s, %v) = %s is before the start or closed", cal, t1, d1, a11)
		}
		if got := cal.Between(t1, a11); got != d1 {
			t.Fatalf("%s: Between(%s, Add(…, %v) = %s) = %v", cal, t1, d1, a11, got)
		}
		n := cal.NextOpen(t1)
		if n.Before(t1) || !cal.IsOpen(n) || cal.Between(t1, n) != 0 {
			t.Fatalf("%s: NextOpen(%s) = %s is wrong", cal, t1, n)
		}
	}
}

func TestPropertyAddingTheOpenTimeBetweenTwoOpenInstantsLandsOnTheSecond(t *testing.T) {
	zones := []*time.Location{time.UTC, mustLoad(t, "America/New_York"), mustLoad(t, "Europe/Berlin")}
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 3000; i++ {
		cal := randomCalendar(t, rng, zones)
		a := cal.NextOpen(randomInstant(rng))
		b := cal.NextOpen(a.Add(time.Duration(rng.Int63n(int64(20 * 24 * time.Hour)))))
		if !b.After(a) {
			continue
		}
		between := cal.Between(a, b)
		if got := cal.Add(a, between); !got.Equal(b) {
			t.Fatalf("%s: a=%s b=%s: Add(a, Between(a, b) = %v) = %s", cal, a, b, between, got)
		}
	}
}

func TestAddingAYearOfBusinessTimeStepsByDayNotByMinute(t *testing.T) {
	cal := mustCalendar(t, mustLoad(t, "America/New_York"), weekdays, "09:00", "17:00", "2026-12-25")
	start := time.Date(2026, 1, 5, 14, 0, 0, 0, time.UTC)
	allocs := testing.AllocsPerRun(10, func() { cal.Add(start, 52*40*time.Hour) })
	// About a year of days, each a handful of time.Date calls that do not
	// allocate; minute-by-minute stepping would take half a million steps.
	if allocs > 100 {
		t.Errorf("Add of a year allocates %v times", allocs)
	}
	got := cal.Add(start, 52*40*time.Hour)
	if b := cal.Between(start, got); b != 52*40*time.Hour {
		t.Errorf("Between = %v", b)
	}
}

func BenchmarkCalendarAddFourWeeks(b *testing.B) {
	cal := mustCalendar(b, mustLoad(b, "America/New_York"), weekdays, "09:00", "17:00", "2026-12-25")
	start := time.Date(2026, 11, 20, 21, 0, 0, 0, time.UTC)
	for b.Loop() {
		cal.Add(start, 4*40*time.Hour)
	}
}

func TestCalendarDescribesItself(t *testing.T) {
	cal := mustCalendar(t, time.UTC, weekdays, "22:00", "06:00", "2027-01-01", "2026-12-25")
	if s, e := cal.Hours(); s != HourMinute(22, 0) || e != HourMinute(6, 0) {
		t.Errorf("Hours() = %s, %s", s, e)
	}
	if got := cal.OpenPerDay(); got != 8*time.Hour {
		t.Errorf("an overnight 22:00–06:00 shift is 8 hours, got %v", got)
	}
	if hs := cal.Holidays(); len(hs) != 2 || hs[0].String() != "2026-12-25" || hs[1].String() != "2027-01-01" {
		t.Errorf("Holidays() = %v, want them in date order", hs)
	}
	var always *Calendar
	if s, e := always.Hours(); s != 0 || e != HourMinute(24, 0) || always.OpenPerDay() != 24*time.Hour || always.Holidays() != nil || len(always.Days()) != 7 {
		t.Error("a 24×7 calendar is open all day every day with no holidays")
	}
	if got := mustCalendar(t, time.UTC, everyDay, "00:00", "00:00").OpenPerDay(); got != 24*time.Hour {
		t.Errorf("start == end is a 24-hour shift, got %v", got)
	}
}
