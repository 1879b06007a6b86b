package engine

import (
	"strings"
	"testing"
	"time"
)

func TestRecycleRouteSendsAReturningContactToTheirPreviousOwnerOnlyWhenTheyCanTakeIt(t *testing.T) {
	now := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	on := RecycleConfig{RouteTo: RecycleRoutePreviousOwner, Within: 180 * durDay}
	active := &Rep{Email: "ana@example.com", Status: RepActive}
	awayUntil := &Rep{Email: "ana@example.com", Status: RepAway, AwayUntil: now.Add(72 * time.Hour)}
	backAlready := &Rep{Email: "ana@example.com", Status: RepAway, AwayUntil: now.Add(-time.Hour)}
	gone := &Rep{Email: "ana@example.com", Status: RepInactive}
	month := now.Add(-30 * durDay)
	tests := []struct {
		name       string
		cfg        RecycleConfig
		owner      string
		returnedAt time.Time
		rep        *Rep
		inPolicy   bool
		back       bool
		whyNot     string
	}{
		{"the policy routes as usual", RecycleConfig{RouteTo: RecycleRouteUsual, Within: 180 * durDay}, "ana@example.com", month, active, true, false, ""},
		{"no recycle key", RecycleConfig{}, "ana@example.com", month, active, true, false, ""},
		{"an active previous owner within the window", on, "ana@example.com", month, active, true, true, ""},
		{"returned on the window's last day", on, "ana@example.com", now.Add(-180 * durDay), active, true, true, ""},
		{"returned a day past the window", on, "ana@example.com", now.Add(-181 * durDay), active, true, false,
			"it went back to Marketing more than 180 days ago (recycle.within)"},
		{"away", on, "ana@example.com", month, awayUntil, true, false, "ana@example.com is away until Dec 10"},
		{"back from away", on, "ana@example.com", month, backAlready, true, true, ""},
		{"inactive", on, "ana@example.com", month, gone, true, false, "ana@example.com is no longer active"},
		{"left the agreement", on, "ana@example.com", month, active, false, false, "ana@example.com is no longer a rep in the agreement"},
		{"unknown to slabot", on, "ana@example.com", month, nil, true, false, "ana@example.com is no longer a rep in the agreement"},
		{"nobody had it", on, "", month, nil, false, false, "it had no owner when it went back to Marketing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			back, why := RecycleRoute(tt.cfg, tt.owner, tt.returnedAt, tt.rep, tt.inPolicy, now, time.UTC)
			if back != tt.back || why != tt.whyNot {
				t.Errorf("RecycleRoute = %v, %q; want %v, %q", back, why, tt.back, tt.whyNot)
			}
		})
	}
}

const recycleTeams = "timezone: UTC\n" +
	"teams:\n" +
	"  - {name: east, manager: m@example.com, reps: [ana@example.com],\n" +
	"     calendar: {timezone: America/New_York, business_hours: {start: \"08:30\", end: \"17:00\"}, holidays: [\"2027-03-08\"]}}\n" +
	"  - {name: west, manager: w@example.com, reps: [bo@example.com]}\n" +
	"rules: [{name: d, first_touch: 4h}]\n"

func TestARevisitDateComesDueOnTheBusinessMorningOfTheLeadsTeam(t *testing.T) {
	p, probs := ParsePolicy([]byte(recycleTeams), policyNow)
	if p == nil {
		t.Fatal(probs)
	}
	ny, _ := time.LoadLocation("America/New_York")
	east := &Lead{Team: "east", OwnerEmail: "ana@example.com"}
	west := &Lead{Team: "west", OwnerEmail: "bo@example.com"}
	tests := []struct {
		name string
		lead *Lead
		date string
		want time.Time
	}{
		{"a weekday opens at the team's start", east, "2027-03-03", time.Date(2027, 3, 3, 8, 30, 0, 0, ny)},
		{"a Saturday waits for Monday", east, "2027-03-13", time.Date(2027, 3, 15, 8, 30, 0, 0, ny)},
		{"a holiday waits for the next business day", east, "2027-03-08", time.Date(2027, 3, 9, 8, 30, 0, 0, ny)},
		{"a team open around the clock: 09:00 in the policy's zone", west, "2027-03-03", time.Date(2027, 3, 3, 9, 0, 0, 0, time.UTC)},
		{"a team open around the clock skips the weekend too", west, "2027-03-06", time.Date(2027, 3, 8, 9, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseCalendarDate(tt.date)
			if err != nil {
				t.Fatal(err)
			}
			if got := RevisitDueAt(p, tt.lead, d); !got.Equal(tt.want) {
				t.Errorf("due %v, want %v", got, tt.want)
			}
		})
	}
}

func TestARevisitDateMustBeFromTomorrowToAYearAheadAndSaysWhatToEnter(t *testing.T) {
	p, probs := ParsePolicy([]byte(recycleTeams), policyNow)
	if p == nil {
		t.Fatal(probs)
	}
	l := &Lead{Team: "east", OwnerEmail: "ana@example.com", Contact: Contact{Name: "Dana Ruiz"}}
	// 02:00 UTC on Dec 8 is still Dec 7 in New York, the team's zone.
	now := time.Date(2026, 12, 8, 2, 0, 0, 0, time.UTC)
	first, last, def := RevisitBounds(p, l, now)
	if first.String() != "2026-12-08" || last.String() != "2027-12-07" || def.String() != "2027-03-07" {
		t.Fatalf("bounds %s..%s, default %s", first, last, def)
	}
	span := "between Tue Dec 8, 2026 (tomorrow) and Tue Dec 7, 2027"
	for _, tt := range []struct{ in, want string }{
		{"2026-12-08", ""},
		{"2027-12-07", ""},
		{"", "Choose when Marketing should revisit Dana Ruiz: a date " + span},
		{"next spring", `"next spring" is not a date: choose one ` + span + ", written YYYY-MM-DD like 2026-12-08"},
		{"2026-12-07", "Mon Dec 7, 2026 is not in the future: choose a date to revisit " + span},
		{"2025-01-01", "is not in the future"},
		{"2027-12-08", "Wed Dec 8, 2027 is more than a year away: choose a date to revisit " + span},
	} {
		_, err := checkRevisitDate(p, l, now, tt.in)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q refused: %v", tt.in, err)
		case tt.want != "" && (ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), tt.want)):
			t.Errorf("%q: got %v, want a refusal saying %q", tt.in, err, tt.want)
		}
	}
}

func TestPolicyCheckReadsTheRecycleKeyWithClearErrors(t *testing.T) {
	base := "timezone: UTC\nteams: [{name: a, manager: m@example.com, reps: [r@example.com]}]\nrules: [{name: d, first_touch: 4h}]\n"
	tests := []struct {
		name, yaml string
		want       RecycleConfig
		problem    string
		warning    bool
	}{
		{"absent: routed as usual", "", RecycleConfig{}, "", false},
		{"previous owner with its window", "recycle: {route_to: previous_owner, within: 90d}\n",
			RecycleConfig{RouteTo: RecycleRoutePreviousOwner, Within: 90 * durDay}, "", false},
		{"previous owner, default window", "recycle: {route_to: previous_owner}\n",
			RecycleConfig{RouteTo: RecycleRoutePreviousOwner, Within: 180 * durDay}, "", false},
		{"a misspelt route", "recycle: {route_to: previous_ower}\n", RecycleConfig{},
			`recycle.route_to: "previous_ower" is not a route: did you mean previous_owner?`, false},
		{"an unknown route", "recycle: {route_to: the_manager}\n", RecycleConfig{},
			`recycle.route_to: "the_manager" is not a route: use previous_owner (back to the rep who returned the contact) or usual`, false},
		{"no route", "recycle: {within: 30d}\n", RecycleConfig{}, "recycle.route_to: is missing: write route_to: previous_owner", false},
		{"not a duration", "recycle: {route_to: previous_owner, within: half a year}\n", RecycleConfig{}, "recycle.within", false},
		{"shorter than a day", "recycle: {route_to: previous_owner, within: 12h}\n", RecycleConfig{},
			"recycle.within: 12 hours is shorter than a day", false},
		{"longer than a year", "recycle: {route_to: previous_owner, within: 400d}\n", RecycleConfig{},
			"recycle.within: 400 days is longer than a year", false},
		{"an unknown key", "recycle: {route_to: previous_owner, whitin: 30d}\n", RecycleConfig{},
			`recycle.whitin: "whitin" is not a key slabot knows here: did you mean "within"?`, false},
		{"a list, not keys", "recycle: [previous_owner]\n", RecycleConfig{}, "recycle: should be a set of keys (route_to and within)", false},
		{"a window that does nothing", "recycle: {route_to: usual, within: 30d}\n",
			RecycleConfig{RouteTo: RecycleRouteUsual, Within: 30 * durDay}, "recycle.within: warning: has no effect with route_to: usual", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, probs := ParsePolicy([]byte(base+tt.yaml), policyNow)
			if tt.problem != "" && !strings.Contains(probs.Error(), tt.problem) {
				t.Fatalf("problems %q, want one saying %q", probs.Error(), tt.problem)
			}
			if tt.problem != "" && !tt.warning {
				if p != nil {
					t.Fatal("a policy despite the error")
				}
				return
			}
			if p == nil {
				t.Fatalf("no policy: %v", probs)
			}
			if p.Recycle != tt.want {
				t.Errorf("recycle %+v, want %+v", p.Recycle, tt.want)
			}
		})
	}
}

func TestTheSummarySaysWhereReturningContactsGo(t *testing.T) {
	p, probs := ParsePolicy([]byte("timezone: UTC\nreport: {channel: \"#smarketing\"}\n"+
		"teams: [{name: a, manager: m@example.com, reps: [r@example.com]}]\nrules: [{name: d, first_touch: 4h}]\n"+
		"recycle: {route_to: previous_owner, within: 90d}\n"), policyNow)
	if p == nil {
		t.Fatal(probs)
	}
	sum := p.Summary()
	for _, want := range []string{"on that date #smarketing is told",
		"goes back to the rep who held it when it was returned within 90 days, if that rep is available"} {
		if !strings.Contains(sum, want) {
			t.Errorf("the summary lacks %q:\n%s", want, sum)
		}
	}
}

func TestRecycleHistoryReadsBackAsRecorded(t *testing.T) {
	at := time.Date(2026, 11, 7, 14, 0, 0, 0, time.UTC)
	h := RecycleHistory{PreviousLeadID: 41, PreviousExternalID: "crm-1", PreviousOwner: "ana@example.com",
		ReturnedBy: "ana@example.com", ReturnedAt: at, Reason: ReturnReasonNotNow + ": budget in Q1", RevisitOn: "2026-12-07",
		Touches:   map[TouchKind]int{TouchCall: 2, TouchEmail: 1},
		LastTouch: Touch{Kind: TouchCall, At: at.Add(-time.Hour), ByEmail: "ana@example.com"}, RoutedBack: true}
	// As stored: through JSON, where numbers come back as float64.
	stored := map[string]any{}
	for k, v := range h.data() {
		stored[k] = v
	}
	stored["previous_lead_id"] = float64(41)
	stored["touches"] = map[string]any{"call": float64(2), "email": float64(1)}
	stored["last_touch"] = map[string]any{"kind": "call", "at": stamp(at.Add(-time.Hour)), "by": "ana@example.com"}
	got, ok := RecycleHistoryOf(Event{Kind: EventRecycled, Data: stored})
	if !ok {
		t.Fatal("not read as a history")
	}
	if got.PreviousLeadID != 41 || got.TouchCount() != 3 || got.Touches[TouchCall] != 2 || !got.LastTouch.At.Equal(h.LastTouch.At) ||
		!got.ReturnedAt.Equal(at) || got.Reason != h.Reason || got.RevisitOn != h.RevisitOn || !got.RoutedBack {
		t.Errorf("read back %+v, want %+v", got, h)
	}
	if _, ok := RecycleHistoryOf(Event{Kind: "returned"}); ok {
		t.Error("another event read as a history")
	}
}
