package benchgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

// HistoryConfig describes a history for a live policy rather than the
// generated floor: one team of the policy (its reps and manager), the
// policy's own rules and deadlines, whatever their scale. It is what `slabot
// demo` starts from: its deadlines are seconds, not minutes, so response
// times are drawn relative to each rule's own first_touch and touch window
// rather than in real-world minutes, and the leads that end well are the
// ones answered faster, so speed bands differ.
type HistoryConfig struct {
	// Policy is the live policy: its rules judge the leads, its team Team
	// (default the first) works them.
	Policy *engine.Policy
	Team   string
	// Leads, Months, Seed and MQLsPerSQL as in Config (defaults 2,000, 4, 1, 4).
	Leads, Months int
	Seed          uint64
	MQLsPerSQL    float64
	// Now is when the history ends (default time.Now()); every generated
	// lead is received before it.
	Now time.Time
	// UserIDs and Names give the reps' chat user ids and names by email
	// (optional; the email stands in).
	UserIDs, Names map[string]string
	// Away lists reps away from a time until after Now: the history routes
	// their leads of that time to the next rep, as the engine would.
	Away map[string]time.Time
	// EscalationChannel is the team's escalation channel for the history's
	// escalation messages (default the team's from the policy).
	EscalationChannel string
	// OnTime is the share of first touches by the deadline the reps aim
	// at on average (default 0.78); Cadence the share of assignments whose
	// touch cadence is kept (default 0.9).
	OnTime, Cadence float64
}

// History knobs: how likely a lead that ends well (won, or an opportunity)
// and one that does not gets its first touch by the deadline, relative to
// OnTime, and how late a late one comes on average. A late first touch of
// a good lead comes sooner: the won rate falls from band to band.
const (
	historyGoodOnTime = 1.12 // × OnTime, at most historyMaxOnTime
	historyMaxOnTime  = 0.97
	historyGoodLate   = 20 * time.Minute
	historyBadLate    = 3 * time.Hour
	historyTouched    = 0.96 // the share of assignments touched at all
)

// ExpectedOnTime is the share of touched first assignments whose first
// touch the generator plans by the deadline under h, before reassignments:
// a test's yardstick. Fate shares are planFate's.
func (h HistoryConfig) ExpectedOnTime() float64 {
	h = h.withDefaults()
	good := 0.20 + 0.08 // won, opportunity
	return good*min(historyMaxOnTime, h.OnTime*historyGoodOnTime) + (1-good)*h.badOnTime()
}

// badOnTime is the on-time chance of a lead that does not end well, so
// that the average is OnTime.
func (h HistoryConfig) badOnTime() float64 {
	good := 0.28
	return (h.OnTime - good*min(historyMaxOnTime, h.OnTime*historyGoodOnTime)) / (1 - good)
}

func (h HistoryConfig) withDefaults() HistoryConfig {
	if h.Leads <= 0 {
		h.Leads = 2000
	}
	if h.Months <= 0 {
		h.Months = 4
	}
	if h.Seed == 0 {
		h.Seed = 1
	}
	if h.MQLsPerSQL <= 0 {
		h.MQLsPerSQL = 4
	}
	if h.Now.IsZero() {
		h.Now = time.Now()
	}
	if h.OnTime <= 0 || h.OnTime >= 1 {
		h.OnTime = 0.78
	}
	if h.Cadence <= 0 || h.Cadence > 1 {
		h.Cadence = 0.9
	}
	return h
}

// historyOpts are a History generation's, on its gen.
type historyOpts struct {
	goodOnTime, badOnTime, cadence float64
	// The policy's team, its manager and escalation channel, and their
	// chat conversations.
	team, manager, managerDM, channel, channelID string
}

// teamName is the name of team t of the generation.
func (g *gen) teamName(t int) string {
	if g.history != nil {
		return g.history.team
	}
	return TeamName(t)
}

// escalationTo is who hears of team t's escalations: its manager and
// their DM, its channel and the channel's id.
func (g *gen) escalationTo(t int) (manager, managerDM, channel, channelID string) {
	if h := g.history; h != nil {
		return h.manager, h.managerDM, h.channel, h.channelID
	}
	return ManagerEmail(t), "D" + ManagerUserID(t), EscalationChannel(t), EscalationChannelID(t)
}

// History writes h's history into db, which must be migrated, hold the
// policy's teams (storage.DB.SyncTeams) and no leads, and must not be
// serving yet: foreign keys to leads are dropped while rows stream in. It
// writes no jobs and no rep records: the leads are past, their deadlines
// gone by, their messages sent long ago. The figures are worked out under
// h.Policy at the end.
func History(ctx context.Context, db *storage.DB, h HistoryConfig) (Stats, error) {
	h = h.withDefaults()
	began := time.Now()
	stats := Stats{ByState: map[string]int64{}, Breaches: map[string]int64{}, Phases: map[string]time.Duration{}}
	if h.Policy == nil || len(h.Policy.Teams) == 0 {
		return stats, fmt.Errorf("benchgen: a history needs a policy with a team")
	}
	team := h.Policy.Teams[0]
	if h.Team != "" {
		i := slices.IndexFunc(h.Policy.Teams, func(t engine.Team) bool { return t.Name == h.Team })
		if i < 0 {
			return stats, fmt.Errorf("benchgen: the policy has no team %q", h.Team)
		}
		team = h.Policy.Teams[i]
	}
	if len(team.Reps) == 0 {
		return stats, fmt.Errorf("benchgen: team %s has no reps", team.Name)
	}
	cfg := Config{Leads: h.Leads, Now: h.Now, Seed: h.Seed, Months: h.Months, Teams: 1, RepsPerTeam: len(team.Reps),
		MQLsPerSQL: h.MQLsPerSQL}.withDefaults()
	g := newGen(cfg, h.Policy, &stats)
	channel := h.EscalationChannel
	if channel == "" {
		channel = team.EscalationChannel
	}
	managerID := h.UserIDs[team.Manager]
	if managerID == "" {
		managerID = team.Manager
	}
	g.history = &historyOpts{goodOnTime: min(historyMaxOnTime, h.OnTime*historyGoodOnTime), badOnTime: h.badOnTime(),
		cadence: h.Cadence, team: team.Name, manager: team.Manager, managerDM: "D" + managerID, channel: channel, channelID: channel}
	// The team's reps, each a little faster or slower than the others.
	g.reps, g.repCum = nil, nil
	cum := 0.0
	for i, email := range team.Reps {
		rng := rand.New(rand.NewPCG(cfg.Seed, 1<<41+uint64(i)))
		r := rep{email: email, userID: h.UserIDs[email], name: h.Names[email], tz: h.Policy.Location.String(),
			onTime: 0.9 + 0.2*rng.Float64(), weight: 0.7 + 0.6*rng.Float64()}
		if r.userID == "" {
			r.userID = email
		}
		if from, ok := h.Away[email]; ok {
			r.away = []span{{from, cfg.Now.AddDate(0, 0, 7)}}
		}
		cum += r.weight
		g.reps, g.repCum = append(g.reps, r), append(g.repCum, cum)
	}

	pool := db.Pool()
	if n := pool.Config().MaxConns; n < 8 {
		return stats, fmt.Errorf("benchgen: a history streams on seven connections at once; the pool allows %d", n)
	}
	fks, err := dropForeignKeys(ctx, pool)
	if err != nil {
		return stats, err
	}
	if err := g.streamRows(ctx, pool); err != nil {
		return stats, err
	}
	if err := addForeignKeys(ctx, pool, fks); err != nil {
		return stats, err
	}
	if err := resetSequences(ctx, pool); err != nil {
		return stats, err
	}
	for _, t := range []string{"leads", "touches", "lead_events", "lead_messages", "mqls"} {
		if _, err := pool.Exec(ctx, `ANALYZE `+t); err != nil {
			return stats, fmt.Errorf("benchgen: analyze %s: %w", t, err)
		}
	}
	if err := workOutFigures(ctx, db, h.Policy); err != nil {
		return stats, err
	}
	stats.Took = time.Since(began)
	return stats, nil
}

// historyTouches plans an assignment's touches for History: the first by
// the deadline with the chance of the lead's fate and the rep's pace, at a
// share of the rule's first_touch, or late by minutes to hours (sooner
// for a lead that ends well); then the rule's cadence kept, within its
// window, or not.
func (ls *leadSim) historyTouches(r *rep, at, due time.Time) []time.Time {
	g, rng, rule, h := ls.g, ls.rng, ls.rule, ls.g.history
	if rng.Float64() >= historyTouched {
		return nil
	}
	good := ls.fate == fateWon || ls.fate == fateOpportunity
	p, late := h.badOnTime, historyBadLate
	if good {
		p, late = h.goodOnTime, historyGoodLate
	}
	var first time.Time
	if rng.Float64() < min(historyMaxOnTime, p*r.onTime) {
		f := rng.Float64()
		first = g.policy.Calendar.Add(at, time.Duration((0.05+0.95*f*f)*float64(rule.FirstTouch)))
		if first.After(due) {
			first = due
		}
	} else {
		first = due.Add(time.Duration((0.02 + rng.ExpFloat64()) * float64(late)))
	}
	count, within := rule.Touches.Count, rule.Touches.Within
	out := []time.Time{first.Truncate(time.Microsecond)}
	if count > 1 && within > 0 {
		end := at.Add(within)
		if rng.Float64() < h.cadence && first.Before(end) {
			// The rest of the cadence between the first touch and the
			// window's end.
			for range count - 1 + rng.IntN(2) {
				out = append(out, first.Add(time.Duration(rng.Float64()*0.95*float64(end.Sub(first)))).Truncate(time.Microsecond))
			}
		} else {
			for range rng.IntN(count - 1) {
				out = append(out, first.Add(time.Duration(rng.Float64()*1.5*float64(within))).Truncate(time.Microsecond))
			}
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// historyOpenDays is how long at most a History lead stays with Sales
// before it becomes an opportunity or is closed: a team's open leads are
// its last few days', not months of leads nobody reported on.
const historyOpenDays = 4

// historyFate shortens the open stretch of the lead's planned fate to at
// most historyOpenDays; a lead with no outcome ever reported is lost, when
// it is older than that.
func (ls *leadSim) historyFate() {
	limit := ls.received.Add(historyOpenDays * 24 * time.Hour)
	if ls.fate == fateOpen {
		if !limit.Before(ls.g.now) {
			return
		}
		ls.fate = fateLost
		ls.leave, ls.closeAt = limit, limit
	}
	if !ls.leave.After(limit) {
		return
	}
	at := ls.received.Add(time.Duration((0.1 + 0.9*ls.rng.Float64()) * float64(limit.Sub(ls.received)))).Truncate(time.Microsecond)
	if ls.closeAt.Equal(ls.leave) {
		ls.closeAt = at
	}
	ls.leave = at
}
