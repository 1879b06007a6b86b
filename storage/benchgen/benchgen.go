// Package benchgen fills a migrated slabot database with a generated
// history for benchmarks: a sales floor of 500 reps in 50 teams receiving
// N sales-qualified leads over 12 months, each lead lived through as the
// engine would have recorded it: routed to its named owner (or the next
// rep when they were away), its card sent, acknowledged, touched about three
// times, snoozed, reminded, breached (first touch and cadence, with the
// rule's on_breach actions: escalation messages, automatic reassignment,
// return to Marketing), and closed as won, lost, disqualified or returned,
// or left open, as many leads are when outcomes are not reported. About
// four MQLs per SQL feed the funnel, and the reps' absences their history.
//
// Rows are streamed with COPY on several connections at once, each table's
// rows in the order the product would have written them (ids grow with
// time), so 1,000,000 leads take about a minute rather than hours. The same
// Config always gives the same rows.
//
// Open keeps a generated history in a schema of its own, bench_<leads>, and
// reuses it while it matches the Config and this generator's Version.
package benchgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

// Version changes whenever the generator makes different rows for the same
// Config or schema, so that a kept schema is generated again.
const Version = 3 // 2: with the leads' figures (migration 0010); 3: the scorecard's (0017)

// Config describes a history. The zero value of each field takes its default.
type Config struct {
	// Leads is the number of sales-qualified leads (default 20,000).
	Leads int
	// Now is when the history ends; zero takes Anchor(time.Now()), or the
	// end of the kept history when Open finds one.
	Now time.Time
	// Seed makes the history; the same Config gives the same rows (default 1).
	Seed uint64
	// Months of history before Now (default 12).
	Months int
	// Teams and RepsPerTeam size the floor (default 50 and 10).
	Teams, RepsPerTeam int
	// MQLsPerSQL is how many marketing-qualified leads there are per lead (default 4).
	MQLsPerSQL float64
}

func (c Config) withDefaults() Config {
	if c.Leads <= 0 {
		c.Leads = 20_000
	}
	if c.Now.IsZero() {
		c.Now = Anchor(time.Now())
	}
	c.Now = c.Now.Truncate(time.Microsecond)
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Months <= 0 {
		c.Months = 12
	}
	if c.Teams <= 0 {
		c.Teams = 50
	}
	if c.RepsPerTeam <= 0 {
		c.RepsPerTeam = 10
	}
	if c.MQLsPerSQL <= 0 {
		c.MQLsPerSQL = 4
	}
	return c
}

// Reps is the number of reps on the floor.
func (c Config) Reps() int { c = c.withDefaults(); return c.Teams * c.RepsPerTeam }

// LeadsFromEnv is the size of history the scale benchmarks ask for:
// SLABOT_BENCH_LEADS (underscores allowed: 1_000_000), or 20,000 when it
// is not set.
func LeadsFromEnv() (int, error) {
	s := os.Getenv("SLABOT_BENCH_LEADS")
	if s == "" {
		return 20_000, nil
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("SLABOT_BENCH_LEADS=%q is not a number of leads", s)
	}
	return n, nil
}

// SchemaName is the schema Open keeps cfg's history in: bench_<leads>,
// with the seed and floor size added when they are not the defaults.
func SchemaName(cfg Config) string {
	cfg = cfg.withDefaults()
	name := fmt.Sprintf("bench_%d", cfg.Leads)
	if cfg.Seed != 1 {
		name += fmt.Sprintf("_s%d", cfg.Seed)
	}
	if cfg.Teams != 50 || cfg.RepsPerTeam != 10 || cfg.Months != 12 || cfg.MQLsPerSQL != 4 {
		name += fmt.Sprintf("_t%dr%dm%dq%g", cfg.Teams, cfg.RepsPerTeam, cfg.Months, cfg.MQLsPerSQL)
		name = strings.ReplaceAll(name, ".", "_")
	}
	return name
}

// Stats counts what a generation wrote.
type Stats struct {
	Leads, Touches, Events, Messages, MQLs, Aliases, RepEvents int64
	// ByState counts leads by their state; Open those still with Sales.
	ByState map[string]int64
	Open    int64
	// Breaches by kind; Reassigned counts leads reassigned automatically;
	// ReturnedBreached those sent back to Marketing by a breach.
	Breaches         map[string]int64
	Reassigned       int64
	ReturnedBreached int64
	// OnTimeTouches counts assignments whose first touch came by the deadline.
	OnTimeFirstTouches, LateFirstTouches int64
	// Took is how long the generation took.
	Took time.Duration
	// Phases: how long each step took.
	Phases map[string]time.Duration
}

// String is a line for a benchmark's log.
func (s Stats) String() string {
	return fmt.Sprintf("%d leads (%d open; %v), %d touches (%.2f a lead), %d events, %d messages, %d MQLs, %d rep events; "+
		"breaches %v, %d reassigned, %d returned by a breach; generated in %s %v",
		s.Leads, s.Open, s.ByState, s.Touches, float64(s.Touches)/float64(max(1, s.Leads)), s.Events, s.Messages, s.MQLs,
		s.RepEvents, s.Breaches, s.Reassigned, s.ReturnedBreached, s.Took.Round(time.Millisecond), s.Phases)
}

// Info is a kept history: its Config (Now as generated), its policy, and
// what was generated.
type Info struct {
	Config Config
	Schema string
	// PolicyYAML is the policy the history was generated for; Policy the parsed one.
	PolicyYAML string
	Policy     *engine.Policy
	Stats      Stats
	// Generated is true when Open generated the history now, false when it
	// found it kept.
	Generated bool
}

// Open connects to the history of cfg in its schema (SchemaName) on the
// database at url, generating it first when the schema is missing, was made
// by another Version or for another Config, or is incomplete. Several
// processes may call it at once: one generates, the others wait for it.
// A kept history is migrated to the current schema. logf, when set, hears
// about progress.
func Open(ctx context.Context, url string, cfg Config, opts storage.Options, logf func(format string, args ...any)) (*storage.DB, Info, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	nowGiven := !cfg.Now.IsZero()
	cfg = cfg.withDefaults()
	schema := SchemaName(cfg)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, Info{}, fmt.Errorf("benchgen: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// One generator per schema at a time, across processes.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('slabot.benchgen.' || $1))`, schema); err != nil {
		return nil, Info{}, fmt.Errorf("benchgen: lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext('slabot.benchgen.' || $1))`, schema)
	}()

	info, found, err := readMeta(ctx, conn, schema)
	if err != nil {
		return nil, Info{}, err
	}
	if found && info.Config.Leads == cfg.Leads && info.Config.Seed == cfg.Seed && info.Config.Months == cfg.Months &&
		info.Config.Teams == cfg.Teams && info.Config.RepsPerTeam == cfg.RepsPerTeam && info.Config.MQLsPerSQL == cfg.MQLsPerSQL &&
		(!nowGiven || info.Config.Now.Equal(cfg.Now)) {
		o := opts
		o.Schema = schema
		db, err := storage.Open(ctx, url, o)
		if err != nil {
			return nil, Info{}, err
		}
		// A kept history gets the migrations added since it was made
		// (each fills in what it adds from the rows there).
		if _, err := db.Migrate(ctx); err != nil {
			db.Close()
			return nil, Info{}, err
		}
		info.Schema = schema
		info.PolicyYAML = PolicyYAML(info.Config)
		if info.Policy, err = Policy(info.Config); err != nil {
			db.Close()
			return nil, Info{}, err
		}
		logf("benchgen: using the kept history in schema %s (%d leads ending %s)", schema, cfg.Leads, info.Config.Now.Format(time.RFC3339))
		return db, info, nil
	}

	logf("benchgen: generating %d leads in schema %s …", cfg.Leads, schema)
	if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
		return nil, Info{}, fmt.Errorf("benchgen: drop schema %s: %w", schema, err)
	}
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		return nil, Info{}, fmt.Errorf("benchgen: create schema %s: %w", schema, err)
	}
	o := opts
	o.Schema = schema
	if o.MaxConns < 10 {
		o.MaxConns = 10
	}
	db, err := storage.Open(ctx, url, o)
	if err != nil {
		return nil, Info{}, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, Info{}, err
	}
	stats, err := Generate(ctx, db, cfg, logf)
	if err != nil {
		db.Close()
		return nil, Info{}, err
	}
	policy, err := Policy(cfg)
	if err != nil {
		db.Close()
		return nil, Info{}, err
	}
	info = Info{Config: cfg, Schema: schema, PolicyYAML: PolicyYAML(cfg), Policy: policy, Stats: stats, Generated: true}
	if err := writeMeta(ctx, db, info); err != nil {
		db.Close()
		return nil, Info{}, err
	}
	logf("benchgen: %s", stats)
	return db, info, nil
}

// meta is what the benchgen_meta table keeps of a generation.
type meta struct {
	Version int
	Config  Config
	Stats   Stats
}

func readMeta(ctx context.Context, conn *pgx.Conn, schema string) (Info, bool, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgx.Identifier{schema, "benchgen_meta"}.Sanitize()).Scan(&exists); err != nil {
		return Info{}, false, fmt.Errorf("benchgen: read meta: %w", err)
	}
	if !exists {
		return Info{}, false, nil
	}
	var raw []byte
	err := conn.QueryRow(ctx, `SELECT body FROM `+pgx.Identifier{schema, "benchgen_meta"}.Sanitize()+` WHERE complete`).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return Info{}, false, nil
	}
	if err != nil {
		return Info{}, false, fmt.Errorf("benchgen: read meta: %w", err)
	}
	var m meta
	if err := json.Unmarshal(raw, &m); err != nil || m.Version != Version {
		return Info{}, false, nil
	}
	return Info{Config: m.Config, Stats: m.Stats}, true, nil
}

func writeMeta(ctx context.Context, db *storage.DB, info Info) error {
	body, err := json.Marshal(meta{Version: Version, Config: info.Config, Stats: info.Stats})
	if err != nil {
		return err
	}
	_, err = db.Pool().Exec(ctx, `CREATE TABLE IF NOT EXISTS benchgen_meta (complete bool NOT NULL, body jsonb NOT NULL, made_at timestamptz NOT NULL DEFAULT now());
		DELETE FROM benchgen_meta`)
	if err == nil {
		_, err = db.Pool().Exec(ctx, `INSERT INTO benchgen_meta (complete, body) VALUES (true, $1)`, body)
	}
	if err != nil {
		return fmt.Errorf("benchgen: write meta: %w", err)
	}
	return nil
}
