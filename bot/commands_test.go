package bot

// Unit tests of the /sla parser and the answers' wording. Every subcommand
// answered over a data set is in commands_flow_test.go, through the
// in-memory chat; Slack's and Teams' own ways of carrying a command are
// their adapters' tests.

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

func TestParseCommand(t *testing.T) {
	cases := []struct {
		text string
		want command
	}{
		{"", command{Kind: cmdHelp}},
		{"  help ", command{Kind: cmdHelp}},
		{"HELP status", command{Kind: cmdHelp}},
		{"status", command{Kind: cmdStatus}},
		{"stats month", command{Kind: cmdStatus, Period: "month"}},
		{"status team quarter share", command{Kind: cmdStatus, Scope: scopeTeam, Period: "quarter", Share: true}},
		{"status team sdr-east", command{Kind: cmdStatus, Scope: scopeTeam, Team: "sdr-east"}},
		{"status all", command{Kind: cmdStatus, Scope: scopeAll}},
		{"status " + PersonToken("U0ANA", "ana") + " week", command{Kind: cmdStatus, Scope: scopeRep, Person: person{UserID: "U0ANA", Name: "ana"}, Period: "week"}},
		{"status " + PersonToken("W12AB", ""), command{Kind: cmdStatus, Scope: scopeRep, Person: person{UserID: "W12AB"}}},
		{"status " + PersonToken("4d1c0f2e-7b7e-4bb8-9a8e-2f1c8d9e0a11", "Bo van der Berg") + " month", command{Kind: cmdStatus, Scope: scopeRep,
			Person: person{UserID: "4d1c0f2e-7b7e-4bb8-9a8e-2f1c8d9e0a11", Name: "Bo van der Berg"}, Period: "month"}},
		{"status @nobody", command{Kind: cmdStatus, Scope: scopeRep, Person: person{Handle: "nobody"}}},
		{"status Ana@Example.com", command{Kind: cmdStatus, Scope: scopeRep, Person: person{Email: "ana@example.com"}}},
		{"status bo@example.com", command{Kind: cmdStatus, Scope: scopeRep, Person: person{Email: "bo@example.com"}}},
		{"leads", command{Kind: cmdLeads}},
		{"funnel", command{Kind: cmdFunnel}},
		{"funnel quarter", command{Kind: cmdFunnel, Period: "quarter"}},
		{"funnel October", command{Kind: cmdFunnel, Period: "month", Month: time.October}},
		{"funnel 2026-09 share", command{Kind: cmdFunnel, Period: "month", Year: 2026, Month: time.September, Share: true}},
		{"plan revenue=5000 deal=100 win=0.5", command{Kind: cmdPlan, Revenue: 5000, Deal: 100, Win: 0.5}},
		{"plan revenue=$5,000 deal_size=100 win_rate=50% mql_to_sql=25%", command{Kind: cmdPlan, Revenue: 5000, Deal: 100, Win: 0.5, MQLToSQL: 0.25, HasMQLToSQL: true}},
		{"plan win=0.5 revenue=5k deal=100", command{Kind: cmdPlan, Revenue: 5000, Deal: 100, Win: 0.5}},
		{"policy share", command{Kind: cmdPolicy, Share: true}},
		{"away", command{Kind: cmdAway}},
		{"away until 2026-12-01", command{Kind: cmdAway, Until: &dateSpec{Year: 2026, Month: time.December, Day: 1, Text: "2026-12-01"}}},
		{"ooo until Dec 1", command{Kind: cmdAway, Until: &dateSpec{Month: time.December, Day: 1, Text: "Dec 1"}}},
		{"away " + PersonToken("U0BO", "bo") + " until monday", command{Kind: cmdAway, Person: person{UserID: "U0BO", Name: "bo"}, Until: &dateSpec{Weekday: time.Monday, HasWkday: true, Text: "monday"}}},
		{"away tomorrow", command{Kind: cmdAway, Until: &dateSpec{Tomorrow: true, Text: "tomorrow"}}},
		{"away until 3 March 2027", command{Kind: cmdAway, Until: &dateSpec{Year: 2027, Month: time.March, Day: 3, Text: "3 March 2027"}}},
		{"back", command{Kind: cmdBack}},
		{"back " + PersonToken("U0BO", "bo"), command{Kind: cmdBack, Person: person{UserID: "U0BO", Name: "bo"}}},
		{"report", command{Kind: cmdReport}},
	}
	for _, c := range cases {
		got, err := parseCommand(c.text)
		if err != nil {
			t.Errorf("parseCommand(%q): %v", c.text, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("parseCommand(%q) (-want +got):\n%s", c.text, diff)
		}
	}
}

func TestParseCommandRefusals(t *testing.T) {
	cases := []struct {
		text    string
		suggest string   // closest command, for an unknown word
		says    []string // in the message
	}{
		{"stauts", cmdStatus, nil},
		{"statsu team", cmdStatus, nil},
		{"laeds", cmdLeads, nil},
		{"fnnel", cmdFunnel, nil},
		{"xyzzy", "", nil},
		{"vacation until friday", "", nil}, // an alias: accepted, see below
		{"status @ana @bo", "", []string{"one scope", "/sla status"}},
		{"status weekly", "", []string{"\"weekly\"", "did you mean `week`"}},
		{"status week month", "", []string{"one period"}},
		{"status blah", "", []string{"\"blah\"", "name a rep with @"}},
		{"plan revenue=abc deal=100 win=0.5", "", []string{"\"abc\" is not a number for revenue", "/sla plan revenue=5000 deal=100 win=0.5"}},
		{"plan revenue=5000", "", []string{"deal and win are missing", "/sla plan revenue=5000"}},
		{"plan revenue 5000", "", []string{"revenue=5000"}},
		{"plan revnue=5000 deal=100 win=0.5", "", []string{"did you mean revenue"}},
		{"plan revenue=5000 revenue=6000 deal=1 win=1", "", []string{"twice"}},
		{"plan revenue=50% deal=100 win=0.5", "", []string{"percentage only fits a rate"}},
		{"plan revenue=0x10 deal=100 win=0.5", "", []string{"not a number"}},
		{"plan revenue=NaN deal=100 win=0.5", "", []string{"not a number"}},
		{"funnel yesterday", "", []string{"not a period"}},
		{"funnel 2026-13", "", []string{"not a month"}},
		{"away until someday", "", []string{"\"someday\" as a date", "/sla away"}},
		{"away until", "", []string{"until when"}},
		{"away until 2026-02-30", "", []string{"not a date on the calendar"}},
		{"back @ana @bo", "", []string{"at most one person"}},
		{"leads share", "", []string{"cannot be shared"}},
		{"leads mine", "", []string{"takes no more words"}},
		{"report now", "", []string{"takes no more words"}},
	}
	for _, c := range cases {
		_, err := parseCommand(c.text)
		if c.text == "vacation until friday" {
			if err != nil {
				t.Errorf("the alias %q was refused: %v", c.text, err)
			}
			continue
		}
		var pe *parseError
		if !errors.As(err, &pe) {
			t.Errorf("parseCommand(%q) = %v, want a *parseError", c.text, err)
			continue
		}
		if pe.Suggest != c.suggest {
			t.Errorf("parseCommand(%q) suggests %q, want %q", c.text, pe.Suggest, c.suggest)
		}
		for _, s := range c.says {
			if !strings.Contains(pe.Error(), s) {
				t.Errorf("parseCommand(%q) says %q, want it to contain %q", c.text, pe.Error(), s)
			}
		}
	}
}

// FuzzParseCommand checks that no text makes the parser panic, and that
// every refusal explains itself: a message, and either a correct call to
// copy or (for an unknown command) the help.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"", "help", "status " + PersonToken("U0ANA", "ana") + " week share", "status team sdr-east month",
		"plan revenue=5000 deal=100 win=0.5 mql_to_sql=0.25", "plan revenue=abc", "away " + PersonToken("U1", "x") + " until Dec 31",
		"away until 2026-02-29", "funnel 2026-11", "stauts", PersonToken("U1", "a b") + " <<>>", "plan =", "status a@b.c", "\uFDD0U1 \uFDD2",
		"away until 31st december 2027", "\x00\xff", "back @ana", "funnel sept"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := parseCommand(text)
		if err == nil {
			if _, ok := commandUsage[c.Kind]; !ok {
				t.Fatalf("parseCommand(%q) accepted an unknown kind %q", text, c.Kind)
			}
			if c.Until != nil && c.Until.Year == 0 { // a date with a year may be past; the engine refuses it
				now := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)
				if u := c.Until.resolve(now, time.UTC); !u.After(now.Add(-24 * time.Hour)) {
					t.Fatalf("parseCommand(%q): return date %v is in the past", text, u)
				}
			}
			return
		}
		var pe *parseError
		if !errors.As(err, &pe) {
			t.Fatalf("parseCommand(%q) returned %T, want *parseError", text, err)
		}
		msg := pe.Error()
		if strings.TrimSpace(pe.Msg.Plain()) == "" || !utf8.ValidString(msg) {
			t.Fatalf("parseCommand(%q) refused without a readable reason: %q", text, msg)
		}
		if pe.Unknown == "" && !strings.Contains(msg, "Try: `/sla ") {
			t.Fatalf("parseCommand(%q) refused without showing a correct call: %q", text, msg)
		}
		if pe.Suggest != "" {
			if _, ok := commandUsage[pe.Suggest]; !ok {
				t.Fatalf("parseCommand(%q) suggests %q, which is no command", text, pe.Suggest)
			}
		}
		if len(msg) > 1000 {
			t.Fatalf("parseCommand(%q) explains at length (%d bytes)", text, len(msg))
		}
	})
}

func TestDateResolve(t *testing.T) {
	now := time.Date(2026, 11, 18, 15, 0, 0, 0, time.UTC) // a Wednesday
	ny, _ := time.LoadLocation("America/New_York")
	cases := []struct {
		text string
		loc  *time.Location
		want time.Time
	}{
		{"tomorrow", time.UTC, time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)},
		{"monday", time.UTC, time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)},
		{"wednesday", time.UTC, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}, // today's weekday means next week
		{"Dec 1", ny, time.Date(2026, 12, 1, 0, 0, 0, 0, ny)},
		{"Nov 2", time.UTC, time.Date(2027, 11, 2, 0, 0, 0, 0, time.UTC)}, // passed this year: next year
		{"2026-12-24", time.UTC, time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		spec, err := parseDate(c.text)
		if err != nil {
			t.Errorf("parseDate(%q): %v", c.text, err)
			continue
		}
		if got := spec.resolve(now, c.loc); !got.Equal(c.want) {
			t.Errorf("%q resolves to %v, want %v", c.text, got, c.want)
		}
	}
}

func TestWording(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "30 s", 12 * time.Minute: "12 min", time.Hour: "1 h", 125 * time.Minute: "2 h 5 min",
		76 * time.Hour: "3 days 4 h", 72 * time.Hour: "3 days",
	} {
		if got := durationText(d); got != want {
			t.Errorf("durationText(%v) = %q, want %q", d, got, want)
		}
	}
	for x, want := range map[float64]string{0: "0%", 2.0 / 3: "67%", 0.995: "99.5%", 1: "100%", 0.001: "0.1%", 0.25: "25%"} {
		if got := pct(x); got != want {
			t.Errorf("pct(%v) = %q, want %q", x, got, want)
		}
	}
	if got := closestCommand("polcy"); got != cmdPolicy {
		t.Errorf("closestCommand(polcy) = %q", got)
	}
	if got := closestCommand("st"); got != cmdStatus {
		t.Errorf("closestCommand(st) = %q", got)
	}
	r := helpReply("/sla", &parseError{Unknown: "stauts", Suggest: cmdStatus})
	if !strings.Contains(r.Message.Summary, "Did you mean /sla status") {
		t.Errorf("help fallback %q does not suggest the command", r.Message.Summary)
	}
}

func TestReportWithoutAReportChannelSaysWhatToAdd(t *testing.T) {
	policy, problems := engine.ParsePolicy([]byte("teams: [{name: t, manager: m@x.test, reps: [r@x.test]}]\nrules: [{name: d, first_touch: 4h}]\n"), time.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	b := &Bot{service: engine.NewService(nil, policy, time.Now, nil)}
	r := b.cmdReport(asker{Manages: []*engine.Team{{Name: "t"}}})
	if !strings.Contains(r.Message.Summary, "names no report channel") || r.After != nil {
		t.Errorf("answer %q, want it to ask for a report channel and run nothing", r.Message.Summary)
	}
}

// sectionText is the text of an answer's one section (view.Lines).
func sectionText(t *testing.T, r reply) string {
	t.Helper()
	if len(r.Message.Blocks) != 1 {
		t.Fatalf("%d blocks, want one section", len(r.Message.Blocks))
	}
	s, ok := r.Message.Blocks[0].(view.Section)
	if !ok {
		t.Fatalf("the answer is a %T, want a section", r.Message.Blocks[0])
	}
	return view.Lines(s.Lines)
}

func TestATextReplysSummaryIsItsPlainText(t *testing.T) {
	r := textReply(view.T(view.Away, " ", view.B("You are away"), " until ", view.C("/sla back")), view.T("Two"))
	if want := "You are away until /sla back\nTwo"; r.Message.Summary != want {
		t.Errorf("summary %q, want %q", r.Message.Summary, want)
	}
	if got, want := sectionText(t, r), ":away: **You are away** until `/sla back`\nTwo"; got != want {
		t.Errorf("the section reads %q, want %q", got, want)
	}
}

func TestAttainmentLines(t *testing.T) {
	a := engine.Attainment{HasOnTimeData: true, OnTimeShare: 0.5, OnTimeTarget: 0.9, FirstTouchOnTime: 1, FirstTouchLate: 1,
		SQLs: 2, Returns: 1, ReturnsByReason: map[string]int{"<script> & co": 1}, Won: 1, WonAmount: 1200,
		Breaches: 1, BreachesByKind: map[engine.BreachKind]int{engine.BreachFirstTouch: 1}}
	want := ":warning: **First touch on time: 50%** (1 of 2) · target 90%\n" +
		"**SQLs received:** 2 — 1 on time, 1 late\n" +
		"**Time to first touch:** no lead touched yet\n" +
		"**Cadence:** 0 met, 0 missed\n" +
		"**Breaches:** 1 — 1 first touch\n" +
		"**Open leads:** 0\n" +
		"**Conversions:** 0 opportunities · 1 won ($1,200) · 0 lost · 0 disqualified · 1 returned to Marketing\n" +
		"_Returned because:_ <script> & co (1)"
	if got := view.Lines(attainmentLines(nil, a)); got != want {
		t.Errorf("status reads\n%s\nwant\n%s", got, want)
	}
}

func TestALongParagraphOfThePolicyIsCutIntoSectionsSlackTakes(t *testing.T) {
	lines := []view.Text{view.T(view.B("Rules:"))}
	for i := range 200 {
		lines = append(lines, view.T(fmt.Sprintf("• rule %d: first touch within 4 h, & 6 touches in 14 days", i)))
	}
	chunks := chunkLines(lines, policySectionText)
	if len(chunks) < 2 {
		t.Fatalf("%d sections for %d lines", len(chunks), len(lines))
	}
	n := 0
	for _, c := range chunks {
		n += len(c)
		if size := len(view.Lines(c)); size > policySectionText {
			t.Errorf("a section of %d bytes on Slack", size)
		}
	}
	if n != len(lines) {
		t.Errorf("%d lines in the sections, want %d", n, len(lines))
	}
	if got := view.Lines(policyLines("Rules:\n- demo: 15 min\n- other: 4 h")); got != "**Rules:**\n• demo: 15 min\n• other: 4 h" {
		t.Errorf("a paragraph of the policy reads %q", got)
	}
}

// slackMarkup is Slack syntax that has no place in a view: bold and
// italic runs and emoji shortcodes are the renderer's. (A lone "*", as in
// a cron schedule, is text.)
var slackMarkup = regexp.MustCompile(`\*[^\s*][^*]*\*|(^|\s)_[^\s_][^_]*_|:[a-z_]+:`)

// neutral fails the test where a message's text carries Slack markup.
func neutral(t *testing.T, what string, m view.Message) {
	t.Helper()
	for _, l := range textsOf(m) {
		for _, s := range l {
			if slackMarkup.MatchString(s.Text) {
				t.Errorf("%s carries Slack markup: %q", what, s.Text)
			}
		}
	}
}

func TestAnswersAreViewsWithoutSlackMarkup(t *testing.T) {
	policy, problems := engine.ParsePolicy([]byte("report: {channel: \"#smk\"}\nteams: [{name: t, manager: m@x.test, reps: [r@x.test]}]\n"+
		"rules: [{name: d, first_touch: 4h, touches: {count: 3, within: 2d}}]\n"), time.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	b := &Bot{service: engine.NewService(nil, policy, time.Now, nil)}
	neutral(t, "help", helpReply("/sla", &parseError{Unknown: "stauts", Suggest: cmdStatus}).Message)
	neutral(t, "the policy", policyReply(policy).Message)
	neutral(t, "the report command", b.cmdReport(asker{Manages: []*engine.Team{{Name: "t"}}}).Message)
	for _, c := range []command{{Revenue: 5000, Deal: 100, Win: 0.5, MQLToSQL: 0.25, HasMQLToSQL: true}, {Revenue: 5000, Deal: 100, Win: 2}} {
		r, err := cmdPlanReply(c, "/sla")
		if err != nil {
			t.Fatal(err)
		}
		neutral(t, "a plan", r.Message)
	}
	a := engine.Attainment{HasOnTimeData: true, OnTimeShare: 0.5, OnTimeTarget: 0.9, FirstTouchOnTime: 1, FirstTouchLate: 1, Returns: 1,
		ReturnsByReason: map[string]int{"no budget": 1}, Breaches: 1, BreachesByKind: map[engine.BreachKind]int{engine.BreachFirstTouch: 1}}
	f := engine.Funnel{MQLs: 3, MQLTarget: 10, MQLPace: 0.5, SQLs: 2, SQLTarget: 2, SQLPace: 1.2, ExpectedPipeline: 500}
	neutral(t, "a status", view.Message{Blocks: []view.Block{view.Section{Lines: attainmentLines(policy, a)}, view.Section{Lines: funnelLines(f)}}})

	now := time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)
	lead := engine.LeadFacts{Lead: engine.Lead{ID: 1, Contact: engine.Contact{Name: "Dana"}, Source: "demo_request", Rule: "d",
		State: engine.StateSnoozed, SnoozedUntil: now.Add(time.Hour), AssignedAt: now.Add(-5 * time.Hour), FirstTouchDue: now.Add(-time.Hour)}}
	lines := leadRow(policy, &lead, now, time.UTC)
	neutral(t, "a lead's row", view.Message{Blocks: []view.Block{view.Section{Lines: lines}}})
	if got, want := view.Lines(lines), "**Dana** · demo request · snoozed\n"+
		":alarm: **First touch overdue** — was due 1 h ago (11:00 AM)\n:snoozed: Reminders snoozed until 1:00 PM"; got != want {
		t.Errorf("a lead's row reads\n%s\nwant\n%s", got, want)
	}
}
