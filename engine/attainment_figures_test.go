package engine

import (
	"strings"
	"testing"
	"time"
)

// FiguresOf on the hand-computed week 47 (see week47Facts): the numbers
// the comments there give, kept per lead. Storage's tests compare the
// figures counted from these with ComputeAttainment on whole histories.
func TestFiguresOfKeepWhatTheFiguresNeed(t *testing.T) {
	p := attPolicy(t, attPolicyYAML)
	facts := week47Facts()
	byID := map[int64]LeadFigures{}
	for i := range facts {
		g := FiguresOf(p, &facts[i])
		byID[g.LeadID] = g
	}
	l2 := byID[2] // Tue 11:00: 2h30 of business time, 18h30 on the wall; routing 30m.
	if !l2.FirstTouchAt.Equal(ny("2026-11-17 11:00")) || l2.FirstTouchBusiness != 150*time.Minute ||
		l2.FirstTouchWall != 18*time.Hour+30*time.Minute || !l2.HasRoutingDelay || l2.RoutingDelay != 30*time.Minute ||
		!l2.FirstTouchDue.Equal(ny("2026-11-17 12:30")) {
		t.Errorf("L2: %+v", l2)
	}
	if l4 := byID[4]; !l4.FirstTouchBreached {
		t.Errorf("L4's first-touch breach is not kept: %+v", l4)
	}
	// L6 was reassigned to cy: ana's touch at 10:15:30 is not cy's, and
	// there is no routing delay; the breach counts for ana and sdr-east.
	l6 := byID[6]
	if !l6.FirstTouchAt.Equal(ny("2026-11-19 10:25")) || l6.FirstTouchBreached || l6.HasRoutingDelay ||
		len(l6.Breaches) != 1 || l6.Breaches[0].RepKey != repAna || l6.Breaches[0].TeamKey != "sdr-east" || l6.OwnerKey != repCy {
		t.Errorf("L6: %+v", l6)
	}
	// L7's team is found through the policy; its touch before the
	// hand-off arrived is the first, in no time.
	if l7 := byID[7]; l7.TeamKey != "sdr-east" || !l7.HasTeam || l7.FirstTouchBusiness != 0 || l7.FirstTouchWall != 0 {
		t.Errorf("L7: %+v", l7)
	}
	if l8 := byID[8]; l8.HasOwner || !l8.FirstTouchAt.IsZero() || !l8.FirstTouchDue.IsZero() || !l8.CadenceEnd.IsZero() {
		t.Errorf("L8 (unrouted): %+v", l8)
	}
	if l9 := byID[9]; !l9.Returned || l9.ReturnReason != "student, not a buyer" {
		t.Errorf("L9: %+v", l9)
	}
	// L11: 3 of 8 touches when its window closed on 16 November 12:00.
	if l11 := byID[11]; !l11.CadenceEnd.Equal(ny("2026-11-16 12:00")) || !l11.CadenceMetAt.IsZero() {
		t.Errorf("L11: %+v", l11)
	}
	// L12: the 6th touch, Tuesday 17 at 10:00, met the cadence.
	if l12 := byID[12]; !l12.CadenceMetAt.Equal(ny("2026-11-17 10:00")) {
		t.Errorf("L12: %+v", l12)
	}
}

func TestFiguresFingerprintFollowsWhatTheFiguresRead(t *testing.T) {
	base := FiguresFingerprint(attPolicy(t, attPolicyYAML))
	if again := FiguresFingerprint(attPolicy(t, attPolicyYAML)); again != base {
		t.Error("the same policy read twice has two fingerprints")
	}
	for name, edit := range map[string][2]string{
		"a longer first touch": {"first_touch: 15m", "first_touch: 20m"},
		"a shorter cadence":    {"count: 8, within: 15d", "count: 8, within: 14d"},
		"later hours":          {`end: "17:00"`, `end: "18:00"`},
		"a holiday":            {`"2026-12-25", `, `"2026-12-24", "2026-12-25", `},
		"another zone":         {"timezone: America/New_York", "timezone: America/Chicago"},
		"a rep moved":          {"reps: [ana@example.com, bo@example.com]", "reps: [ana@example.com]"},
		"another match":        {"match: {source: demo_request}", "match: {source: [demo_request, trial]}"},
	} {
		yaml := strings.Replace(attPolicyYAML, edit[0], edit[1], 1)
		if yaml == attPolicyYAML {
			t.Fatalf("%s: the edit does not apply", name)
		}
		if FiguresFingerprint(attPolicy(t, yaml)) == base {
			t.Errorf("%s: same fingerprint", name)
		}
	}
	// Targets and the report are not read by FiguresOf.
	yaml := strings.Replace(attPolicyYAML, "mqls: 1800", "mqls: 2000", 1)
	if FiguresFingerprint(attPolicy(t, yaml)) != base {
		t.Error("a new MQL target changed the fingerprint: every lead would be worked out again for nothing")
	}
}
