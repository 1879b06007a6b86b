package bottest

import (
	"context"
	"fmt"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

// ReviewPolicy is an agreement with targets the history of
// SeedReviewHistory misses: 5 MQLs a month (it has 2), 2 SQLs (it has 3)
// and 75% on time (it has 2 of 3). Sam owns the agreement without
// managing a team.
const ReviewPolicy = `
timezone: UTC
review_by: "2027-06-30"
targets: {mqls: 5, sqls: 2, first_touch_on_time: 0.75}
report:
  channel: "%s"
review:
  owners: [sam@example.com]
  capacity_open_leads: 2
  routing_delay: 10m
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: demo-request
    match: {source: demo_request}
    first_touch: 1h
  - name: default
    first_touch: 4h
`

// SeedReviewHistory writes the three full months before now (in UTC) as
// rows: each month 2 MQLs and 3 leads of Ana's, two touched on time and
// one late with a breach. The first month's late lead waited 20 minutes to
// be routed (a routing breach); the later ones reached Ana while she held
// open leads (capacity, at 2). It returns the months' labels, oldest first.
func SeedReviewHistory(ctx context.Context, db *storage.DB, now time.Time) ([]string, error) {
	var labels []string
	for back := 3; back >= 1; back-- {
		month := engine.MonthPeriod(now.Year(), now.Month()-time.Month(back), time.UTC)
		labels = append(labels, month.Label)
		for i := range 2 {
			if _, err := db.Pool().Exec(ctx, `INSERT INTO mqls (external_id, source, at) VALUES ($1, 'demo_request', $2)`,
				fmt.Sprintf("review-mql-%d-%d", back, i), month.Start.Add(time.Duration(i+1)*24*time.Hour)); err != nil {
				return nil, fmt.Errorf("seeding MQLs: %w", err)
			}
		}
		for i := range 3 {
			received := month.Start.Add(time.Duration(i+3)*24*time.Hour + 10*time.Hour)
			handed := received
			touch := received.Add(20 * time.Minute)
			if i == 2 && back == 3 {
				handed = received.Add(-20 * time.Minute)
			}
			if i == 2 {
				touch = received.Add(2 * time.Hour)
			}
			var id int64
			err := db.Pool().QueryRow(ctx, `INSERT INTO leads (external_id, source, owner_email, team, rule, state,
				handed_off_at, received_at, assigned_at, first_touch_due)
				VALUES ($1, 'demo_request', 'ana@example.com', 'sdr-east', 'demo-request', 'working', $2, $3, $3, $4) RETURNING id`,
				fmt.Sprintf("review-lead-%d-%d", back, i), handed, received, received.Add(time.Hour)).Scan(&id)
			if err != nil {
				return nil, fmt.Errorf("seeding leads: %w", err)
			}
			if _, err := db.Pool().Exec(ctx, `INSERT INTO touches (lead_id, kind, at) VALUES ($1, 'call', $2)`, id, touch); err != nil {
				return nil, fmt.Errorf("seeding touches: %w", err)
			}
			if i == 2 {
				ev := engine.BreachEvent(engine.Breach{LeadID: id, Kind: engine.BreachFirstTouch, Rule: "demo-request",
					RepEmail: "ana@example.com", Team: "sdr-east", Due: received.Add(time.Hour), At: received.Add(time.Hour)})
				if _, err := db.Pool().Exec(ctx, `INSERT INTO lead_events (lead_id, at, kind, actor, data) VALUES ($1, $2, $3, $4, $5)`,
					id, ev.At, ev.Kind, ev.Actor, ev.Data); err != nil {
					return nil, fmt.Errorf("seeding breaches: %w", err)
				}
			}
		}
	}
	return labels, nil
}
