package storage_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/storagetest"
)

const qualityHistoryPolicy = `
timezone: UTC
teams:
  - name: east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: default
    first_touch: 4h
quality:
  contest_within: 5d
  contesters: [mia@example.com]
`

// fate is where the story told to the engine left a lead, kept apart from
// anything slabot stores: the independent count the figures must match.
type fate int

const (
	fateAwaiting fate = iota
	fateAccepted
	fateRejected
	fateClosed
)

// The invariant of /sla quality on a generated history: every lead handed
// off in a period is accepted, rejected, awaiting a decision or closed
// before one, so the four add up to the SQLs, per source and period; and
// each figure equals the count of the story the engine was told.
func TestQualityPutsEveryLeadOfAGeneratedHistoryInOnePlacePerSourceAndPeriod(t *testing.T) {
	t.Parallel()
	db := storagetest.NewDB(t)
	ctx := context.Background()
	policy, problems := engine.ParsePolicy([]byte(qualityHistoryPolicy), time.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if err := db.SyncTeams(ctx, policy.Teams); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 9, 20, 8, 0, 0, 0, time.UTC)
	now := start
	service := engine.NewService(db, policy, func() time.Time { return now }, nil)
	rng := rand.New(rand.NewPCG(23, 2026))
	sources := []string{"web", "webinar", "partner", "demo_request", ""}
	var (
		ana, bo   = engine.Actor{Email: "ana@example.com"}, engine.Actor{Email: "bo@example.com"}
		mia, mgr  = engine.Actor{Email: "mia@example.com"}, engine.Actor{Email: "maria@example.com"}
		crm       = engine.Actor{System: "crm"}
		model     = map[int64]fate{}
		sourceOf  = map[int64]string{}
		receiveAt = map[int64]time.Time{}
		lastExt   string
	)
	must := func(_ *engine.Lead, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	touch := func(id int64, a engine.Actor) {
		t.Helper()
		if _, _, err := service.LogTouch(ctx, id, a, engine.TouchInput{Kind: engine.TouchCall}); err != nil {
			t.Fatal(err)
		}
	}
	later := func(d time.Duration) { now = now.Add(d) }
	rejections := []engine.Rejection{
		{Category: engine.RejectBadData, Detail: "phone"}, {Category: engine.RejectBadData, Detail: "company"},
		{Category: engine.RejectNotOurBuyer, Detail: "student"}, {Category: engine.RejectNotOurBuyer, Detail: "region"},
	}
	// 200 hand-offs, about 8 hours apart: September 20 to late November,
	// so each of the three months has leads of every source.
	for i := range 200 {
		later(time.Duration(rng.IntN(960)) * time.Minute)
		ext := fmt.Sprintf("gen-%d", i)
		src := sources[rng.IntN(len(sources))]
		res, err := service.HandOff(ctx, engine.HandOff{ExternalID: ext, Source: src, OwnerEmail: ana.Email,
			Contact: engine.Contact{Name: "C " + ext, Email: ext + "@acme.test"}})
		if err != nil {
			t.Fatal(err)
		}
		id := res.Lead.ID
		sourceOf[id], receiveAt[id], model[id] = src, res.Lead.ReceivedAt, fateAwaiting
		later(time.Duration(1+rng.IntN(30)) * time.Minute)
		switch rng.IntN(10) {
		case 0: // nobody decides yet
		case 1:
			must(service.Acknowledge(ctx, id, ana))
			model[id] = fateAccepted
		case 2:
			touch(id, ana)
			model[id] = fateAccepted
		case 3:
			must(service.Reject(ctx, id, ana, rejections[rng.IntN(len(rejections))]))
			model[id] = fateRejected
		case 4: // misrouted: decided afresh by bo, or not yet
			must(service.Reject(ctx, id, ana, engine.Rejection{Category: engine.RejectWrongOwner, Detail: bo.Email}))
			if rng.IntN(2) == 0 {
				must(service.Acknowledge(ctx, id, bo))
				model[id] = fateAccepted
			}
		case 5: // accepted, then found to be a duplicate
			must(service.Acknowledge(ctx, id, ana))
			if lastExt != "" {
				must(service.Reject(ctx, id, ana, engine.Rejection{Category: engine.RejectDuplicate, Detail: lastExt}))
				model[id] = fateRejected
			} else {
				model[id] = fateAccepted
			}
		case 6: // back to Marketing before anyone decided
			must(service.ReturnToMarketing(ctx, id, ana, "campaign test"))
			model[id] = fateClosed
		case 7: // the CRM closes it; accepted first or not
			if rng.IntN(2) == 0 {
				touch(id, ana)
				model[id] = fateAccepted
			} else {
				model[id] = fateClosed
			}
			must(service.SetOutcome(ctx, id, crm, []string{"won", "lost", "disqualified"}[rng.IntN(3)], 0, time.Time{}))
		default: // rejected and contested: upheld, overturned or pending
			must(service.Reject(ctx, id, ana, rejections[rng.IntN(len(rejections))]))
			model[id] = fateRejected
			later(time.Hour)
			must(service.Contest(ctx, id, mia, 0, ""))
			switch rng.IntN(3) {
			case 0:
				must(service.DecideContest(ctx, id, mgr, 0, false))
			case 1:
				must(service.DecideContest(ctx, id, mgr, 0, true))
				model[id] = fateAccepted
			}
		}
		lastExt = ext
	}

	month := func(y int, m time.Month) engine.Period {
		s := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		return engine.Period{Start: s, End: s.AddDate(0, 1, 0)}
	}
	periods := []engine.Period{month(2026, 9), month(2026, 10), month(2026, 11), {Start: start, End: now.Add(time.Hour)}}
	compared := 0
	for _, p := range periods {
		facts, err := db.QualityFacts(ctx, p.Start, p.End)
		if err != nil {
			t.Fatal(err)
		}
		q := engine.ComputeQuality(facts, true, 0)
		want := map[string][4]int{}
		for id, f := range model {
			if !p.Contains(receiveAt[id]) {
				continue
			}
			src := sourceOf[id]
			if src == "" {
				src = "(no source)"
			}
			for _, g := range []string{src, engine.AllGroup} {
				c := want[g]
				c[f]++
				want[g] = c
			}
		}
		for _, g := range append(q.Groups, q.All) {
			if g.Accepted+g.Rejected+g.Awaiting+g.ClosedUndecided != g.SQLs {
				t.Errorf("%v %s: %d accepted + %d rejected + %d awaiting + %d closed is not %d SQLs",
					p.Start.Format("Jan 2"), g.Group, g.Accepted, g.Rejected, g.Awaiting, g.ClosedUndecided, g.SQLs)
			}
			got := [4]int{g.Awaiting, g.Accepted, g.Rejected, g.ClosedUndecided}
			if got != want[g.Group] {
				t.Errorf("%v %s: awaiting, accepted, rejected, closed %v; the story says %v", p.Start.Format("Jan 2"), g.Group, got, want[g.Group])
			}
			compared++
		}
		if q.All.SQLs == 0 {
			t.Errorf("%v: no leads in the period", p.Start.Format("Jan 2"))
		}
		if len(q.Groups)+1 != len(want) {
			t.Errorf("%v: quality has %d sources, the story %d", p.Start.Format("Jan 2"), len(q.Groups), len(want)-1)
		}
	}
	if compared < 15 {
		t.Errorf("only %d groups compared: the history is too thin to test the invariant", compared)
	}
}
