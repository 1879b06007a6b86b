package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// Figures over everyone as SQL aggregates over per-lead facts (lead_facts,
// migration 0010), with the same numbers as engine.ComputeAttainment and
// engine.ComputeFunnel over DB.LeadFacts.
//
// Keeping the facts current: triggers mark a lead stale whenever its row,
// its touches or its breaches change; RefreshLeadFacts works the stale
// leads' figures out again with the engine's own code (engine.FiguresOf).
// A background loop (RefreshLeadFactsLoop) keeps up with the writes; an
// answer first refreshes what is left, if that is little
// (OnDemandRefreshLimit), and otherwise (right after a big import, the
// migration or a policy change) is computed the old way, in Go over the
// period's leads, slower but never wrong, while a background catch-up
// (catchUp) refreshes everything.

// OnDemandRefreshLimit is how many stale leads an answer refreshes itself
// before counting; with more, it computes in Go instead.
const OnDemandRefreshLimit = 5000

// refreshBatch is how many leads one refresh round trip reads and writes.
const refreshBatch = 2000

// errPolicyMoved stops a refresh whose policy is no longer the one the
// figures are kept under.
var errPolicyMoved = errors.New("the policy the figures are kept under changed during the refresh")

// RefreshLeadFacts works out again the figures of up to limit stale leads
// (all of them when limit ≤ 0) under policy p, in batches. It returns how
// many it refreshed. A lead changed while its batch was worked out stays
// stale for the next refresh. Safe to run from several processes at once.
func (db *DB) RefreshLeadFacts(ctx context.Context, p *engine.Policy, limit int) (int, error) {
	fingerprint := engine.FiguresFingerprint(p)
	if err := db.keepFiguresUnder(ctx, fingerprint); err != nil {
		return 0, err
	}
	done := 0
	for limit <= 0 || done < limit {
		n := refreshBatch
		if limit > 0 {
			n = min(n, limit-done)
		}
		got, err := db.refreshStaleBatch(ctx, p, fingerprint, n)
		done += got
		if err != nil {
			return done, err
		}
		if got < n {
			break
		}
	}
	return done, nil
}

// keepFiguresUnder makes fingerprint the policy the figures are kept
// under, marking every lead stale when it was another.
func (db *DB) keepFiguresUnder(ctx context.Context, fingerprint string) error {
	var kept string
	if err := db.pool.QueryRow(ctx, `SELECT fingerprint FROM lead_facts_policy`).Scan(&kept); err != nil {
		return mapError(err, "read the figures' policy")
	}
	if kept == fingerprint {
		return nil
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT fingerprint FROM lead_facts_policy FOR UPDATE`).Scan(&kept); err != nil {
			return err
		}
		if kept == fingerprint {
			return nil
		}
		if _, err := tx.Exec(ctx, figuresMarkAllSQL); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE lead_facts_policy SET fingerprint = $1`, fingerprint)
		return err
	})
	return mapError(err, "mark every lead's figures stale for a new policy")
}

// refreshStaleBatch refreshes up to n stale leads: it reads their marks
// and their facts in one snapshot, works the figures out, and writes them
// with the marks it read, so a change committed meanwhile (a higher seq)
// keeps its mark and is not overwritten by older figures.
func (db *DB) refreshStaleBatch(ctx context.Context, p *engine.Policy, fingerprint string, n int) (int, error) {
	read, err := db.readStale(ctx, n)
	if err != nil || len(read.ids) == 0 {
		return 0, err
	}
	if err := db.writeRefreshed(ctx, p, fingerprint, read); err != nil {
		return 0, err
	}
	return len(read.ids), nil
}

// staleRead is a batch of stale marks and the facts of their leads, read
// in one snapshot.
type staleRead struct {
	ids, seqs []int64
	facts     []engine.LeadFacts
}

func (db *DB) readStale(ctx context.Context, n int) (staleRead, error) {
	var read staleRead
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, figuresStaleSQL, n)
		if err != nil {
			return err
		}
		var id, seq int64
		if _, err := pgx.ForEachRow(rows, []any{&id, &seq}, func() error {
			read.ids, read.seqs = append(read.ids, id), append(read.seqs, seq)
			return nil
		}); err != nil {
			return err
		}
		if len(read.ids) == 0 {
			return nil
		}
		read.facts, err = (&queries{db: tx}).leadFactsByID(ctx, read.ids)
		return err
	})
	return read, mapError(err, "read stale leads' facts")
}

// writeRefreshed works out and writes the figures of a batch read by
// readStale, and removes the marks it read that are still current.
func (db *DB) writeRefreshed(ctx context.Context, p *engine.Policy, fingerprint string, read staleRead) error {
	figures := make([]engine.LeadFigures, len(read.facts))
	for i := range read.facts {
		figures[i] = engine.FiguresOf(p, &read.facts[i])
	}
	seqOf := make(map[int64]int64, len(read.ids))
	for i, id := range read.ids {
		seqOf[id] = read.seqs[i]
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var kept string
		if err := tx.QueryRow(ctx, `SELECT fingerprint FROM lead_facts_policy FOR SHARE`).Scan(&kept); err != nil {
			return err
		}
		if kept != fingerprint {
			return errPolicyMoved
		}
		written, err := writeFigures(ctx, tx, figures, seqOf)
		if err != nil {
			return err
		}
		if err := writeBreachFigures(ctx, tx, figures, written); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, figuresUnmarkSQL, read.ids, read.seqs)
		return err
	})
	return mapError(err, "write %d leads' figures", len(figures))
}

// writeFigures upserts figures, each with the seq it was read at, and
// returns the leads whose figures were written (not already newer).
func writeFigures(ctx context.Context, tx pgx.Tx, figures []engine.LeadFigures, seqOf map[int64]int64) (map[int64]bool, error) {
	n := len(figures)
	var (
		ids, seqs                 = make([]int64, n), make([]int64, n)
		owners, teams, states     = make([]string, n), make([]string, n), make([]string, n)
		hasOwner, hasTeam, isOpen = make([]bool, n), make([]bool, n), make([]bool, n)
		breached                  = make([]bool, n)
		received                  = make([]time.Time, n)
		assigned, closed, due     = make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
		touched, cadEnd, cadMet   = make([]*time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
		amounts                   = make([]float64, n)
		business, wall, routing   = make([]*int64, n), make([]*int64, n), make([]*int64, n)
		reasons                   = make([]*string, n)
		keys                      = newScorecardKeyColumns(n)
	)
	for i := range figures {
		g := &figures[i]
		ids[i], seqs[i] = g.LeadID, seqOf[g.LeadID]
		owners[i], teams[i], states[i] = g.OwnerKey, g.TeamKey, string(g.State)
		hasOwner[i], hasTeam[i], isOpen[i], breached[i] = g.HasOwner, g.HasTeam, g.State.Open(), g.FirstTouchBreached
		received[i], amounts[i] = g.ReceivedAt, g.Amount
		assigned[i], closed[i], due[i] = timeOrNull(g.AssignedAt), timeOrNull(g.ClosedAt), timeOrNull(g.FirstTouchDue)
		touched[i], cadEnd[i], cadMet[i] = timeOrNull(g.FirstTouchAt), timeOrNull(g.CadenceEnd), timeOrNull(g.CadenceMetAt)
		if !g.FirstTouchAt.IsZero() {
			b, w := int64(g.FirstTouchBusiness), int64(g.FirstTouchWall)
			business[i], wall[i] = &b, &w
		}
		if g.HasRoutingDelay {
			r := int64(g.RoutingDelay)
			routing[i] = &r
		}
		if g.Returned {
			reasons[i] = &g.ReturnReason
		}
		keys.set(i, g.Keys)
	}
	rows, err := tx.Query(ctx, figuresUpsertSQL, ids, seqs, owners, teams, hasOwner, hasTeam, states, isOpen,
		received, assigned, closed, amounts, due, breached, touched, business, wall, routing, cadEnd, cadMet, reasons,
		keys.sources, keys.segments, keys.rules, keys.scores, keys.opportunities)
	if err != nil {
		return nil, fmt.Errorf("write lead figures: %w", err)
	}
	written := make(map[int64]bool, n)
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error { written[id] = true; return nil }); err != nil {
		return nil, fmt.Errorf("write lead figures: %w", err)
	}
	return written, nil
}

// writeBreachFigures replaces the breaches of the leads written.
func writeBreachFigures(ctx context.Context, tx pgx.Tx, figures []engine.LeadFigures, written map[int64]bool) error {
	leads := make([]int64, 0, len(written))
	var (
		ids                                 []int64
		received, ats                       []time.Time
		closed                              []*time.Time
		kinds, rules, reps, repKeys, teamKs []string
	)
	for i := range figures {
		g := &figures[i]
		if !written[g.LeadID] {
			continue
		}
		leads = append(leads, g.LeadID)
		for _, b := range g.Breaches {
			ids, ats = append(ids, g.LeadID), append(ats, b.At)
			received, closed = append(received, g.ReceivedAt), append(closed, timeOrNull(g.ClosedAt))
			kinds, rules, reps = append(kinds, string(b.Kind)), append(rules, b.Rule), append(reps, b.Rep)
			repKeys, teamKs = append(repKeys, b.RepKey), append(teamKs, b.TeamKey)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM lead_breach_facts WHERE lead_id = ANY($1)`, leads); err != nil {
		return fmt.Errorf("clear breach figures: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, figuresInsertBreachesSQL, ids, received, closed, ats, kinds, rules, reps, repKeys, teamKs); err != nil {
		return fmt.Errorf("write breach figures: %w", err)
	}
	return nil
}

func timeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// RefreshLeadFactsLoop keeps the figures current until ctx ends: it
// refreshes stale leads as long as there are any, then looks again every
// idle. policy is read each round, so a new policy is taken up. Errors
// are logged and retried after idle.
func (db *DB) RefreshLeadFactsLoop(ctx context.Context, policy func() *engine.Policy, idle time.Duration) {
	for ctx.Err() == nil {
		n, err := db.RefreshLeadFacts(ctx, policy(), 10*refreshBatch)
		if err != nil && ctx.Err() == nil {
			db.logger.Warn("refresh lead figures", "err", err)
		}
		// Straight on only while there is a backlog (the round was cut at
		// its limit); otherwise the changes of the next idle are gathered
		// into one round, not chased one lead at a time.
		if err == nil && n >= 10*refreshBatch {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(idle):
		}
	}
}

// catchUp refreshes every stale lead in the background, once at a time
// per process, for when no RefreshLeadFactsLoop runs (or it is behind a
// big import): the answers after it count from the figures again. It
// ends with the work, or when the database is closed.
func (db *DB) catchUp(p *engine.Policy) {
	if !db.catchingUp.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer db.catchingUp.Store(false)
		began := time.Now()
		n, err := db.RefreshLeadFacts(context.Background(), p, 0)
		if err != nil {
			db.logger.Warn("catch up with the leads' figures", "refreshed", n, "err", err)
			return
		}
		db.logger.Info("caught up with the leads' figures", "refreshed", n, "took", time.Since(began).Round(time.Millisecond))
	}()
}

// freshFigures makes the figures current for an answer: it refreshes the
// stale leads when there are at most OnDemandRefreshLimit, and reports
// false when there are more (the answer is then computed in Go).
func (db *DB) freshFigures(ctx context.Context, p *engine.Policy) (bool, error) {
	if err := db.keepFiguresUnder(ctx, engine.FiguresFingerprint(p)); err != nil {
		return false, err
	}
	var stale int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT FROM lead_facts_stale LIMIT $1) s`,
		OnDemandRefreshLimit+1).Scan(&stale); err != nil {
		return false, mapError(err, "count stale lead figures")
	}
	switch {
	case stale == 0:
		return true, nil
	case stale > OnDemandRefreshLimit:
		db.catchUp(p)
		return false, nil
	}
	if _, err := db.RefreshLeadFacts(ctx, p, OnDemandRefreshLimit); err != nil {
		// Refreshing is housekeeping: the answer can still be counted the
		// old way, in Go, with the same numbers.
		if !errors.Is(err, errPolicyMoved) {
			db.logger.Warn("refresh lead figures for an answer; counting it in Go", "err", err)
		}
		return false, nil
	}
	return true, nil
}

// figuresArgs are the parameters of every figures statement.
func figuresArgs(scope engine.Scope, period engine.Period, now time.Time) pgx.NamedArgs {
	cut := period.End
	if now.Before(cut) {
		cut = now
	}
	return pgx.NamedArgs{"start": period.Start, "end": period.End, "from": period.Start, "to": period.End,
		"now": now, "cut": cut, "key": engine.ScopeKey(scope)}
}

// leadSpan is the span of leads counted, [from, to), when it is not the
// period's own (the report's: every figure over the leads it loads).
type leadSpan struct{ from, to time.Time }

func (s *leadSpan) apply(args pgx.NamedArgs) pgx.NamedArgs {
	if s != nil {
		args["from"], args["to"] = s.from, s.to
	}
	return args
}

// Attainment measures scope over period as of now under policy p: the
// same figures as engine.ComputeAttainment over LeadFactsFor, counted in
// PostgreSQL over lead_facts. Only the answer's few rows come back.
func (db *DB) Attainment(ctx context.Context, p *engine.Policy, scope engine.Scope, period engine.Period, now time.Time) (engine.Attainment, error) {
	fresh, err := db.freshFigures(ctx, p)
	if err != nil {
		return engine.Attainment{}, err
	}
	if !fresh {
		facts, err := db.LeadFactsFor(ctx, period.Start, period.End, scope, engine.ScopeReps(p, scope))
		if err != nil {
			return engine.Attainment{}, err
		}
		return engine.ComputeAttainment(p, facts, scope, period, now), nil
	}
	return db.attainmentFromFigures(ctx, p, scope, period, now, nil)
}

// attainmentFromFigures counts the attainment over lead_facts as they are.
func (db *DB) attainmentFromFigures(ctx context.Context, p *engine.Policy, scope engine.Scope, period engine.Period, now time.Time, span *leadSpan) (engine.Attainment, error) {
	leadScope, breachScope := figuresScopeAll, figuresScopeAll
	switch scope.Kind {
	case engine.ScopeRep:
		leadScope, breachScope = figuresLeadScopeRep, figuresBreachScopeRep
	case engine.ScopeTeam:
		leadScope, breachScope = figuresLeadScopeTeam, figuresBreachScopeTeam
	}
	a := engine.Attainment{
		Scope: scope, Period: period, OnTimeTarget: engine.DefaultFirstTouchOnTime,
		BreachesByRule: map[string]int{}, BreachesByKind: map[engine.BreachKind]int{}, BreachesByRep: map[string]int{},
		ReturnsByReason: map[string]int{},
	}
	if p != nil && p.Targets.FirstTouchOnTime > 0 {
		a.OnTimeTarget = p.Targets.FirstTouchOnTime
	}
	args := span.apply(figuresArgs(scope, period, now))
	batch := &pgx.Batch{}
	batch.Queue(fmt.Sprintf(figuresAttainmentSQL, leadScope), args).QueryRow(func(row pgx.Row) error {
		var bus, wall, routing [2]*int64
		err := row.Scan(&a.SQLs, &a.Unrouted, &a.FirstTouchOnTime, &a.FirstTouchLate, &a.FirstTouchPending, &a.FirstTouchClosed,
			&a.TimeToFirstTouchBusiness.Count, &bus[0], &bus[1], &a.TimeToFirstTouchWall.Count, &wall[0], &wall[1],
			&a.RoutingDelay.Count, &routing[0], &routing[1],
			&a.CadenceMet, &a.CadenceMissed, &a.CadenceRunning, &a.Opportunities, &a.Won, &a.WonAmount, &a.Lost, &a.Disqualified,
			&a.OpenLeads)
		a.TimeToFirstTouchBusiness.Median, a.TimeToFirstTouchBusiness.P90 = nanos(bus[0]), nanos(bus[1])
		a.TimeToFirstTouchWall.Median, a.TimeToFirstTouchWall.P90 = nanos(wall[0]), nanos(wall[1])
		a.RoutingDelay.Median, a.RoutingDelay.P90 = nanos(routing[0]), nanos(routing[1])
		return err
	})
	batch.Queue(fmt.Sprintf(figuresReturnsSQL, leadScope), args).Query(func(rows pgx.Rows) error {
		var reason string
		var n int
		_, err := pgx.ForEachRow(rows, []any{&reason, &n}, func() error {
			a.ReturnsByReason[reason] += n
			a.Returns += n
			return nil
		})
		return err
	})
	batch.Queue(fmt.Sprintf(figuresBreachesSQL, breachScope), args).Query(func(rows pgx.Rows) error {
		var rule, kind, rep string
		var n int
		_, err := pgx.ForEachRow(rows, []any{&rule, &kind, &rep, &n}, func() error {
			a.BreachesByRule[rule] += n
			a.BreachesByKind[engine.BreachKind(kind)] += n
			a.BreachesByRep[rep] += n
			a.Breaches += n
			return nil
		})
		return err
	})
	if err := db.pool.SendBatch(ctx, batch).Close(); err != nil {
		return engine.Attainment{}, mapError(err, "count the figures of %s over %s", scope, period.Label)
	}
	a.OnTimeShare, a.HasOnTimeData = shareOf(a.FirstTouchOnTime, a.FirstTouchOnTime+a.FirstTouchLate)
	a.CadenceShare, a.HasCadenceData = shareOf(a.CadenceMet, a.CadenceMet+a.CadenceMissed)
	return a, nil
}

func nanos(v *int64) time.Duration {
	if v == nil {
		return 0
	}
	return time.Duration(*v)
}

// shareOf is num ÷ den and whether den is above 0, as the engine's shares.
func shareOf(num, den int) (float64, bool) {
	if den <= 0 {
		return 0, false
	}
	return float64(num) / float64(den), true
}

// Funnel measures Marketing's funnel over period as of now under policy p:
// the same figures as engine.ComputeFunnel over LeadFacts and MQLs, counted
// in PostgreSQL.
func (db *DB) Funnel(ctx context.Context, p *engine.Policy, period engine.Period, now time.Time) (engine.Funnel, error) {
	fresh, err := db.freshFigures(ctx, p)
	if err != nil {
		return engine.Funnel{}, err
	}
	if !fresh {
		facts, err := db.LeadFacts(ctx, period.Start, period.End)
		if err != nil {
			return engine.Funnel{}, err
		}
		mqls, err := db.MQLs(ctx, period.Start, period.End)
		if err != nil {
			return engine.Funnel{}, err
		}
		return engine.ComputeFunnel(p, facts, mqls, period, now), nil
	}
	return db.funnelFromFigures(ctx, p, period, now, nil)
}

func (db *DB) funnelFromFigures(ctx context.Context, p *engine.Policy, period engine.Period, now time.Time, span *leadSpan) (engine.Funnel, error) {
	var c engine.FunnelCounts
	err := db.pool.QueryRow(ctx, fmt.Sprintf(figuresFunnelSQL, figuresScopeAll), span.apply(figuresArgs(engine.Scope{}, period, now))).
		Scan(&c.MQLs, &c.SQLs, &c.Won, &c.OpenSQLs)
	if err != nil {
		return engine.Funnel{}, mapError(err, "count the funnel over %s", period.Label)
	}
	return engine.FunnelOf(p, c, period, now), nil
}
