package engine

import (
	"testing"
	"time"
)

func TestQualityPutsEveryLeadInOnePlaceBySource(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	lead := func(src string, mod func(*Lead)) Lead {
		l := Lead{Source: src, Rule: "default", State: StateNotified, AssignedAt: at}
		if mod != nil {
			mod(&l)
		}
		return l
	}
	accepted := func(l *Lead) { l.AcknowledgedAt = at.Add(time.Minute); l.State = StateAcknowledged }
	touched := func(l *Lead) { l.FirstTouchAt = at.Add(time.Minute); l.State = StateWorking }
	facts := []QualityFacts{
		// web: accepted twice (one by a touch), rejected once for bad
		// phone, once for bad email, once more for bad phone; one awaiting.
		{Lead: lead("web", accepted)},
		{Lead: lead("web", touched)},
		{Lead: lead("web", func(l *Lead) { l.State = StateReturned }), Rejections: []RejectionFact{{Category: RejectBadData, Detail: "phone"}}},
		{Lead: lead("web", func(l *Lead) { l.State = StateReturned }), Rejections: []RejectionFact{{Category: RejectBadData, Detail: "email"}}},
		{Lead: lead("web", func(l *Lead) { l.State = StateReturned }), Rejections: []RejectionFact{{Category: RejectBadData, Detail: "phone"}}},
		{Lead: lead("web", nil)},
		// demo: misrouted, then accepted by its new owner; closed (won)
		// before anyone decided; returned unable to reach after accepting.
		{Lead: lead("demo", accepted), Rejections: []RejectionFact{{Category: RejectWrongOwner, Detail: "bo@example.com"}}},
		{Lead: lead("demo", func(l *Lead) { l.State = StateWon })},
		{Lead: lead("demo", func(l *Lead) {
			accepted(l)
			l.State, l.ReturnReason = StateReturned, ReturnReasonUnreachable+": no answer"
		})},
		// demo: misrouted and still waiting with the new owner.
		{Lead: lead("demo", nil), Rejections: []RejectionFact{{Category: RejectWrongOwner, Detail: ""}}},
	}
	q := ComputeQuality(facts, true, 0)
	if q.Target != 0.9 {
		t.Errorf("target %v, want the default 0.9", q.Target)
	}
	type want struct {
		sqls, accepted, rejected, awaiting, closed, unreachable, misroutes int
		share                                                              float64
	}
	check := func(g QualityFigures, w want) {
		t.Helper()
		got := want{g.SQLs, g.Accepted, g.Rejected, g.Awaiting, g.ClosedUndecided, g.Unreachable, g.Misroutes, g.AcceptedShare}
		if got != w {
			t.Errorf("%s: got %+v, want %+v", g.Group, got, w)
		}
		if g.Accepted+g.Rejected+g.Awaiting+g.ClosedUndecided != g.SQLs {
			t.Errorf("%s: accepted + rejected + awaiting + closed before a decision != SQLs", g.Group)
		}
	}
	if len(q.Groups) != 2 || q.Groups[0].Group != "web" || q.Groups[1].Group != "demo" {
		t.Fatalf("groups %+v, want web (6) then demo (4)", q.Groups)
	}
	check(q.Groups[0], want{sqls: 6, accepted: 2, rejected: 3, awaiting: 1, share: 2.0 / 5})
	check(q.Groups[1], want{sqls: 4, accepted: 2, awaiting: 1, closed: 1, unreachable: 1, misroutes: 2, share: 1})
	check(q.All, want{sqls: 10, accepted: 4, rejected: 3, awaiting: 2, closed: 1, unreachable: 1, misroutes: 2, share: 4.0 / 7})
	if got := q.Groups[0].TopDetail[RejectBadData]; got != "phone" {
		t.Errorf("web's top bad-data detail %q, want phone", got)
	}
	if got := q.Groups[1].MisroutesByRule["default"]; got != 2 {
		t.Errorf("misroutes by rule default: %d, want 2", got)
	}
	if q := ComputeQuality(facts, false, 0.5); len(q.Groups) != 0 || q.Target != 0.5 || q.All.SQLs != 10 {
		t.Errorf("without by source: %d groups, target %v, %d SQLs", len(q.Groups), q.Target, q.All.SQLs)
	}
}
