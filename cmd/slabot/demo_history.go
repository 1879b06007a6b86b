package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/benchgen"
)

// The demo's past: months of generated leads before its story, so that the
// figures it asks for (/sla sources, /sla speed, the weekly report) have
// shapes to show rather than the story's four leads.
const (
	demoHistoryMonths = 4
	demoHistoryLeads  = 2400
)

// demoHistory is the history the demo seeds under policy, ending at now:
// leads leads (0: demoHistoryLeads) over demoHistoryMonths, the team's
// reps and manager as the demo names them, Dee away since this morning.
func demoHistory(policy *engine.Policy, now time.Time, seed uint64, escalationChannel string, leads int) benchgen.HistoryConfig {
	if leads <= 0 {
		leads = demoHistoryLeads
	}
	ids, names := map[string]string{}, map[string]string{}
	for _, p := range demoPeople {
		ids[p.Email], names[p.Email] = p.ID, strings.TrimSuffix(strings.TrimSuffix(p.Name, " (away)"), " (manager)")
	}
	lt := now.In(policy.Location)
	return benchgen.HistoryConfig{Policy: policy, Leads: leads, Months: demoHistoryMonths, Seed: seed, Now: now,
		UserIDs: ids, Names: names, EscalationChannel: escalationChannel,
		Away: map[string]time.Time{"dee@example.com": time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, policy.Location)}}
}

// seedHistory migrates the demo's database, stores the policy's teams and
// writes the history into it, before slabot serves: the history's leads
// are past, with no jobs, cards or reminders to come.
func (d *demo) seedHistory(ctx context.Context, db *storage.DB, policy *engine.Policy, seed uint64) error {
	began := time.Now()
	if _, err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate the demo's database: %w", err)
	}
	if err := db.SyncTeams(ctx, policy.Teams); err != nil {
		return fmt.Errorf("store the demo's team: %w", err)
	}
	_, escalation := d.chat.channels()
	// The history ends a moment before the story starts, so the story's
	// leads are the newest.
	h := demoHistory(policy, time.Now().Add(-time.Second), seed, escalation, d.settings.historyLeads)
	stats, err := benchgen.History(ctx, db, h)
	if err != nil {
		return fmt.Errorf("seed the demo's history: %w", err)
	}
	var sources int
	if err := db.Pool().QueryRow(ctx, `SELECT count(DISTINCT source) FROM leads`).Scan(&sources); err != nil {
		return fmt.Errorf("count the history's sources: %w", err)
	}
	won := stats.ByState[string(engine.StateWon)]
	d.mu.Lock()
	d.start = time.Now() // the transcript's clock counts from here until the story restarts it
	d.mu.Unlock()
	d.say("Seeded %d months of generated history in %.1f s: %d leads from %d sources (%d won, %d lost, %d returned to Marketing, %d still open) and %d MQLs, judged by the demo's agreement.",
		h.Months, time.Since(began).Seconds(), stats.Leads, sources, won, stats.ByState[string(engine.StateLost)],
		stats.ByState[string(engine.StateReturned)], stats.Open, stats.MQLs)
	return nil
}
