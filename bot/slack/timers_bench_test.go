package slack_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/slack/slackfake"
)

// BenchmarkReminderLateness measures how late reminders reach Slack (post
// time minus planned time) while 10,000 leads are open, each with its
// pending timers in the queue. Each iteration plans 1,000 reminders spread
// over two seconds, to 500 reps (Slack paces posts per DM, so one rep's
// burst of reminders would measure the pacing instead), through the whole path: timer job, engine decision,
// notice job, Slack post. Run with -benchtime=3x for more samples.
func BenchmarkReminderLateness(b *testing.B) {
	const (
		openLeads = 10_000
		reps      = 500
		spread    = 2 * time.Second
		batch     = 1_000
	)
	var emails []string
	for i := range reps {
		emails = append(emails, fmt.Sprintf("r%03d@example.com", i))
	}
	policy := `
timezone: UTC
teams:
  - name: bench
    manager: maria@example.com
    reps: [` + strings.Join(emails, ", ") + `]
rules:
  - name: bench
    first_touch: 4h
    touches: {count: 6, within: 14d}
    remind_before: [1h]
`
	fake := newFakeSlack(b)
	for i, email := range emails {
		fake.AddUser(slackfake.User{ID: fmt.Sprintf("U0R%03d", i), Name: email[:4], Email: email, TZ: "UTC"})
	}
	e := newEnv(b, withPolicy(policy), withFake(fake), withConcurrency(16))
	ctx := context.Background()
	assigned := time.Now().Truncate(time.Microsecond)
	due := assigned.Add(4 * time.Hour)
	pool := e.db.Pool()
	// Bulk SQL: the service would take minutes for 10,000 hand-offs, and
	// what is measured here is the timers, not the intake.
	if _, err := pool.Exec(ctx, `INSERT INTO leads (external_id, source, contact, company, owner_email, team, rule, state,
			handed_off_at, received_at, assigned_at, first_touch_due)
		SELECT 'bench-' || i, 'web', jsonb_build_object('name', 'Lead ' || i, 'email', 'lead' || i || '@bench.test'),
			jsonb_build_object('name', 'Company ' || i), 'r' || lpad((i % $1)::text, 3, '0') || '@example.com', 'bench', 'bench',
			'notified', $2, $2, $2, $3
		FROM generate_series(0, $4 - 1) AS i`, reps, assigned, due, openLeads); err != nil {
		b.Fatal(err)
	}
	payload := fmt.Sprintf(`{"due": %q, "assigned_at": %q}`, due.Format(time.RFC3339Nano), assigned.Format(time.RFC3339Nano))
	// River's table, filled in bulk with the shape storage gives every job.
	// Timers hours or days ahead wait as "scheduled", woken 6 s early with
	// their due time in "at", as storage inserts them.
	if _, err := pool.Exec(ctx, `INSERT INTO river_job (kind, args, queue, scheduled_at, state, max_attempts)
		SELECT k.kind, jsonb_build_object('lead_id', l.id, 'key', k.kind || ':bench:' || l.id, 'args', $1::jsonb,
				'at', $2::timestamptz + k.after),
			'timers', $2::timestamptz + k.after - interval '6 seconds', 'scheduled', 40
		FROM leads l CROSS JOIN (VALUES ('timer.reminder', interval '3 hours'), ('timer.first_touch', interval '4 hours'),
			('timer.cadence', interval '14 days')) AS k(kind, after)`, payload, assigned); err != nil {
		b.Fatal(err)
	}
	var ids []int64
	rows, _ := pool.Query(ctx, `SELECT id FROM leads ORDER BY id`)
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	if rows.Err() != nil || len(ids) != openLeads {
		b.Fatalf("%d leads inserted: %v", len(ids), rows.Err())
	}
	reminded := func() int {
		n := 0
		for _, m := range fake.AllMessages() {
			if m.Metadata != nil && m.Metadata.EventType == "slabot_reminder" {
				n++
			}
		}
		return n
	}
	var lateness []time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		start := time.Now().Add(300 * time.Millisecond)
		planned := map[string]time.Time{}
		batchKey := fmt.Sprintf("%d", n)
		var leadIDs []int64
		var runAt []time.Time
		for i := range batch {
			id := ids[(n*batch+i)%openLeads]
			at := start.Add(time.Duration(i) * spread / batch)
			leadIDs, runAt = append(leadIDs, id), append(runAt, at)
			planned[fmt.Sprint(id)+"/"+batchKey] = at
		}
		before := reminded()
		if _, err := pool.Exec(ctx, `INSERT INTO river_job (kind, args, queue, scheduled_at, state, max_attempts)
			SELECT 'timer.reminder', jsonb_build_object('lead_id', t.id, 'key', 'timer.reminder:bench:' || t.id || ':' || $4,
				'args', $1::jsonb), 'timers', t.at, 'available', 40
			FROM unnest($2::bigint[], $3::timestamptz[]) AS t(id, at)`, payload, leadIDs, runAt, batchKey); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for reminded() < before+batch {
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d reminders arrived", reminded()-before, batch)
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, m := range fake.AllMessages() {
			if m.Metadata == nil || m.Metadata.EventType != "slabot_reminder" {
				continue
			}
			key := fmt.Sprint(m.Metadata.EventPayload["key"])
			if !strings.HasSuffix(key, ":"+batchKey) {
				continue
			}
			if at, ok := planned[fmt.Sprint(m.Metadata.EventPayload["lead_id"])+"/"+batchKey]; ok {
				lateness = append(lateness, m.PostedAt.Sub(at))
			}
		}
	}
	b.StopTimer()
	if len(lateness) == 0 {
		b.Fatal("no reminder was measured")
	}
	slices.Sort(lateness)
	pct := func(p float64) float64 {
		return float64(lateness[min(len(lateness)-1, int(p*float64(len(lateness))))].Milliseconds())
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.90), "p90-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(lateness)), "reminders")
}
