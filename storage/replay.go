package storage

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// Reading a period's history for a policy replay (engine.Replay): the
// leads, their touches and the events the replay needs, and the reps'
// availability, all in one read-only snapshot, the leads streamed in
// batches so memory follows the period, not the whole history.

// ReplayPeople is what the replay knows of the reps: their availability
// history and their own time zones (lower-case email → IANA name, "" when
// unknown).
type ReplayPeople struct {
	RepEvents []engine.RepEvent
	Zones     map[string]string
	// Leads is how many leads the replay reads, for a progress bar.
	Leads int
}

// ReplayBatchSize is how many leads one batch of ReplayHistory holds.
const ReplayBatchSize = 2000

// replayEventKinds are the lead events a replay reads.
var replayEventKinds = []string{"routed", engine.EventReassigned, "acknowledged", "snoozed", "opportunity", "returned", engine.EventBreach}

// replayLeadsSQL picks the leads that can count in [$1, $2) under a policy
// whose timers reach at most back to $3: received in the period, closed in
// it, or not closed (reps hold them); received since $3 and sent back to
// Marketing (a breach may have done that which another policy would not);
// and those with a breach or a reassignment recorded in the period.
const replayLeadsSQL = `SELECT ` + "%s" + ` FROM leads
	WHERE received_at < $2 AND (
		received_at >= $1
		OR closed_at >= $1
		OR closed_at IS NULL
		OR (received_at >= $3 AND state = 'returned_to_marketing')
		OR id IN (SELECT lead_id FROM lead_events WHERE kind IN ('breach', 'reassigned') AND at >= $1 AND at < $2))`

// ReplayHistory reads, in one read-only, repeatable-read transaction, the
// reps' history and zones (given to people first) and then every lead that
// can count in [from, to) under timers reaching back at most lookback
// before from, in id order, in batches of ReplayBatchSize given to batch.
// It writes nothing.
func (db *DB) ReplayHistory(ctx context.Context, from, to time.Time, lookback time.Duration,
	people func(ReplayPeople) error, batch func([]engine.LeadHistory) error) error {
	since := from.Add(-lookback)
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		q := &queries{db: tx}
		var pp ReplayPeople
		var err error
		if pp.RepEvents, err = q.RepEvents(ctx, since, to); err != nil {
			return err
		}
		if pp.Zones, err = replayZones(ctx, tx); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, fmt.Sprintf(replayLeadsSQL, "count(*)"), from, to, since).Scan(&pp.Leads); err != nil {
			return fmt.Errorf("count the leads to replay: %w", err)
		}
		if err := people(pp); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DECLARE replay_leads NO SCROLL CURSOR FOR `+
			fmt.Sprintf(replayLeadsSQL, factColumns)+` ORDER BY id`, from, to, since); err != nil {
			return fmt.Errorf("open the leads to replay: %w", err)
		}
		for {
			rows, err := tx.Query(ctx, fmt.Sprintf(`FETCH %d FROM replay_leads`, ReplayBatchSize))
			if err != nil {
				return fmt.Errorf("read the leads to replay: %w", err)
			}
			leads, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*engine.Lead, error) { return scanLead(row) })
			if err != nil {
				return fmt.Errorf("read the leads to replay: %w", err)
			}
			if len(leads) == 0 {
				return nil
			}
			histories, err := q.replayHistories(ctx, leads)
			if err != nil {
				return err
			}
			if err := batch(histories); err != nil {
				return err
			}
		}
	})
	return mapError(err, "read the history to replay")
}

func replayZones(ctx context.Context, tx pgx.Tx) (map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT email, time_zone FROM reps`)
	if err != nil {
		return nil, fmt.Errorf("read the reps' zones: %w", err)
	}
	zones := map[string]string{}
	var email, zone string
	if _, err := pgx.ForEachRow(rows, []any{&email, &zone}, func() error { zones[email] = zone; return nil }); err != nil {
		return nil, fmt.Errorf("read the reps' zones: %w", err)
	}
	return zones, nil
}

// replayHistories adds to leads their touches and the events a replay reads.
func (q *queries) replayHistories(ctx context.Context, leads []*engine.Lead) ([]engine.LeadHistory, error) {
	facts, index, ids, err := q.withTouches(ctx, leads)
	if err != nil {
		return nil, err
	}
	out := make([]engine.LeadHistory, len(facts))
	for i := range facts {
		out[i].Facts = facts[i]
		if l := &facts[i].Lead; l.State == engine.StateReturned {
			out[i].Facts.ReturnedReason = l.ReturnReason
		}
	}
	rows, err := q.db.Query(ctx, `SELECT id, lead_id, at, kind, actor, data FROM lead_events
		WHERE lead_id = ANY($1) AND kind = ANY($2) ORDER BY lead_id, id`, ids, replayEventKinds)
	if err != nil {
		return nil, mapError(err, "read the leads' events to replay")
	}
	var e engine.Event
	_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.LeadID, &e.At, &e.Kind, &e.Actor, &e.Data}, func() error {
		h := &out[index[e.LeadID]]
		str := func(k string) string { s, _ := e.Data[k].(string); return s }
		switch e.Kind {
		case "routed":
			if h.Routed.At.IsZero() {
				h.Routed = engine.Move{At: e.At, To: str("owner"), Team: str("team")}
				h.NamedOwner = str("named_owner")
			}
		case engine.EventReassigned:
			automatic, _ := e.Data["automatic"].(bool)
			h.Moves = append(h.Moves, engine.Move{At: e.At, To: str("to"), Team: str("team"), Automatic: automatic})
		case "acknowledged":
			h.Acks = append(h.Acks, e.At)
		case "snoozed":
			until, _ := time.Parse(time.RFC3339Nano, str("until"))
			h.Snoozes = append(h.Snoozes, engine.Snooze{At: e.At, Until: until})
		case "opportunity":
			if h.OpportunityAt.IsZero() {
				h.OpportunityAt = e.At
			}
		case "returned":
			if automatic, _ := e.Data["automatic"].(bool); automatic {
				h.ReturnedByBreach = true
			}
		case engine.EventBreach:
			if b, ok := engine.BreachFromEvent(e); ok {
				h.Facts.Breaches = append(h.Facts.Breaches, b)
			}
		}
		e.Data = nil // each row decodes into a map of its own
		return nil
	})
	if err != nil {
		return nil, mapError(err, "read the leads' events to replay")
	}
	return out, nil
}

// Replay replays period as of now under each of policies, reading the
// history once (ReplayHistory), and returns each policy's figures in
// order. progress, when set, hears how many of the leads were read; each
// of also sees every batch too. Each policy's replay (and each of also)
// runs on its own goroutine, a batch or two behind the reading, so the
// database and the replays work at once and memory holds a few batches.
func (db *DB) Replay(ctx context.Context, period engine.Period, now time.Time, policies []*engine.Policy,
	progress func(done, total int), also ...func([]engine.LeadHistory)) ([]engine.ReplayResult, error) {
	lookback := engine.ReplayLookback(period.Start, policies...)
	var (
		replayers []*engine.Replayer
		queues    []chan []engine.LeadHistory
		wg        sync.WaitGroup
	)
	stop := func() {
		for _, q := range queues {
			close(q)
		}
		wg.Wait()
	}
	total, done := 0, 0
	err := db.ReplayHistory(ctx, period.Start, period.End, lookback, func(pp ReplayPeople) error {
		since := engine.Period{Start: period.Start.Add(-lookback), End: period.End}
		available := engine.AvailabilityFrom(engine.RepAbsences(pp.RepEvents, since, now))
		zones := map[string]*time.Location{}
		for email, name := range pp.Zones {
			if loc, err := time.LoadLocation(name); name != "" && err == nil {
				zones[email] = loc
			}
		}
		repZone := func(email string) *time.Location { return zones[email] }
		consumers := slices.Clone(also)
		for _, p := range policies {
			r := engine.NewReplayer(engine.Replay{Policy: p, Now: now, Available: available, RepZone: repZone}, period)
			replayers = append(replayers, r)
			consumers = append(consumers, r.Add)
		}
		for _, consume := range consumers {
			q := make(chan []engine.LeadHistory, 2)
			queues = append(queues, q)
			wg.Go(func() {
				for batch := range q {
					consume(batch) // batches are only read, by every consumer
				}
			})
		}
		total = pp.Leads
		return nil
	}, func(batch []engine.LeadHistory) error {
		for _, q := range queues {
			select {
			case q <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		done += len(batch)
		if progress != nil {
			progress(done, total)
		}
		return nil
	})
	stop()
	if err != nil {
		return nil, err
	}
	out := make([]engine.ReplayResult, len(replayers))
	for i, r := range replayers {
		out[i] = r.Result()
	}
	return out, nil
}
