package benchgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

// rep is one rep of the floor and how they work.
type rep struct {
	email, userID, name, tz string
	team                    int
	// onTime is the chance of a first touch by the deadline; cadence the
	// chance of keeping the rule's touch cadence; weight how many leads
	// they are named for, relative to the others.
	onTime, cadence, weight float64
	// away are the rep's absences, sorted; inactiveFrom when their account
	// was deactivated (zero: never).
	away         []span
	inactiveFrom time.Time
}

type span struct{ from, to time.Time }

func (r *rep) available(t time.Time) bool {
	if !r.inactiveFrom.IsZero() && !t.Before(r.inactiveFrom) {
		return false
	}
	for _, s := range r.away {
		if !t.Before(s.from) && t.Before(s.to) {
			return false
		}
	}
	return true
}

// gen is one generation.
type gen struct {
	cfg    Config
	policy *engine.Policy
	loc    *time.Location
	now    time.Time
	start  time.Time
	reps   []rep
	repCum []float64
	days   []time.Time
	dayCum []float64
	w      *writer
	msgSeq int64
	stats  *Stats
	// history, when set, plans touches for History (historyTouches).
	history *historyOpts
}

// Generate writes cfg's history into db, which must be migrated and hold
// no leads. It syncs the policy's teams, gives the reps names, zones,
// Slack identities and a year of absences, then streams leads, touches,
// lead events, messages, aliases and MQLs with COPY. Foreign keys to leads
// and the secondary indexes of those tables are dropped while the rows
// stream in on parallel connections, and made again (so every row is
// checked) at the end, as they were; the tables are vacuumed and analyzed,
// as autovacuum would have them.
func Generate(ctx context.Context, db *storage.DB, cfg Config, logf func(format string, args ...any)) (Stats, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	cfg = cfg.withDefaults()
	began := time.Now()
	stats := Stats{ByState: map[string]int64{}, Breaches: map[string]int64{}, Phases: map[string]time.Duration{}}
	mark := began
	phase := func(name string) {
		stats.Phases[name] = time.Since(mark).Round(time.Millisecond)
		mark = time.Now()
	}
	policy, err := Policy(cfg)
	if err != nil {
		return stats, err
	}
	g := newGen(cfg, policy, &stats)
	pool := db.Pool()
	if err := db.SyncTeams(ctx, policy.Teams); err != nil {
		return stats, err
	}
	if err := g.writeReps(ctx, pool); err != nil {
		return stats, err
	}
	phase("reps")

	fks, err := dropForeignKeys(ctx, pool)
	if err != nil {
		return stats, err
	}
	indexes, err := dropIndexes(ctx, pool)
	if err != nil {
		return stats, err
	}
	// The review's figures are worked out for every lead at once below;
	// row by row on the way in they would cost as much again.
	if err := setTriggers(ctx, pool, "DISABLE", reviewTriggers); err != nil {
		return stats, err
	}
	if err := g.streamRows(ctx, pool); err != nil {
		return stats, err
	}
	phase("copy")
	logf("benchgen: rows copied in %s; checking foreign keys and analyzing", stats.Phases["copy"])

	if err := addIndexes(ctx, pool, indexes); err != nil {
		return stats, err
	}
	phase("indexes")
	if err := addForeignKeys(ctx, pool, fks); err != nil {
		return stats, err
	}
	phase("foreign keys")
	if err := resetSequences(ctx, pool); err != nil {
		return stats, err
	}
	for _, t := range []string{"leads", "touches", "lead_events", "lead_messages", "lead_aliases", "mqls", "reps", "rep_events", "chat_identities", "teams"} {
		if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) `+t); err != nil {
			return stats, fmt.Errorf("benchgen: vacuum %s: %w", t, err)
		}
	}
	phase("vacuum analyze")
	if err := workOutFigures(ctx, db, policy); err != nil {
		return stats, err
	}
	// The review's figures (migration 0022) for every lead at once, then
	// kept by their triggers from here on.
	if _, err := pool.Exec(ctx, `SELECT review_facts_fill()`); err != nil {
		return stats, fmt.Errorf("benchgen: work out the review's figures: %w", err)
	}
	if err := setTriggers(ctx, pool, "ENABLE", reviewTriggers); err != nil {
		return stats, err
	}
	for _, t := range []string{"lead_facts", "lead_breach_facts", "lead_facts_stale", "lead_review_facts"} {
		if _, err := pool.Exec(ctx, `VACUUM (ANALYZE) `+t); err != nil {
			return stats, fmt.Errorf("benchgen: vacuum %s: %w", t, err)
		}
	}
	phase("figures")
	stats.Took = time.Since(began)
	return stats, nil
}

// resetSequences moves the id sequences of the tables streamed with ids
// past the largest id written, so that rows the product adds next do not
// collide with them.
func resetSequences(ctx context.Context, pool *pgxpool.Pool) error {
	for _, t := range []string{"leads", "touches", "lead_events", "lead_messages", "mqls"} {
		if _, err := pool.Exec(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), GREATEST(max(id), 1), max(id) IS NOT NULL) FROM %s`, t, t)); err != nil {
			return fmt.Errorf("benchgen: sequence of %s: %w", t, err)
		}
	}
	return nil
}

// workOutFigures marks every lead's figures stale, as the triggers
// disabled while the rows streamed in would have, and works them out
// under policy.
func workOutFigures(ctx context.Context, db *storage.DB, policy *engine.Policy) error {
	if _, err := db.Pool().Exec(ctx, `INSERT INTO lead_facts_stale (lead_id, seq) SELECT id, nextval('lead_facts_stale_seq') FROM leads
		ON CONFLICT (lead_id) DO UPDATE SET seq = nextval('lead_facts_stale_seq')`); err != nil {
		return fmt.Errorf("benchgen: mark every lead's figures stale: %w", err)
	}
	if _, err := db.RefreshLeadFacts(ctx, policy, 0); err != nil {
		return fmt.Errorf("benchgen: work out the leads' figures: %w", err)
	}
	return nil
}

// figuresTriggers are migration 0010's triggers that mark leads' figures
// stale, by table.
var figuresTriggers = [][2]string{{"leads", "lead_facts_new_leads"}, {"leads", "lead_facts_changed_lead"},
	{"touches", "lead_facts_new_touches"}, {"touches", "lead_facts_changed_touch"}, {"lead_events", "lead_facts_new_breaches"},
	{"lead_events", "lead_facts_new_outcomes"}}

// reviewTriggers are migration 0022's triggers that keep the review's
// figures, by table: off while the history is written, the figures worked
// out for every lead at once after (review_facts_fill).
var reviewTriggers = [][2]string{{"leads", "review_acceptance_new_leads"}, {"leads", "review_acceptance_changed_lead"},
	{"lead_events", "review_acceptance_new_events"}, {"lead_facts", "review_held_insert"}, {"lead_facts", "review_held_update"},
	{"lead_facts", "review_held_delete"}, {"lead_breach_facts", "review_breach_held_insert"},
	{"lead_breach_facts", "review_breach_held_update"}}

// setFiguresTriggers enables or disables them (how: ENABLE or DISABLE).
func setFiguresTriggers(ctx context.Context, pool *pgxpool.Pool, how string) error {
	return setTriggers(ctx, pool, how, figuresTriggers)
}

// setTriggers enables or disables triggers, each a table and a trigger's
// name (how: ENABLE or DISABLE).
func setTriggers(ctx context.Context, pool *pgxpool.Pool, how string, triggers [][2]string) error {
	for _, t := range triggers {
		if _, err := pool.Exec(ctx, fmt.Sprintf(`ALTER TABLE %s %s TRIGGER %s`, t[0], how, t[1])); err != nil {
			return fmt.Errorf("benchgen: %s trigger %s: %w", strings.ToLower(how), t[1], err)
		}
	}
	return nil
}

func newGen(cfg Config, policy *engine.Policy, stats *Stats) *gen {
	g := &gen{cfg: cfg, policy: policy, loc: policy.Location, now: cfg.Now, stats: stats}
	g.start = cfg.Now.AddDate(0, -cfg.Months, 0)
	// Days of the history, weighted: weekdays busy, weekends and holidays
	// quiet, and the business growing by half over the span.
	hol := map[engine.CalendarDate]bool{}
	for _, d := range policy.Calendar.Holidays() {
		hol[d] = true
	}
	s := g.start.In(g.loc)
	total := 0.0
	for d := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, g.loc); d.Before(g.now); d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, g.loc) {
		w := 1.0
		switch {
		case d.Weekday() == time.Saturday || d.Weekday() == time.Sunday:
			w = 0.12
		case hol[engine.DateOf(d)]:
			w = 0.15
		}
		w *= 0.75 + 0.5*float64(d.Sub(g.start))/float64(g.now.Sub(g.start))
		total += w
		g.days = append(g.days, d)
		g.dayCum = append(g.dayCum, total)
	}
	zones := []string{"America/New_York", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Europe/London"}
	n := cfg.Teams * cfg.RepsPerTeam
	cum := 0.0
	for i := range n {
		rng := rand.New(rand.NewPCG(cfg.Seed, 1<<40+uint64(i)))
		t := i / cfg.RepsPerTeam
		r := rep{email: RepEmail(i), userID: RepUserID(i), name: RepName(i), team: t,
			tz:     zones[t*len(zones)/cfg.Teams],
			onTime: 0.70 + 0.28*rng.Float64(), cadence: 0.30 + 0.60*rng.Float64(), weight: 0.6 + 0.8*rng.Float64()}
		// About two and a half absences a year of 2–12 days; some cover now.
		for at := g.start.Add(time.Duration(rng.ExpFloat64() * 146 * 24 * float64(time.Hour))); at.Before(g.now.AddDate(0, 0, 5)); at = at.Add(time.Duration((10 + rng.ExpFloat64()*136) * 24 * float64(time.Hour))) {
			lt := at.In(g.loc)
			from := time.Date(lt.Year(), lt.Month(), lt.Day(), 8, 0, 0, 0, g.loc)
			to := from.AddDate(0, 0, 2+rng.IntN(11))
			if from.After(g.now) {
				break
			}
			r.away = append(r.away, span{from, to})
			at = to
		}
		if i%167 == 5 { // three reps left; their Slack accounts were deactivated
			r.inactiveFrom = g.now.Add(-time.Duration((5 + 75*rng.Float64()) * 24 * float64(time.Hour))).Truncate(time.Microsecond)
			var kept []span
			for _, s := range r.away {
				if s.to.Before(r.inactiveFrom) {
					kept = append(kept, s)
				}
			}
			r.away = kept
		}
		cum += r.weight
		g.reps = append(g.reps, r)
		g.repCum = append(g.repCum, cum)
	}
	return g
}

// writeReps gives the reps (synced from the policy) names, zones and
// statuses, records who everyone is in Slack, and writes the reps'
// availability history.
func (g *gen) writeReps(ctx context.Context, pool *pgxpool.Pool) error {
	var emails, names, zones, statuses []string
	var untils []*time.Time
	var evEmail, evKind, evActor, evNote []string
	var evAt []time.Time
	var evUntil []*time.Time
	for i := range g.reps {
		r := &g.reps[i]
		status := "active"
		var until *time.Time
		for _, s := range r.away {
			u := s.to
			if !u.Before(g.now) && !s.from.After(g.now) {
				status, until = "away", &u
			}
			if !s.from.After(g.now) {
				evEmail, evKind, evActor, evNote = append(evEmail, r.email), append(evKind, "away"), append(evActor, r.email), append(evNote, "")
				evAt, evUntil = append(evAt, s.from), append(evUntil, &u)
			}
			if !s.to.After(g.now) {
				evEmail, evKind, evActor, evNote = append(evEmail, r.email), append(evKind, "back"), append(evActor, r.email), append(evNote, "")
				evAt, evUntil = append(evAt, s.to), append(evUntil, nil)
			}
		}
		if !r.inactiveFrom.IsZero() {
			status, until = "inactive", nil
			evEmail, evKind, evActor, evNote = append(evEmail, r.email), append(evKind, "deactivated"), append(evActor, "directory"), append(evNote, "the Slack account was deactivated")
			evAt, evUntil = append(evAt, r.inactiveFrom), append(evUntil, nil)
		}
		emails, names, zones, statuses, untils = append(emails, r.email), append(names, r.name), append(zones, r.tz), append(statuses, status), append(untils, until)
	}
	if _, err := pool.Exec(ctx, `UPDATE reps r SET name = v.name, time_zone = v.tz, status = v.status, away_until = v.until
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS v(email, name, tz, status, until)
		WHERE r.email = v.email`, emails, names, zones, statuses, untils); err != nil {
		return fmt.Errorf("benchgen: reps: %w", err)
	}
	ids := make([]string, len(g.reps))
	for i := range g.reps {
		ids[i] = g.reps[i].userID
	}
	for t := range g.cfg.Teams {
		emails, ids = append(emails, ManagerEmail(t)), append(ids, ManagerUserID(t))
		names, zones = append(names, fmt.Sprintf("Manager %02d", t)), append(zones, "America/New_York")
	}
	if _, err := pool.Exec(ctx, `INSERT INTO chat_identities (platform, email, user_id, time_zone, name)
		SELECT 'slack', email, id, tz, name FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS v(email, id, tz, name)`,
		emails, ids, zones, names); err != nil {
		return fmt.Errorf("benchgen: chat identities: %w", err)
	}
	tag, err := pool.Exec(ctx, `INSERT INTO rep_events (rep_email, kind, actor, at, until, note, created_at)
		SELECT email, kind, actor, at, until, note, at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[]) AS v(email, kind, actor, at, until, note)
		ORDER BY at`, evEmail, evKind, evActor, evAt, evUntil, evNote)
	if err != nil {
		return fmt.Errorf("benchgen: rep events: %w", err)
	}
	g.stats.RepEvents = tag.RowsAffected()
	return nil
}

// foreignKey is a constraint dropped while rows stream in.
type foreignKey struct{ table, name, def string }

// dropForeignKeys drops the foreign keys to leads, so that the rows of
// several tables can stream in at once, in any order.
func dropForeignKeys(ctx context.Context, pool *pgxpool.Pool) ([]foreignKey, error) {
	rows, err := pool.Query(ctx, `SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
		FROM pg_constraint c
		WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace AND c.confrelid = 'leads'::regclass
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("benchgen: list foreign keys: %w", err)
	}
	var fks []foreignKey
	for rows.Next() {
		var fk foreignKey
		if err := rows.Scan(&fk.table, &fk.name, &fk.def); err != nil {
			return nil, err
		}
		fks = append(fks, fk)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("benchgen: list foreign keys: %w", err)
	}
	for _, fk := range fks {
		if _, err := pool.Exec(ctx, fmt.Sprintf(`ALTER TABLE %s DROP CONSTRAINT %s`, fk.table, fk.name)); err != nil {
			return nil, fmt.Errorf("benchgen: drop %s: %w", fk.name, err)
		}
	}
	return fks, nil
}

// addForeignKeys adds them back, which checks every row.
func addForeignKeys(ctx context.Context, pool *pgxpool.Pool, fks []foreignKey) error {
	for _, fk := range fks {
		if _, err := pool.Exec(ctx, fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %s %s`, fk.table, fk.name, fk.def)); err != nil {
			return fmt.Errorf("benchgen: add %s back: %w", fk.name, err)
		}
	}
	return nil
}

// index is an index (or a unique constraint) dropped while rows stream in.
type index struct{ table, name, def, constraint string }

// loadedTables are the tables the streams fill.
var loadedTables = []string{"leads", "touches", "lead_events", "lead_messages", "lead_aliases", "mqls"}

// dropIndexes drops the indexes of the tables rows stream into, but their
// primary keys: building an index once at the end is several times cheaper
// than keeping it up to date row by row.
func dropIndexes(ctx context.Context, pool *pgxpool.Pool) ([]index, error) {
	rows, err := pool.Query(ctx, `SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),
			COALESCE(c.conname, ''), COALESCE(pg_get_constraintdef(c.oid), '')
		FROM pg_index i
		JOIN pg_class t ON t.oid = i.indrelid
		LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
		WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY($1) AND NOT i.indisprimary
		ORDER BY 1, 2`, loadedTables)
	if err != nil {
		return nil, fmt.Errorf("benchgen: list indexes: %w", err)
	}
	var out []index
	for rows.Next() {
		var ix index
		var conDef string
		if err := rows.Scan(&ix.table, &ix.name, &ix.def, &ix.constraint, &conDef); err != nil {
			return nil, err
		}
		if ix.constraint != "" {
			ix.def = conDef
		}
		out = append(out, ix)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("benchgen: list indexes: %w", err)
	}
	for _, ix := range out {
		q := `DROP INDEX ` + ix.name
		if ix.constraint != "" {
			q = fmt.Sprintf(`ALTER TABLE %s DROP CONSTRAINT %s`, ix.table, ix.constraint)
		}
		if _, err := pool.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("benchgen: drop %s: %w", ix.name, err)
		}
	}
	return out, nil
}

// addIndexes builds them again, as they were, two at a time.
func addIndexes(ctx context.Context, pool *pgxpool.Pool, indexes []index) error {
	work := make(chan index)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			var err error
			for ix := range work {
				if err != nil {
					continue
				}
				q := ix.def
				if ix.constraint != "" {
					q = fmt.Sprintf(`ALTER TABLE %s ADD CONSTRAINT %s %s`, ix.table, ix.constraint, ix.def)
				}
				err = func() error {
					conn, err := pool.Acquire(ctx)
					if err != nil {
						return err
					}
					defer conn.Release()
					if _, err := conn.Exec(ctx, `SET maintenance_work_mem = '256MB'`); err != nil {
						return err
					}
					_, err = conn.Exec(ctx, q)
					_, _ = conn.Exec(ctx, `RESET maintenance_work_mem`)
					return err
				}()
				if err != nil {
					err = fmt.Errorf("benchgen: build %s again: %w", ix.name, err)
				}
			}
			errs <- err
		}()
	}
	for _, ix := range indexes {
		work <- ix
	}
	close(work)
	return errors.Join(<-errs, <-errs)
}

// sampleTimes draws n instants of the history, sorted: by day with the
// days' weights, within a day mostly in working hours (peaking early
// afternoon) and otherwise at any hour.
func (g *gen) sampleTimes(rng *rand.Rand, n int) []int64 {
	out := make([]int64, 0, n)
	last := g.dayCum[len(g.dayCum)-1]
	for len(out) < n {
		d := g.days[sort.SearchFloat64s(g.dayCum, rng.Float64()*last)]
		var secs float64
		if rng.Float64() < 0.8 {
			secs = 8*3600 + (rng.Float64()+rng.Float64())*5*3600
		} else {
			secs = rng.Float64() * 86400
		}
		t := d.Add(time.Duration(secs * float64(time.Second))).Truncate(time.Microsecond)
		if t.Before(g.start) || !t.Before(g.now) {
			continue
		}
		out = append(out, t.UnixMicro())
	}
	slices.Sort(out)
	return out
}

// pickRep draws the rep the CRM names as a lead's owner.
func (g *gen) pickRep(rng *rand.Rand) int {
	i := sort.SearchFloat64s(g.repCum, rng.Float64()*g.repCum[len(g.repCum)-1])
	return min(i, len(g.reps)-1)
}

// nextAvailable is the next rep of from's team after from, in the team's
// order, who is available at t and is not from; -1 for none.
func (g *gen) nextAvailable(from int, t time.Time) int {
	team := g.reps[from].team
	base := team * g.cfg.RepsPerTeam
	pos := from - base
	for k := 1; k < g.cfg.RepsPerTeam; k++ {
		i := base + (pos+k)%g.cfg.RepsPerTeam
		if g.reps[i].available(t) {
			return i
		}
	}
	return -1
}

func (g *gen) writeLeads(ctx context.Context) error {
	rng := rand.New(rand.NewPCG(g.cfg.Seed, 1<<50))
	times := g.sampleTimes(rng, g.cfg.Leads)
	for i, t := range times {
		if err := g.w.release(ctx, t, false); err != nil {
			return err
		}
		if err := g.lead(ctx, int64(i+1), micros(t)); err != nil {
			return err
		}
	}
	return g.w.release(ctx, 0, true)
}

func (g *gen) writeMQLs(ctx context.Context, s *stream) error {
	rng := rand.New(rand.NewPCG(g.cfg.Seed, 1<<51))
	times := g.sampleTimes(rng, int(float64(g.cfg.Leads)*g.cfg.MQLsPerSQL+0.5))
	for i, t := range times {
		at := micros(t)
		id := int64(i + 1)
		if err := s.add(ctx, id, fmt.Sprintf("mql-%09d", id), pick(rng, sources), pick(rng, segments), at, at); err != nil {
			return err
		}
	}
	return nil
}

// weighted is a value and its relative weight.
type weighted struct {
	v string
	w float64
}

func pick(rng *rand.Rand, ws []weighted) string {
	total := 0.0
	for _, x := range ws {
		total += x.w
	}
	u := rng.Float64() * total
	for _, x := range ws {
		if u < x.w {
			return x.v
		}
		u -= x.w
	}
	return ws[len(ws)-1].v
}

var sources = []weighted{{"demo_request", 14}, {"contact_sales", 6}, {"trial_signup", 20}, {"webinar", 18},
	{"content_download", 22}, {"event", 10}, {"partner_referral", 10}}

var segments = []weighted{{"smb", 45}, {"mid_market", 35}, {"enterprise", 20}}
