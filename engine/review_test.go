package engine

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReviewSettingsFromThePolicy(t *testing.T) {
	base := "teams: [{name: a, manager: m@example.com, reps: [r@example.com]}]\nrules: [{name: default, first_touch: 4h}]\n"
	t.Run("Defaults", func(t *testing.T) {
		p, problems := ParsePolicy([]byte(base), time.Now())
		if problems.Err() != nil {
			t.Fatal(problems)
		}
		got := p.ReviewSettings()
		if got.CapacityOpenLeads != DefaultCapacityOpenLeads || got.RoutingDelay != DefaultRoutingDelay || len(got.Owners) != 0 {
			t.Errorf("defaults: %+v", got)
		}
	})
	t.Run("Given", func(t *testing.T) {
		p, problems := ParsePolicy([]byte(base+"review: {owners: [Sam@Example.com], capacity_open_leads: 12, routing_delay: 30m}\n"), time.Now())
		if problems.Err() != nil {
			t.Fatal(problems)
		}
		got := p.ReviewSettings()
		if got.CapacityOpenLeads != 12 || got.RoutingDelay != 30*time.Minute || !p.IsReviewOwner("sam@example.com") || p.IsReviewOwner("m@example.com") {
			t.Errorf("settings: %+v", got)
		}
		if want := "The review puts a breach down to routing when the lead took longer than 30 minutes to reach its rep, and to capacity when the rep already held 12 open leads or more. Besides the managers, sam@example.com may ask for it."; !strings.Contains(p.Summary(), want) {
			t.Errorf("the summary does not say %q:\n%s", want, p.Summary())
		}
	})
	t.Run("ErrBadValues", func(t *testing.T) {
		_, problems := ParsePolicy([]byte(base+"review: {owners: [sam], capacity_open_leads: 0, routing_delay: -5m, cadence: 3}\n"), time.Now())
		msg := problems.Err().Error()
		for _, want := range []string{"review.owners[0]", "review.capacity_open_leads", "review.routing_delay", "cadence"} {
			if !strings.Contains(msg, want) {
				t.Errorf("the problems do not name %s:\n%s", want, msg)
			}
		}
	})
}

func TestReviewMonthsAreTheFullMonthsBefore(t *testing.T) {
	loc, _ := time.LoadLocation("America/New_York")
	months := ReviewMonthsBefore(3, time.Date(2027, 1, 15, 12, 0, 0, 0, loc), loc)
	var labels []string
	for _, m := range months {
		labels = append(labels, m.Label)
	}
	if strings.Join(labels, ",") != "October 2026,November 2026,December 2026" {
		t.Errorf("months %v", labels)
	}
	if span := ReviewSpan(months); !span.Start.Equal(months[0].Start) || !span.End.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, loc)) {
		t.Errorf("span %v", span)
	}
}

// The flag turns on at the third miss in a row, per commitment, and off
// at the first month met.
func TestJudgeCommitmentsStreaks(t *testing.T) {
	p := &Policy{Targets: Targets{MQLs: 10, SQLs: 5, FirstTouchOnTime: 0.9}}
	mqls := []int{9, 9, 12, 9, 9, 9, 9}
	var months []ReviewMonth
	for _, n := range mqls {
		months = append(months, ReviewMonth{Figures: ScorecardRow{MQLs: n, SQLs: 5}})
	}
	cs := JudgeCommitments(p, months)
	var flags, streaks []int
	for _, m := range cs[0].Months {
		f := 0
		if m.Flagged {
			f = 1
		}
		flags, streaks = append(flags, f), append(streaks, m.Streak)
	}
	if got := [2][]int{flags, streaks}; !slices.Equal(got[0], []int{0, 0, 0, 0, 0, 1, 1}) || !slices.Equal(got[1], []int{1, 2, 0, 1, 2, 3, 4}) {
		t.Errorf("MQL flags %v streaks %v", flags, streaks)
	}
	if cs[1].Flagged() || cs[2].Months[0].Measured {
		t.Errorf("SQLs met every month, and no first touch was decided: %+v %+v", cs[1], cs[2].Months[0])
	}
}
