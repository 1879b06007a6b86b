package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// teamCalendarPolicy is a New York agreement (Mon–Fri 09:00–17:00) with
// four teams: sdr-east keeps the policy's calendar; emea works the same
// hours in Berlin with a holiday only it has (Tuesday 17 November 2026);
// dach works in Berlin with the policy's holidays; apac works 08:00–12:00
// in Tokyo.
//
// The expected times in these tests are worked out by hand from the zones'
// offsets in November 2026: New York UTC−5, Berlin UTC+1, Tokyo UTC+9.
const teamCalendarPolicy = `
timezone: America/New_York
business_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
holidays: ["2026-12-25"]
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com]
  - name: emea
    manager: max@example.com
    reps: [lena@example.com]
    calendar:
      timezone: Europe/Berlin
      holidays: ["2026-11-17"]
  - name: dach
    manager: jonas@example.com
    reps: [uwe@example.com]
    calendar: {timezone: Europe/Berlin}
  - name: apac
    manager: kenji@example.com
    reps: [yui@example.com]
    calendar:
      timezone: Asia/Tokyo
      business_hours: {days: [mon, tue, wed, thu, fri], start: "08:00", end: "12:00"}
rules:
  - name: default
    first_touch: 4h
    touches: {count: 3, within: 5d}
    remind_before: [1h]
    on_breach: [notify_manager]
`

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// monday1500 is Monday 16 November 2026, 15:00 UTC: 10:00 in New York,
// 16:00 in Berlin, midnight into Tuesday in Tokyo.
var monday1500 = utc("2026-11-16 15:00")

func TestTeamCalendarsAreReadFromThePolicy(t *testing.T) {
	p := attPolicy(t, teamCalendarPolicy)
	if got := p.CalendarFor("sdr-east"); got != p.Calendar {
		t.Errorf("sdr-east has no calendar of its own, got %v", got)
	}
	if got := p.CalendarFor(""); got != p.Calendar {
		t.Errorf("a lead without a team counts on the policy's calendar, got %v", got)
	}
	if got := p.CalendarFor("no-such-team"); got != p.Calendar {
		t.Errorf("an unknown team counts on the policy's calendar, got %v", got)
	}
	tests := []struct {
		team, want string
		holidays   []CalendarDate
	}{
		{"emea", "Mon–Fri 09:00–17:00 Europe/Berlin, holidays excluded", []CalendarDate{{2026, time.November, 17}}},
		{"EMEA", "Mon–Fri 09:00–17:00 Europe/Berlin, holidays excluded", []CalendarDate{{2026, time.November, 17}}},
		{"dach", "Mon–Fri 09:00–17:00 Europe/Berlin, holidays excluded", []CalendarDate{{2026, time.December, 25}}},
		{"apac", "Mon–Fri 08:00–12:00 Asia/Tokyo, holidays excluded", []CalendarDate{{2026, time.December, 25}}},
	}
	for _, tt := range tests {
		cal := p.CalendarFor(tt.team)
		if cal == p.Calendar {
			t.Errorf("%s: got the policy's calendar", tt.team)
			continue
		}
		if got := cal.String(); got != tt.want {
			t.Errorf("%s: calendar %q, want %q", tt.team, got, tt.want)
		}
		if diff := cmp.Diff(tt.holidays, cal.Holidays()); diff != "" {
			t.Errorf("%s: holidays (-want +got):\n%s", tt.team, diff)
		}
	}
	// A lead with no team recorded counts on its owner's team calendar.
	if got := p.CalendarForLead(&Lead{OwnerEmail: "Lena@Example.com"}); got != p.CalendarFor("emea") {
		t.Errorf("lena's lead without a team: %v, want emea's calendar", got)
	}
	if got, want := p.RepZone("lena@example.com").String(), "Europe/Berlin"; got != want {
		t.Errorf("lena's zone when she has none of her own: %s, want %s", got, want)
	}
	if got, want := p.RepZone("ana@example.com").String(), "America/New_York"; got != want {
		t.Errorf("ana's zone when she has none of her own: %s, want %s", got, want)
	}
}

func TestDeadlinesCountOnTheCalendarOfTheLeadsTeam(t *testing.T) {
	p := attPolicy(t, teamCalendarPolicy)
	r := p.Rule("default")
	cadence := utc("2026-11-21 15:00") // five calendar days, whichever team
	tests := []struct {
		team string
		want Deadlines
	}{
		// 10:00–14:00 New York.
		{"sdr-east", Deadlines{FirstTouchDue: utc("2026-11-16 19:00"), Reminders: []time.Time{utc("2026-11-16 18:00")}, CadenceDue: cadence}},
		// 16:00–17:00 Berlin on Monday, Tuesday is emea's holiday, then
		// 09:00–12:00 on Wednesday.
		{"emea", Deadlines{FirstTouchDue: utc("2026-11-18 11:00"), Reminders: []time.Time{utc("2026-11-18 10:00")}, CadenceDue: cadence}},
		// The same hours without emea's holiday: Tuesday 09:00–12:00.
		{"dach", Deadlines{FirstTouchDue: utc("2026-11-17 11:00"), Reminders: []time.Time{utc("2026-11-17 10:00")}, CadenceDue: cadence}},
		// Tokyo opens at 08:00 Tuesday (23:00 UTC Monday); four hours run
		// out at its 12:00 close, so the deadline is Wednesday's opening.
		{"apac", Deadlines{FirstTouchDue: utc("2026-11-17 23:00"), Reminders: []time.Time{utc("2026-11-17 02:00")}, CadenceDue: cadence}},
	}
	for _, tt := range tests {
		t.Run(tt.team, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, p.Deadlines(r, tt.team, monday1500), cmp.Comparer(time.Time.Equal)); diff != "" {
				t.Errorf("Deadlines (-want +got):\n%s", diff)
			}
			l := &Lead{ID: 1, OwnerEmail: p.Team(tt.team).Reps[0], Team: tt.team, Rule: r.Name, State: StateNotified, AssignedAt: monday1500}
			if diff := cmp.Diff(tt.want, p.LeadDeadlines(r, l, monday1500), cmp.Comparer(time.Time.Equal)); diff != "" {
				t.Errorf("LeadDeadlines (-want +got):\n%s", diff)
			}
			// The durable timers of the assignment fire at those times.
			var reminders []time.Time
			var due time.Time
			for _, j := range timerJobs(p, r, l) {
				switch j.Args.(type) {
				case ReminderArgs:
					reminders = append(reminders, j.RunAt)
				case FirstTouchDueArgs:
					due = j.RunAt
				}
			}
			if !due.Equal(tt.want.FirstTouchDue) || !cmp.Equal(reminders, tt.want.Reminders, cmp.Comparer(time.Time.Equal)) {
				t.Errorf("timers: due %v, reminders %v; want %v, %v", due, reminders, tt.want.FirstTouchDue, tt.want.Reminders)
			}
		})
	}
}

func TestBreachesAreJudgedOnTheTeamCalendar(t *testing.T) {
	p := attPolicy(t, teamCalendarPolicy)
	r := p.Rule("default")
	now := utc("2026-11-17 12:00") // Tuesday noon UTC
	// Deadlines from the test above: sdr-east Monday 19:00, dach Tuesday
	// 11:00 (both passed); emea Wednesday 11:00 (its holiday), apac
	// Tuesday 23:00 (not yet).
	want := map[string]bool{"sdr-east": true, "dach": true, "emea": false, "apac": false}
	for team, breached := range want {
		l := &Lead{ID: 7, OwnerEmail: p.Team(team).Reps[0], Team: team, Rule: r.Name, State: StateNotified, AssignedAt: monday1500}
		got := p.Breaches(r, l, nil, now)
		if breached != (len(got) == 1 && got[0].Kind == BreachFirstTouch) || (!breached && len(got) > 0) {
			t.Errorf("%s at %v: breaches %+v, want a first-touch breach: %v", team, now, got, breached)
		}
	}
}

func TestAReminderWaitsForTheTeamsOwnHours(t *testing.T) {
	p := attPolicy(t, teamCalendarPolicy)
	// An apac lead due Tuesday 23:00 UTC (Wednesday 08:00 in Tokyo). Its
	// rep, whose own zone slabot does not know, works apac's 08:00–12:00
	// in Tokyo, not the policy's 09:00–17:00.
	l := &Lead{ID: 9, OwnerEmail: "yui@example.com", Team: "apac", State: StateNotified,
		AssignedAt: monday1500, FirstTouchDue: utc("2026-11-17 23:00")}
	hours := p.CalendarForLead(l).In(p.RepZone(l.OwnerEmail))
	// Tuesday 08:30 in Tokyo: apac is open (the policy's hours would not be).
	if dec := DecideReminder(l, l.AssignedAt, l.FirstTouchDue, utc("2026-11-16 23:30"), hours); !dec.Send {
		t.Errorf("at 08:30 in Tokyo the apac rep is at work: %+v", dec)
	}
	// Tuesday 07:30 in Tokyo: held until apac opens at 08:00 (23:00 UTC).
	if dec := DecideReminder(l, l.AssignedAt, l.FirstTouchDue, utc("2026-11-16 22:30"), hours); !dec.At.Equal(utc("2026-11-16 23:00")) {
		t.Errorf("at 07:30 in Tokyo the reminder should wait for 08:00, got %+v", dec)
	}
	// An emea lead due Wednesday 11:00 UTC, at Tuesday 10:00 UTC: Tuesday
	// is emea's holiday, so the reminder waits for Wednesday 09:00 in
	// Berlin (08:00 UTC).
	e := &Lead{ID: 10, OwnerEmail: "lena@example.com", Team: "emea", State: StateNotified,
		AssignedAt: monday1500, FirstTouchDue: utc("2026-11-18 11:00")}
	dec := DecideReminder(e, e.AssignedAt, e.FirstTouchDue, utc("2026-11-17 10:00"), p.CalendarForLead(e).In(p.RepZone(e.OwnerEmail)))
	if want := utc("2026-11-18 08:00"); !dec.At.Equal(want) {
		t.Errorf("emea reminder held until %v, want %v (%+v)", dec.At, want, dec)
	}
}

func TestFiguresCountBusinessTimeOnTheTeamCalendar(t *testing.T) {
	p := attPolicy(t, teamCalendarPolicy)
	touch := utc("2026-11-18 09:00") // Wednesday: 04:00 New York, 10:00 Berlin
	lead := func(id int64, team string) LeadFacts {
		return LeadFacts{Lead: Lead{ID: id, OwnerEmail: p.Team(team).Reps[0], Team: team, Rule: "default", State: StateWorking,
			ReceivedAt: monday1500, AssignedAt: monday1500, FirstTouchAt: touch}, Touches: []time.Time{touch}}
	}
	facts := []LeadFacts{lead(1, "sdr-east"), lead(2, "emea"), lead(3, "dach")}
	// Business time from Monday 15:00 UTC to Wednesday 09:00 UTC:
	//   sdr-east: Monday 10:00–17:00 New York (7h), Tuesday 8h, Wednesday
	//             not yet open: 15h, due Monday 19:00 UTC: late;
	//   emea:     Monday 16:00–17:00 Berlin (1h), Tuesday a holiday,
	//             Wednesday 09:00–10:00 (1h): 2h, due Wednesday 11:00: on time;
	//   dach:     1h + Tuesday 8h + 1h: 10h, due Tuesday 11:00 UTC: late.
	want := map[int64]time.Duration{1: 15 * time.Hour, 2: 2 * time.Hour, 3: 10 * time.Hour}
	for i := range facts {
		g := FiguresOf(p, &facts[i])
		if g.FirstTouchBusiness != want[g.LeadID] {
			t.Errorf("lead %d (%s): business time to first touch %v, want %v", g.LeadID, facts[i].Lead.Team, g.FirstTouchBusiness, want[g.LeadID])
		}
	}
	week := WeekPeriod(2026, 47, p.Location)
	a := ComputeAttainment(p, facts, Scope{Kind: ScopeAll}, week, utc("2026-11-23 12:00"))
	if a.FirstTouchOnTime != 1 || a.FirstTouchLate != 2 {
		t.Errorf("on time %d, late %d; want 1 and 2", a.FirstTouchOnTime, a.FirstTouchLate)
	}
	if st := a.TimeToFirstTouchBusiness; st.Count != 3 || st.Median != 10*time.Hour || st.P90 != 15*time.Hour {
		t.Errorf("time to first touch %+v, want 3 leads, median 10h, 90th percentile 15h", st)
	}
	emea := ComputeAttainment(p, facts, Scope{Kind: ScopeTeam, Team: "emea"}, week, utc("2026-11-23 12:00"))
	if emea.FirstTouchOnTime != 1 || emea.FirstTouchLate != 0 || emea.TimeToFirstTouchBusiness.Median != 2*time.Hour {
		t.Errorf("emea: on time %d, late %d, median %v; want 1, 0, 2h", emea.FirstTouchOnTime, emea.FirstTouchLate, emea.TimeToFirstTouchBusiness.Median)
	}
}

func TestATeamCalendarChangesTheFiguresFingerprint(t *testing.T) {
	with := attPolicy(t, teamCalendarPolicy)
	without := attPolicy(t, strings.Replace(teamCalendarPolicy, "    calendar: {timezone: Europe/Berlin}\n", "", 1))
	if FiguresFingerprint(with) == FiguresFingerprint(without) {
		t.Error("dach's calendar is not in the fingerprint: figures kept under the old calendar would be reused")
	}
	moved := attPolicy(t, strings.Replace(teamCalendarPolicy, "calendar: {timezone: Europe/Berlin}", "calendar: {timezone: Europe/Paris}", 1))
	if FiguresFingerprint(with) == FiguresFingerprint(moved) {
		t.Error("a team calendar's zone is not in the fingerprint")
	}
}

func TestTeamCalendarProblemsNameTheTeam(t *testing.T) {
	base := `
timezone: America/New_York
business_hours: {start: "09:00", end: "17:00"}
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com]
  - name: emea
    manager: max@example.com
    reps: [lena@example.com]
    calendar:
%s
rules:
  - name: default
    first_touch: 4h
`
	tests := []struct {
		name, calendar string
		want           Problem
	}{
		{"a zone that does not exist", "      timezone: Europe/Berln",
			Problem{Path: "teams[1].calendar.timezone", Line: 12, Message: `"Europe/Berln" is not a time zone for team emea: use a name from the IANA time zone database, like America/New_York, Europe/Berlin or UTC`}},
		{"Local", "      timezone: Local",
			Problem{Path: "teams[1].calendar.timezone", Line: 12, Message: "write the zone's name for team emea, like America/New_York or Europe/Berlin, not Local: the server's zone may differ from the team's"}},
		{"a day that is not a day", "      business_hours: {days: [mon, funday], start: \"09:00\", end: \"17:00\"}",
			Problem{Path: "teams[1].calendar.business_hours.days[1]", Line: 12, Message: `"funday" is not a day of the week for team emea: write mon, tue, wed, thu, fri, sat or sun`}},
		{"a start that is not a time", "      business_hours: {start: \"9am\", end: \"17:00\"}",
			Problem{Path: "teams[1].calendar.business_hours.start", Line: 12, Message: `the start of the business day for team emea: "9am" is not a time of day: write it on the 24-hour clock as HH:MM, like 09:00 or 17:30`}},
		{"hours without an end", "      business_hours: {start: \"09:00\"}",
			Problem{Path: "teams[1].calendar.business_hours.end", Line: 12, Message: `is missing: business hours for team emea need a start and an end, like start: "09:00" and end: "17:00"`}},
		{"an unquoted time", "      business_hours: {start: 9, end: \"17:00\"}",
			Problem{Path: "teams[1].calendar.business_hours.start", Line: 12, Message: `"9" is not a time of day for team emea: write it in quotes as HH:MM, like "09:00"`}},
		{"a holiday that is not a date", "      holidays: [\"2026-02-30\"]",
			Problem{Path: "teams[1].calendar.holidays[0]", Line: 12, Message: `a holiday for team emea: "2026-02-30" is not a date: write it as YYYY-MM-DD, like 2026-12-25`}},
		{"a misspelt key", "      timezon: Europe/Berlin",
			Problem{Path: "teams[1].calendar.timezon", Line: 12, Message: `"timezon" is not a key slabot knows here: did you mean "timezone"?`}},
		{"an empty calendar", "      {}",
			Problem{Path: "teams[1].calendar", Line: 12, Message: "is empty: give team emea its own timezone, business_hours or holidays, or remove calendar to keep the policy's"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := strings.Replace(base, "%s", tt.calendar, 1)
			p, probs := ParsePolicy([]byte(data), policyNow)
			if p != nil {
				t.Fatalf("the policy was accepted:\n%s", data)
			}
			if diff := cmp.Diff(Problems{tt.want}, probs); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPolicyCheckSaysWhichCalendarEachTeamUses(t *testing.T) {
	p := attPolicy(t, teamCalendarPolicy)
	s := p.Summary()
	for _, want := range []string{
		"Business time is counted on the calendar of the lead's team",
		"- sdr-east: manager maria@example.com; reps ana@example.com; the policy's calendar (Mon–Fri 09:00–17:00 America/New_York, holidays 2026-12-25).",
		"- emea: manager max@example.com; reps lena@example.com; its own calendar, Mon–Fri 09:00–17:00 Europe/Berlin, holidays 2026-11-17.",
		"- dach: manager jonas@example.com; reps uwe@example.com; its own calendar, Mon–Fri 09:00–17:00 Europe/Berlin, holidays 2026-12-25.",
		"- apac: manager kenji@example.com; reps yui@example.com; its own calendar, Mon–Fri 08:00–12:00 Asia/Tokyo, holidays 2026-12-25.",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the summary lacks %q:\n%s", want, s)
		}
	}
	// A policy without team calendars says nothing about them.
	plain := examplePolicy(t).Summary()
	if strings.Contains(plain, "own calendar") || strings.Contains(plain, "the policy's calendar") || strings.Contains(plain, "lead's team") {
		t.Errorf("a policy without team calendars mentions calendars:\n%s", plain)
	}
}

func TestATeamCalendarTakesWhatItLeavesOutFromThePolicy(t *testing.T) {
	// A 24×7 policy whose holidays have no effect on it, and a team that
	// keeps office hours: the policy's holidays close the team's office.
	p, probs := ParsePolicy([]byte(`
timezone: UTC
holidays: ["2026-12-25"]
teams:
  - name: office
    manager: max@example.com
    reps: [lena@example.com]
    calendar:
      business_hours: {start: "09:00", end: "17:00"}
  - name: night
    manager: nora@example.com
    reps: [nils@example.com]
    calendar:
      timezone: Europe/Berlin
      holidays: ["2026-12-24"]
rules:
  - name: default
    first_touch: 4h
`), policyNow)
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	office := p.CalendarFor("office")
	if got, want := office.String(), "Mon–Fri 09:00–17:00 UTC, holidays excluded"; got != want {
		t.Errorf("office: %q, want %q", got, want)
	}
	if diff := cmp.Diff([]CalendarDate{{2026, time.December, 25}}, office.Holidays()); diff != "" {
		t.Errorf("office holidays (-want +got):\n%s", diff)
	}
	// Thursday 24 December 2026, 16:00 UTC: the office is open till 17:00.
	if got, want := p.Deadlines(p.Rule("default"), "office", utc("2026-12-24 16:00")), utc("2026-12-28 12:00"); !got.FirstTouchDue.Equal(want) {
		t.Errorf("office deadline over Christmas %v, want %v", got.FirstTouchDue, want)
	}
	night := p.CalendarFor("night")
	if !night.Always() || night.Location().String() != "Europe/Berlin" {
		t.Errorf("night: %v, want 24×7 in Europe/Berlin", night)
	}
	want := Problem{Path: "teams[1].calendar.holidays", Line: 15, Warning: true,
		Message: "the holidays of team night have no effect without business_hours: its SLA clock runs 24×7, holidays included"}
	if diff := cmp.Diff(Problems{want}, probs); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestReplayLookbackCoversATeamsSlowerCalendar(t *testing.T) {
	yaml := `
timezone: UTC
teams:
  - name: office
    manager: max@example.com
    reps: [lena@example.com]
%s
rules:
  - name: default
    first_touch: 4h
`
	around, probs := ParsePolicy([]byte(strings.Replace(yaml, "%s", "", 1)), policyNow)
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	office, probs := ParsePolicy([]byte(strings.Replace(yaml, "%s", `    calendar: {business_hours: {start: "09:00", end: "17:00"}}`, 1)), policyNow)
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	start := utc("2026-07-01 00:00")
	// Four office hours from Friday 17:00 end on Monday 13:00: 68 hours on
	// the wall, for each of two assignments.
	if got, least := ReplayLookback(start, office), 2*68*time.Hour; got < least {
		t.Errorf("lookback %v with the office's calendar, want at least %v", got, least)
	}
	if got, want := ReplayLookback(start, around), 2*4*time.Hour+24*time.Hour; got != want {
		t.Errorf("lookback %v around the clock, want %v", got, want)
	}
}

func TestACadenceWindowCountsWholeDaysInTheTeamsZone(t *testing.T) {
	p := attPolicy(t, strings.Replace(teamCalendarPolicy, "within: 5d", "within: 15d", 1))
	r := p.Rule("default")
	// Monday 2 March 2026, 09:00 UTC: 10:00 in Berlin (CET until 29
	// March), 04:00 in New York (EST until 8 March, then EDT). Fifteen
	// days on emea's clock end at 10:00 Berlin on 17 March, 09:00 UTC; on
	// New York's they end at 04:00 EDT, 08:00 UTC.
	assigned := utc("2026-03-02 09:00")
	for _, tc := range []struct {
		team string
		due  time.Time
	}{{"emea", utc("2026-03-17 09:00")}, {"sdr-east", utc("2026-03-17 08:00")}} {
		l := &Lead{ID: 3, OwnerEmail: p.Team(tc.team).Reps[0], Team: tc.team, Rule: r.Name, State: StateWorking,
			AssignedAt: assigned, FirstTouchAt: assigned.Add(time.Hour)}
		if got := p.LeadDeadlines(r, l, assigned).CadenceDue; !got.Equal(tc.due) {
			t.Errorf("%s: cadence due %v, want %v", tc.team, got, tc.due)
		}
		touches := []time.Time{assigned.Add(time.Hour)}
		halfway := utc("2026-03-17 08:30")
		cp := p.LeadCadence(r, l, assigned, halfway, touches)
		breaches := p.Breaches(r, l, touches, halfway)
		closed := tc.team == "sdr-east"
		if cp.Breached != closed || (len(breaches) == 1 && breaches[0].Kind == BreachCadence) != closed || !cp.Due.Equal(tc.due) {
			t.Errorf("%s at %v: %+v, breaches %+v; want the window closed: %v", tc.team, halfway, cp, breaches, closed)
		}
		f := LeadFacts{Lead: *l, Touches: touches}
		f.Lead.ReceivedAt = assigned
		if g := FiguresOf(p, &f); !g.CadenceEnd.Equal(tc.due) {
			t.Errorf("%s: figures' cadence end %v, want %v", tc.team, g.CadenceEnd, tc.due)
		}
		a := ComputeAttainment(p, []LeadFacts{f}, Scope{Kind: ScopeAll}, MonthPeriod(2026, time.March, p.Location), halfway)
		if missed := a.CadenceMissed == 1 && a.CadenceRunning == 0; missed != closed {
			t.Errorf("%s at %v: cadence missed %d, running %d; want missed: %v", tc.team, halfway, a.CadenceMissed, a.CadenceRunning, closed)
		}
	}
}
