package engine

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// policyNow is the "today" of the policy tests: after every holiday in the
// example, before its review date.
var policyNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func examplePolicy(t testing.TB) *Policy {
	t.Helper()
	p, probs := ParsePolicy(readTestdata(t, "policy-example.yaml"), policyNow)
	if len(probs) > 0 || p == nil {
		t.Fatalf("the design's example policy has problems:\n%v", probs)
	}
	return p
}

func intp(n int) *int { return &n }

func TestTheDesignExamplePolicyParsesClean(t *testing.T) {
	p := examplePolicy(t)
	ny := mustLoad(t, "America/New_York")
	want := &Policy{
		TimezoneName: "America/New_York",
		Holidays:     []string{"2026-12-25", "2027-01-01"},
		ReviewBy:     time.Date(2027, 6, 30, 0, 0, 0, 0, ny),
		Report:       ReportConfig{Channel: "#smarketing", Schedule: "0 9 * * MON"},
		Targets: Targets{MQLs: 1800, MQLToSQL: 0.25, SQLToWon: 0.15, Revenue: 5000, DealSize: 100, WinRate: 0.5,
			FirstTouchOnTime: 0.99, SQLs: 450, SQLsDerived: true},
		Teams: []Team{{Name: "sdr-east", Manager: "maria@example.com", EscalationChannel: "#sales-ops",
			Reps: []string{"ana@example.com", "bo@example.com"}}},
		Rules: []Rule{
			{Name: "demo-request", Match: Match{Source: []string{"demo_request"}}, FirstTouch: 15 * time.Minute,
				Touches: Cadence{Count: 8, Within: 15 * 24 * time.Hour}, RemindBefore: []time.Duration{10 * time.Minute, 2 * time.Minute},
				OnBreach: []BreachAction{ActionNotifyManager, ActionReassign}, Line: 21},
			{Name: "default", FirstTouch: 4 * time.Hour,
				Touches: Cadence{Count: 6, Within: 14 * 24 * time.Hour}, RemindBefore: []time.Duration{time.Hour, 15 * time.Minute},
				OnBreach: []BreachAction{ActionNotifyManager, ActionReturnToMarketing}, Line: 27},
		},
	}
	if diff := cmp.Diff(want, p, cmpopts.IgnoreFields(Policy{}, "Calendar", "Location"), cmpopts.IgnoreUnexported(Rule{})); diff != "" {
		t.Errorf("policy (-want +got):\n%s", diff)
	}
	if p.Location.String() != "America/New_York" {
		t.Errorf("Location = %v", p.Location)
	}
	if got := p.Calendar.String(); got != "Mon–Fri 09:00–17:00 America/New_York, holidays excluded" {
		t.Errorf("Calendar = %q", got)
	}
	if p.Calendar.IsOpen(at(t, ny, "2026-12-25 10:00")) {
		t.Error("Christmas is a holiday in the example")
	}
	if _, err := ParseSchedule(p.Report.Schedule); err != nil {
		t.Error(err)
	}
}

func TestABrokenPolicyListsEveryProblemAtOnceWithItsLine(t *testing.T) {
	p, probs := ParsePolicy(readTestdata(t, "policy-broken.yaml"), policyNow)
	if p != nil {
		t.Error("a policy with errors must not be returned")
	}
	want := strings.TrimSpace(`
line 1: timezone: "America/New_Yrok" is not a time zone: use a name from the IANA time zone database, like America/New_York, Europe/Berlin or UTC
line 2: business_hours.days[2]: "funday" is not a day of the week: write mon, tue, wed, thu, fri, sat or sun
line 2: business_hours.start: "9am" is not a time of day: write it on the 24-hour clock as HH:MM, like 09:00 or 17:30
line 3: holidays[1]: "25/12/2026" is not a date: write it as YYYY-MM-DD, like 2026-12-25
line 4: review_by: warning: the agreement was due for review on 2020-01-01: review it with Marketing and Sales and set a new review_by date
line 7: report.schedule: "0 9 * MON" has 4 fields: write 5 fields (minute hour day-of-month month day-of-week), like "0 9 * * MON" for Mondays at 09:00, or 6 with seconds first
line 9: targets.mqls: cannot be negative (it is -5)
line 10: targets.mql_to_sql: 25 is outside 0–1: rates are fractions, so for 25% write 0.25
line 12: targets.revenu: "revenu" is not a key slabot knows here: did you mean "revenue"?
line 17: teams[1].name: another team is already called "sdr-east" (line 14): team names must differ
line 17: teams[1].manager: is missing: sdr-east needs a manager (an email) to hear about breaches
line 18: teams[1].reps[0]: ana@example.com is also a rep in sdr-east (line 16): a rep belongs to one team
line 21: teams[2].reps: is empty: sdr-west has no reps to receive leads
line 24: rules[0].first_touch: "4 hours" is not a duration: write a number followed by s, m, h, d or w, like 15m or 4h
line 25: rules[0].touches.count: must be at least 1: it is how many touches the rep owes the lead, like count: 8
line 27: rules[1]: this rule can never match: rule "default" above (line 23) matches every lead; put the catch-all rule last
line 30: rules[1].remind_before[1]: a reminder 15 minutes before the deadline must be shorter than first_touch (15 minutes), or it would come before the lead arrives
line 31: rules[1].on_breach[1]: "escalate" is not a breach action: use notify_manager, reassign or return_to_marketing
line 32: rules[1].frist_touch: "frist_touch" is not a key slabot knows here: did you mean "first_touch"?
line 33: rules[2].name: another rule is already called "demo-request" (line 27): rule names must differ
line 33: rules[2]: this rule can never match: rule "default" above (line 23) matches every lead; put the catch-all rule last`)
	if diff := cmp.Diff(want, probs.Error()); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if n := len(probs.Warnings()); n != 1 {
		t.Errorf("%d warnings, want 1", n)
	}
	if probs.Err() == nil || len(probs.Errors()) != len(probs)-1 {
		t.Error("Errors and Err must hold every problem but the warning")
	}
}

// policyWith is the example policy with one top-level section replaced, so
// that each case below shows only the problem it is about.
func policyWith(t testing.TB, section, replacement string) string {
	t.Helper()
	lines := strings.Split(string(readTestdata(t, "policy-example.yaml")), "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], section+":") {
			out = append(out, strings.Split(strings.TrimRight(replacement, "\n"), "\n")...)
			for i+1 < len(lines) && (strings.HasPrefix(lines[i+1], " ") || lines[i+1] == "") {
				i++
			}
			continue
		}
		out = append(out, lines[i])
	}
	return strings.Join(out, "\n")
}

func TestPolicyCheckFindsEachKindOfProblem(t *testing.T) {
	tests := []struct {
		name    string
		section string // top-level key to replace in the example; "" for a whole file
		yaml    string
		want    Problem
	}{
		{"an unknown top-level key", "", "timezone: UTC\nteams: []\nrules: []\nbusines_hours: {}\n",
			Problem{Path: "busines_hours", Line: 4, Message: `"busines_hours" is not a key slabot knows here: did you mean "business_hours"?`}},
		{"an unknown key with nothing close lists the keys", "report", "report: {channel: x, color: red}",
			Problem{Path: "report.color", Line: 5, Message: `"color" is not a key slabot knows here: the keys are channel, schedule and score_bands`}},
		{"swapped letters count as one slip each", "", "timezone: UTC\nteams: []\nrules: []\ntiemzoen: UTC\n",
			Problem{Path: "tiemzoen", Line: 4, Message: `"tiemzoen" is not a key slabot knows here: did you mean "timezone"?`}},
		{"a dashed key suggests the underscored one", "report", "report: {channel: x}\nreview-by: \"2027-01-01\"",
			Problem{Path: "review-by", Line: 6, Message: `"review-by" is not a key slabot knows here: did you mean "review_by"?`}},
		{"a key given twice", "timezone", "timezone: UTC\ntimezone: Europe/Berlin",
			Problem{Path: "timezone", Line: 2, Message: "appears twice (first on line 1): keep one"}},
		{"Local is not a zone name", "timezone", "timezone: Local",
			Problem{Path: "timezone", Line: 1, Message: "write the zone's name, like America/New_York or Europe/Berlin, not Local: the server's zone may differ from the team's"}},
		{"business hours need an end", "business_hours", "business_hours: {start: \"09:00\"}",
			Problem{Path: "business_hours.end", Line: 2, Message: `is missing: business hours need a start and an end, like start: "09:00" and end: "17:00"`}},
		{"24:00 cannot start the day", "business_hours", "business_hours: {start: \"24:00\", end: \"08:00\"}",
			Problem{Path: "business_hours.start", Line: 2, Message: "the business day cannot start at 24:00: use 00:00"}},
		{"an unquoted number is not a time", "business_hours", "business_hours: {start: 9, end: \"17:00\"}",
			Problem{Path: "business_hours.start", Line: 2, Message: `"9" is not a time of day: write it in quotes as HH:MM, like "09:00"`}},
		{"business hours as a list", "business_hours", "business_hours: [mon, tue]",
			Problem{Path: "business_hours", Line: 2, Message: "should be a set of keys (days, start and end), but it is a list"}},
		{"a holiday that is not a date", "holidays", "holidays: [\"2026-02-30\"]",
			Problem{Path: "holidays[0]", Line: 3, Message: `"2026-02-30" is not a date: write it as YYYY-MM-DD, like 2026-12-25`}},
		{"review_by that is not a date", "review_by", "review_by: next year",
			Problem{Path: "review_by", Line: 4, Message: `"next year" is not a date: write it as YYYY-MM-DD, like 2026-12-25`}},
		{"a report without a channel", "report", "report: {schedule: \"0 9 * * MON\"}",
			Problem{Path: "report.channel", Line: 5, Message: `is missing: say where to post the report, like channel: "#smarketing"`}},
		{"a cron field out of range", "report", "report: {channel: x, schedule: \"0 25 * * MON\"}",
			Problem{Path: "report.schedule", Line: 5, Message: `"0 25 * * MON" is not a schedule (end of range (25) above maximum (23): 25): write 5 fields (minute hour day-of-month month day-of-week), like "0 9 * * MON" for Mondays at 09:00, or 6 with seconds first`}},
		{"a schedule with its own zone", "report", "report: {channel: x, schedule: \"TZ=UTC 0 9 * * MON\"}",
			Problem{Path: "report.schedule", Line: 5, Message: `"TZ=UTC 0 9 * * MON" names its own time zone: the report runs in the policy's timezone, so remove the TZ= part`}},
		{"a rate above 1", "targets", "targets: {win_rate: 1.5}",
			Problem{Path: "targets.win_rate", Line: 8, Message: "1.5 is outside 0–1: rates are fractions, like 0.25 for 25%"}},
		{"a negative rate", "targets", "targets: {first_touch_on_time: -0.5}",
			Problem{Path: "targets.first_touch_on_time", Line: 8, Message: "-0.5 is outside 0–1: rates are fractions, like 0.25 for 25%"}},
		{"a percentage above 100", "targets", "targets: {sql_to_won: 150%}",
			Problem{Path: "targets.sql_to_won", Line: 8, Message: "150% is outside 0–1: rates are fractions, like 0.25 for 25%"}},
		{"a negative revenue goal", "targets", "targets: {revenue: -5000}",
			Problem{Path: "targets.revenue", Line: 8, Message: "cannot be negative (it is -5000)"}},
		{"a count with a comma", "targets", "targets: {mqls: \"1,800\"}",
			Problem{Path: "targets.mqls", Line: 8, Message: `"1,800" is not a number: write digits only, like 1800 (no commas)`}},
		{"a fractional count", "targets", "targets: {sqls: 12.5}",
			Problem{Path: "targets.sqls", Line: 8, Message: "12.5 is not a whole number: write a count such as 13"}},
		{"money with a currency sign", "targets", "targets: {deal_size: $100}",
			Problem{Path: "targets.deal_size", Line: 8, Message: `"$100" is not a number: write digits only, like 5000 (no commas or currency signs)`}},
		{"a team without a manager", "teams", "teams:\n  - name: a\n    reps: [x@example.com]",
			Problem{Path: "teams[0].manager", Line: 16, Message: "is missing: a needs a manager (an email) to hear about breaches"}},
		{"a team without reps", "teams", "teams:\n  - name: a\n    manager: m@example.com",
			Problem{Path: "teams[0].reps", Line: 16, Message: "is missing: a has no reps to receive leads"}},
		{"a team without a name", "teams", "teams:\n  - manager: m@example.com\n    reps: [x@example.com]",
			Problem{Path: "teams[0].name", Line: 16, Message: "is missing: every team needs a name"}},
		{"a manager with a display name", "teams", "teams:\n  - name: a\n    manager: Maria <maria@example.com>\n    reps: [x@example.com]",
			Problem{Path: "teams[0].manager", Line: 17, Message: `"Maria <maria@example.com>" is not an email address: write it bare, like ana@example.com`}},
		{"a rep without a domain", "teams", "teams:\n  - name: a\n    manager: m@example.com\n    reps: [ana]",
			Problem{Path: "teams[0].reps[0]", Line: 18, Message: `"ana" is not an email address: write it bare, like ana@example.com`}},
		{"a rep in two teams, whatever the case", "teams", "teams:\n  - {name: a, manager: m@example.com, reps: [Ana@Example.com]}\n  - {name: b, manager: m@example.com, reps: [ana@example.com]}",
			Problem{Path: "teams[1].reps[0]", Line: 17, Message: "ana@example.com is also a rep in a (line 16): a rep belongs to one team"}},
		{"no teams at all", "teams", "",
			Problem{Path: "teams", Line: 1, Message: "the policy has no teams: list at least one team with its name, manager and reps"}},
		{"no rules at all", "rules", "",
			Problem{Path: "rules", Line: 1, Message: "the policy has no rules: add at least one that matches every lead, like\n  - name: default\n    first_touch: 4h"}},
		{"no catch-all rule", "rules", "rules:\n  - {name: demo, match: {source: demo}, first_touch: 15m}",
			Problem{Path: "rules", Line: 21, Message: "no rule matches every lead, so some leads would have no SLA: end the list with a rule without match, like\n  - name: default\n    first_touch: 4h"}},
		{"a rule shadowed by a broader one", "rules", "rules:\n  - {name: demo, match: {source: [demo, trial]}, first_touch: 15m}\n  - {name: demo-ent, match: {source: demo, segment: ent}, first_touch: 5m}\n  - {name: default, first_touch: 4h}",
			Problem{Path: "rules[1]", Line: 22, Message: `this rule can never match: rule "demo" above (line 21) already takes every lead it would match`}},
		{"a higher min_score after a lower one can never match", "rules", "rules:\n  - {name: hot, match: {min_score: 50}, first_touch: 15m}\n  - {name: hotter, match: {min_score: 80}, first_touch: 5m}\n  - {name: default, first_touch: 4h}",
			Problem{Path: "rules[1]", Line: 22, Message: `this rule can never match: rule "hot" above (line 21) already takes every lead it would match`}},
		{"a rule without first_touch", "rules", "rules:\n  - {name: default}",
			Problem{Path: "rules[0].first_touch", Line: 21, Message: "is missing: say how soon the rep must first touch the lead, like first_touch: 4h"}},
		{"a zero first_touch", "rules", "rules:\n  - {name: default, first_touch: 0m}",
			Problem{Path: "rules[0].first_touch", Line: 21, Message: "must be longer than 0, like 15m or 4h"}},
		{"a first touch longer than a year", "rules", "rules:\n  - {name: default, first_touch: 53w}",
			Problem{Path: "rules[0].first_touch", Line: 21, Message: "53 weeks is longer than a year: write at most 365d"}},
		{"a rule without a name", "rules", "rules:\n  - {first_touch: 4h}",
			Problem{Path: "rules[0].name", Line: 21, Message: "is missing: every rule needs a name, which reports and breaches refer to"}},
		{"a reminder longer than the deadline", "rules", "rules:\n  - {name: default, first_touch: 1h, remind_before: 2h}",
			Problem{Path: "rules[0].remind_before", Line: 21, Message: "a reminder 2 hours before the deadline must be shorter than first_touch (1 hour), or it would come before the lead arrives"}},
		{"touches without within", "rules", "rules:\n  - {name: default, first_touch: 1h, touches: {count: 8}}",
			Problem{Path: "rules[0].touches.within", Line: 21, Message: "is missing: say in how long, like {count: 8, within: 15d}"}},
		{"a misspelt breach action", "rules", "rules:\n  - {name: default, first_touch: 1h, on_breach: reasign}",
			Problem{Path: "rules[0].on_breach", Line: 21, Message: `"reasign" is not a breach action: use notify_manager, reassign or return_to_marketing (did you mean reassign?)`}},
		{"a min_score that is not a number", "rules", "rules:\n  - {name: hot, match: {min_score: high}, first_touch: 1h}\n  - {name: default, first_touch: 4h}",
			Problem{Path: "rules[0].match.min_score", Line: 21, Message: `"high" is not a whole number: write a score such as 80`}},
		{"an empty source list", "rules", "rules:\n  - {name: x, match: {source: []}, first_touch: 1h}\n  - {name: default, first_touch: 4h}",
			Problem{Path: "rules[0].match.source", Line: 21, Message: "is an empty list"}},
		{"rules as a mapping", "rules", "rules: {name: default}",
			Problem{Path: "rules", Line: 20, Message: `should be a list of rules (one per line starting with "- "), but it is a set of keys`}},
		{"a key with no value", "rules", "rules:\n  - name: default\n    first_touch:",
			Problem{Path: "rules[0].first_touch", Line: 22, Message: "has no value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.yaml
			if tt.section != "" {
				src = policyWith(t, tt.section, tt.yaml)
			}
			p, probs := ParsePolicy([]byte(src), policyNow)
			if p != nil {
				t.Errorf("got a policy despite the problem; problems: %v", probs)
			}
			for _, got := range probs {
				if got == tt.want {
					return
				}
			}
			t.Errorf("want problem\n  %s\ngot\n  %s\nfile:\n%s", tt.want, strings.ReplaceAll(probs.Error(), "\n", "\n  "), src)
		})
	}
}

func TestPolicyCheckWarnsButStillReturnsThePolicy(t *testing.T) {
	tests := []struct {
		name    string
		section string
		yaml    string
		want    Problem
	}{
		{"a review date in the past", "review_by", "review_by: \"2026-11-22\"",
			Problem{Path: "review_by", Line: 4, Warning: true, Message: "the agreement was due for review on 2026-11-22: review it with Marketing and Sales and set a new review_by date"}},
		{"a first touch of a day counts business hours", "rules", "rules:\n  - {name: default, first_touch: 1d}",
			Problem{Path: "rules[0].first_touch", Line: 21, Warning: true, Message: "1 day counts business hours only: with 8 hours open a day that is about 3 business days; for one business day write 8h"}},
		{"holidays without business hours", "business_hours", "",
			Problem{Path: "holidays", Line: 3, Warning: true, Message: "holidays have no effect without business_hours: the SLA clock runs 24×7, holidays included"}},
		{"a holiday listed twice", "holidays", "holidays: [\"2026-12-25\", \"2026-12-25\"]",
			Problem{Path: "holidays[1]", Line: 3, Warning: true, Message: "2026-12-25 is listed twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, probs := ParsePolicy([]byte(policyWith(t, tt.section, tt.yaml)), policyNow)
			if p == nil {
				t.Fatalf("warnings must not withhold the policy: %v", probs)
			}
			if diff := cmp.Diff(Problems{tt.want}, probs); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if probs.Err() != nil {
				t.Errorf("Err() = %v, want nil with only warnings", probs.Err())
			}
		})
	}
}

func TestPolicyFilesThatAreNotPoliciesGetAClearProblem(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       string
	}{
		{"empty", "", "the policy file is empty: a policy needs at least timezone:, teams: and rules: (see the example in the README)"},
		{"only comments", "# nothing yet\n", "the policy file is empty: a policy needs at least timezone:, teams: and rules: (see the example in the README)"},
		{"a null document", "~\n", "line 1: the policy file is empty: a policy needs at least timezone:, teams: and rules: (see the example in the README)"},
		{"a single word", "hello", "line 1: the policy file should be a list of keys like timezone:, teams: and rules:, but it is the single value \"hello\""},
		{"a list", "- a\n- b\n", "line 1: the policy file should be a list of keys like timezone:, teams: and rules:, but it is a list"},
		{"broken YAML", "timezone: UTC\nrules: name: x\n", "line 2: this is not valid YAML: mapping values are not allowed in this context"},
		{"tabs", "rules:\n\t- name: x\n", "line 2: this is not valid YAML: found character that cannot start any token (indent with spaces, not tabs)"},
		{"binary junk", "\x00\x01\x02", "this is not valid YAML: control characters are not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, probs := ParsePolicy([]byte(tt.yaml), policyNow)
			if p != nil || len(probs) == 0 {
				t.Fatalf("got %v, %v", p, probs)
			}
			if got := probs.Error(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestAMinimalPolicyRunsAroundTheClockInUTC(t *testing.T) {
	p, probs := ParsePolicy([]byte("teams: [{name: a, manager: m@example.com, reps: [r@example.com]}]\nrules: [{name: default, first_touch: 4h}]\n"), policyNow)
	if p == nil {
		t.Fatal(probs)
	}
	if p.Location != time.UTC || p.TimezoneName != "UTC" || p.Calendar != nil {
		t.Errorf("zone %v %q, calendar %v; want UTC and 24×7", p.Location, p.TimezoneName, p.Calendar)
	}
	if p.Targets.FirstTouchOnTime != 0.99 {
		t.Errorf("first_touch_on_time defaults to 0.99, got %v", p.Targets.FirstTouchOnTime)
	}
	if p.Report != (ReportConfig{}) {
		t.Errorf("no report section, got %+v", p.Report)
	}
}

func TestPolicyAcceptsFriendlyVariants(t *testing.T) {
	src := `
timezone: Europe/Berlin
business_hours: {days: [Mon-Thu, saturday], start: "8:30", end: "24:00"}
holidays: [2026-12-25]
review_by: 2027-06-30
report: {channel: C0123ABC}
targets: {mqls: 1500, mql_to_sql: 20%, sql_to_won: 0.10}
teams:
  - {name: emea, manager: Boss@Example.com, reps: [ONE@example.com, two@example.com]}
rules:
  - name: enterprise
    match: {source: [Demo_Request, trial], segment: Enterprise, min_score: 80}
    first_touch: 30m
    remind_before: 10m
    on_breach: notify_manager
  - name: default
    first_touch: 1h30m
`
	p, probs := ParsePolicy([]byte(src), policyNow)
	if p == nil || len(probs) > 0 {
		t.Fatal(probs)
	}
	if got := p.Calendar.String(); got != "Mon–Thu, Sat 08:30–24:00 Europe/Berlin, holidays excluded" {
		t.Errorf("calendar %q", got)
	}
	if p.Holidays[0] != "2026-12-25" || p.ReviewBy.Format(time.DateOnly) != "2027-06-30" {
		t.Errorf("unquoted dates: holidays %v, review_by %s", p.Holidays, p.ReviewBy)
	}
	if p.Report.Schedule != DefaultReportSchedule {
		t.Errorf("a report without a schedule runs on %q", p.Report.Schedule)
	}
	if p.Targets.MQLToSQL != 0.2 || p.Targets.SQLs != 300 {
		t.Errorf("20%% of 1500 MQLs: rate %v, SQLs %d", p.Targets.MQLToSQL, p.Targets.SQLs)
	}
	want := Rule{Name: "enterprise", Match: Match{Source: []string{"demo_request", "trial"}, Segment: []string{"enterprise"}, MinScore: intp(80)},
		FirstTouch: 30 * time.Minute, RemindBefore: []time.Duration{10 * time.Minute}, OnBreach: []BreachAction{ActionNotifyManager}, Line: 11}
	if diff := cmp.Diff(want, p.Rules[0], cmpopts.IgnoreUnexported(Rule{})); diff != "" {
		t.Errorf("rule (-want +got):\n%s", diff)
	}
	if got := p.Teams[0]; got.Manager != "boss@example.com" || got.Reps[0] != "one@example.com" {
		t.Errorf("emails are lower-cased: %+v", got)
	}
}

func TestRuleForPicksTheFirstMatchingRule(t *testing.T) {
	src := `
teams: [{name: a, manager: m@example.com, reps: [r@example.com]}]
rules:
  - {name: hot-demo, match: {source: demo_request, min_score: 80}, first_touch: 5m}
  - {name: demo, match: {source: demo_request}, first_touch: 15m}
  - {name: enterprise, match: {segment: [enterprise, strategic]}, first_touch: 1h}
  - {name: default, first_touch: 4h}
`
	p, probs := ParsePolicy([]byte(src), policyNow)
	if p == nil {
		t.Fatal(probs)
	}
	tests := []struct {
		source, segment string
		score           int
		want            string
	}{
		{"demo_request", "smb", 90, "hot-demo"},
		{"demo_request", "smb", 80, "hot-demo"},
		{"demo_request", "smb", 79, "demo"},
		{"DEMO_REQUEST", "", 0, "demo"},
		{" demo_request ", "", 0, "demo"},
		{"webinar", "Strategic", 0, "enterprise"},
		{"webinar", "smb", 100, "default"},
		{"", "", 0, "default"},
	}
	for _, tt := range tests {
		if got := p.RuleFor(tt.source, tt.segment, tt.score); got == nil || got.Name != tt.want {
			t.Errorf("RuleFor(%q, %q, %d) = %v, want %s", tt.source, tt.segment, tt.score, got, tt.want)
		}
	}
	if p.Rule("DEMO") == nil || p.Rule("nope") != nil {
		t.Error("Rule looks rules up by name, ignoring case")
	}
	empty := &Policy{}
	if empty.RuleFor("x", "y", 1) != nil {
		t.Error("a policy without rules has no rule for a lead")
	}
}

func TestTeamLookups(t *testing.T) {
	p := examplePolicy(t)
	if tm := p.TeamOf(" Ana@Example.com "); tm == nil || tm.Name != "sdr-east" {
		t.Errorf("TeamOf(ana) = %v", tm)
	}
	if p.TeamOf("maria@example.com") != nil {
		t.Error("a manager who is not a rep has no team as a rep")
	}
	if tm := p.Team("SDR-East"); tm == nil || tm.Manager != "maria@example.com" {
		t.Errorf("Team(SDR-East) = %v", tm)
	}
	if p.Team("west") != nil {
		t.Error("Team(west) should be nil")
	}
}

func TestSummaryStatesTheAgreementInPlainWords(t *testing.T) {
	got := examplePolicy(t).Summary()
	for _, want := range []string{
		"Demo request (source demo_request): first touch within 15 business minutes (Mon–Fri 09:00–17:00 America/New_York, holidays excluded); at least 8 touches within 15 days; reminders 10 minutes and 2 minutes before the deadline; on breach the manager is told and the lead is reassigned.",
		"Default (every other lead): first touch within 4 business hours (Mon–Fri 09:00–17:00 America/New_York, holidays excluded); at least 6 touches within 2 weeks; reminders 1 hour and 15 minutes before the deadline; on breach the manager is told and the lead goes back to Marketing.",
		"Sales aims to make the first touch on time for 99% of leads.",
		"Snoozing a lead silences its reminders but does not stop the SLA clock.",
		"Marketing delivers 1,800 MQLs.",
		"25% of MQLs become SQLs (MQL→SQL).",
		"That is 450 SQLs (1,800 × 25%, rounded up).",
		"Sales wins 15% of SQLs (SQL→won): 68 deals.",
		"Revenue goal: 5,000 at an average deal size of 100: 50 deals.",
		"Win rate: 50%, so the revenue goal needs 100 SQLs (400 MQLs).",
		`a status report goes to #smarketing on the schedule "0 9 * * MON" (America/New_York)`,
		"sdr-east: manager maria@example.com; reps ana@example.com and bo@example.com; breaches also go to #sales-ops.",
		"This agreement is to be reviewed by Wednesday 30 June 2027.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q\n%s", want, got)
		}
	}
	minimal, probs := ParsePolicy([]byte("teams: [{name: a, manager: m@example.com, reps: [r@example.com]}]\nrules: [{name: default, first_touch: 4h, touches: {count: 1, within: 1d}, remind_before: 1h}]\n"), policyNow)
	if minimal == nil {
		t.Fatal(probs)
	}
	sum := minimal.Summary()
	for _, want := range []string{
		"Default (every other lead): first touch within 4 hours; at least 1 touch within 1 day; a reminder 1 hour before the deadline; a breach is recorded for the weekly report.",
		"The SLA clock runs around the clock",
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q\n%s", want, sum)
		}
	}
}

func TestLoadPolicyReadsTheFile(t *testing.T) {
	if p, probs := LoadPolicy("testdata/policy-example.yaml", policyNow); p == nil || len(probs) > 0 {
		t.Errorf("LoadPolicy(example) = %v, %v", p, probs)
	}
	p, probs := LoadPolicy("testdata/no-such-file.yaml", policyNow)
	if p != nil || len(probs) != 1 || !strings.Contains(probs[0].Message, "there is no policy file at testdata/no-such-file.yaml") {
		t.Errorf("LoadPolicy(missing) = %v, %v", p, probs)
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add(readTestdata(f, "policy-example.yaml"))
	f.Add(readTestdata(f, "policy-broken.yaml"))
	for _, s := range []string{
		"", "~", "hello", "- a", "rules:\n\t- x", "a: &x [*x]", "rules: [{name: d, first_touch: 1d}]\nbusiness_hours: {start: '22:00', end: '06:00'}",
		"teams: [{name: a, manager: m@x.io, reps: [r@x.io]}]\nrules: [{name: d, first_touch: 4h, remind_before: [1h, 1h, 30m]}]",
		"rules: [{name: x, match: {source: [a, b], segment: c, min_score: -1}, first_touch: 9999999w}]",
		"targets: {mqls: 99999999999999999999, win_rate: .nan, revenue: .inf}",
		"business_hours: {days: [sun-sat], start: '00:00', end: '00:00'}\nholidays: [2026-01-01]",
		"x: &a {b: *a}", "{<<: {timezone: UTC}}", "rules: [[[]]]", "teams: [1, 2]", "? [a]\n: b",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, probs := ParsePolicy(data, policyNow)
		for _, pr := range probs {
			if strings.TrimSpace(pr.Message) == "" {
				t.Fatalf("a problem without a message: %#v", pr)
			}
		}
		if p == nil && len(probs.Errors()) == 0 {
			t.Fatalf("no policy and no error for %q", data)
		}
		if p != nil {
			if len(probs.Errors()) > 0 {
				t.Fatalf("a policy despite errors: %v", probs)
			}
			_ = p.Summary()
			if r := p.RuleFor("x", "y", 0); r == nil {
				t.Fatalf("a valid policy without a catch-all: %q", data)
			} else {
				_ = p.Deadlines(r, "", policyNow)
			}
		}
	})
}

func TestReportSchedulesTakeFiveOrSixFieldsOrADescriptor(t *testing.T) {
	tests := []struct {
		spec        string
		ok, seconds bool
	}{
		{"0 9 * * MON", true, false},
		{"30 0 9 * * MON", true, true},
		{"@weekly", true, false},
		{"0 9 * * MON-FRI", true, false},
		{"0 9 * *", false, false},
		{"0 0 9 * * MON 2027", false, false},
		{"@fortnightly", false, false},
		{"61 9 * * MON", false, false},
	}
	for _, tt := range tests {
		sched, err := ParseSchedule(tt.spec)
		if (err == nil) != tt.ok {
			t.Errorf("ParseSchedule(%q) error = %v, want ok %v", tt.spec, err, tt.ok)
			continue
		}
		if err != nil {
			if ErrorMessage(err) == "" {
				t.Errorf("ParseSchedule(%q): rejection without a message", tt.spec)
			}
			continue
		}
		if got := (ReportConfig{Schedule: tt.spec}).WithSeconds(); got != tt.seconds {
			t.Errorf("WithSeconds(%q) = %v", tt.spec, got)
		}
		from := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) // a Monday, after 09:00
		if next := sched.Next(from); !next.After(from) {
			t.Errorf("%q: next run %s", tt.spec, next)
		}
	}
	s, _ := ParseSchedule("30 0 9 * * MON")
	if got, want := s.Next(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)), time.Date(2026, 11, 30, 9, 0, 30, 0, time.UTC); !got.Equal(want) {
		t.Errorf("6-field spec: next %s, want %s", got, want)
	}
}

func TestMatchSaysWhichLeadsItTakes(t *testing.T) {
	tests := []struct {
		m    Match
		want string
	}{
		{Match{}, "every lead"},
		{Match{Source: []string{"demo_request"}}, "source demo_request"},
		{Match{Source: []string{"demo", "trial", "webinar"}, Segment: []string{"enterprise", "smb"}, MinScore: intp(80)},
			"source demo, trial or webinar, segment enterprise or smb, score 80 or more"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.m, got, tt.want)
		}
	}
	for a, want := range map[BreachAction]string{ActionNotifyManager: "the manager is told", ActionReassign: "the lead is reassigned", ActionReturnToMarketing: "the lead goes back to Marketing", "other": "other"} {
		if got := breachSentence(a); got != want {
			t.Errorf("breachSentence(%s) = %q", a, got)
		}
	}
	if got := businessDuration(90 * time.Minute); got != "1 hour 30 minutes of business time" {
		t.Errorf("businessDuration = %q", got)
	}
}

func TestATeamsChannelMayHaveSpacesASlackChannelMayNot(t *testing.T) {
	base := "teams: [{name: t, manager: m@x.test, escalation_channel: \"Sales East/Escalations\", reps: [r@x.test]}]\n" +
		"rules: [{name: d, first_touch: 4h}]\n"
	p, problems := ParsePolicy([]byte("report: {channel: \"Sales East/SLA reports\"}\n"+base), time.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatalf("a Teams channel is refused: %v", errs)
	}
	if p.Report.Channel != "Sales East/SLA reports" {
		t.Errorf("report channel %q", p.Report.Channel)
	}
	_, problems = ParsePolicy([]byte("report: {channel: \"sales ops\"}\n"+base), time.Now())
	if errs := problems.Errors(); len(errs) != 1 || !strings.Contains(errs[0].Message, "Team name/Channel name") {
		t.Errorf("a Slack channel name with a space: %v", errs)
	}
}
