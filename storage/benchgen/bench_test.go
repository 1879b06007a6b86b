package benchgen_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/benchgen"
	"github.com/slabot/slabot/storage/storagetest"
)

// benchLeads is the size of the generated history the scale benchmarks
// use: SLABOT_BENCH_LEADS, default 20,000.
func benchLeads(b *testing.B) int {
	n, err := benchgen.LeadsFromEnv()
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func openBench(b *testing.B) (*storage.DB, benchgen.Info) {
	b.Helper()
	db, info, err := benchgen.Open(context.Background(), storagetest.URL(b), benchgen.Config{Leads: benchLeads(b)},
		storage.Options{}, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Close)
	if info.Generated {
		b.ReportMetric(info.Stats.Took.Seconds(), "s-to-generate")
	}
	return db, info
}

// periods are the spans the bot's answers load, as of now.
type periods struct {
	week, month, quarter engine.Period
	// home is the Home tab's four weeks; report the weekly report's span
	// (bot.LoadReport: from the 1st of the month before the week's to
	// the later of the week's end and now).
	home, report engine.Period
}

func periodsAt(p *engine.Policy, now time.Time) periods {
	var ps periods
	ps.week, _ = engine.PeriodContaining("week", now, p.Location)
	ps.month, _ = engine.PeriodContaining("month", now, p.Location)
	ps.quarter, _ = engine.PeriodContaining("quarter", now, p.Location)
	ps.home = engine.Period{Start: ps.week.Start.AddDate(0, 0, -21), End: ps.week.End, Label: "four weeks"}
	// The report made now covers this week (Anchor is a Thursday).
	y, m, _ := ps.week.Start.In(p.Location).Date()
	end := ps.week.End
	if now.After(end) {
		end = now
	}
	ps.report = engine.Period{Start: time.Date(y, m-1, 1, 0, 0, 0, 0, p.Location), End: end, Label: "report span"}
	return ps
}

// BenchmarkScaleLoaders times, on the generated history, the storage
// loaders behind /sla, the Home tab and the weekly report, and the
// engine's computations over what they load, apart: which of the two an
// answer's time goes to, and how it grows with the history. Run it with
// `-run '^$' -bench ScaleLoaders -benchtime 3x` and SLABOT_BENCH_LEADS.
func BenchmarkScaleLoaders(b *testing.B) {
	db, info := openBench(b)
	ctx := context.Background()
	p, now := info.Policy, info.Config.Now
	ps := periodsAt(p, now)
	rep := benchgen.RepEmail(42)
	team := benchgen.TeamName(4)

	load := func(name string, period engine.Period) {
		b.Run("LeadFacts/"+name, func(b *testing.B) {
			var n, touches, breaches int
			for b.Loop() {
				facts, err := db.LeadFacts(ctx, period.Start, period.End)
				if err != nil {
					b.Fatal(err)
				}
				n, touches, breaches = len(facts), 0, 0
				for i := range facts {
					touches += len(facts[i].Touches)
					breaches += len(facts[i].Breaches)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/load")
			b.ReportMetric(float64(n), "leads")
			b.ReportMetric(float64(touches), "touches")
			b.ReportMetric(float64(breaches), "breaches")
		})
	}
	load("week", ps.week)
	load("home-4-weeks", ps.home)
	load("month", ps.month)
	load("quarter", ps.quarter)
	load("report-span", ps.report)

	b.Run("OpenLeadsOf/rep042", func(b *testing.B) {
		var n int
		for b.Loop() {
			open, err := db.OpenLeadsOf(ctx, rep)
			if err != nil {
				b.Fatal(err)
			}
			n = len(open)
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/load")
		b.ReportMetric(float64(n), "leads")
	})
	b.Run("MQLs/report-span", func(b *testing.B) {
		var n int
		for b.Loop() {
			mqls, err := db.MQLs(ctx, ps.report.Start, ps.report.End)
			if err != nil {
				b.Fatal(err)
			}
			n = len(mqls)
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/load")
		b.ReportMetric(float64(n), "mqls")
	})

	// The engine's part, on facts loaded once.
	compute := func(name string, period engine.Period, scopes ...engine.Scope) {
		facts, err := db.LeadFacts(ctx, period.Start, period.End)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("ComputeAttainment/"+name, func(b *testing.B) {
			for b.Loop() {
				for _, s := range scopes {
					engine.ComputeAttainment(p, facts, s, period, now)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/answer")
			b.ReportMetric(float64(len(facts)), "leads")
		})
	}
	// /sla status team week for its manager: the team, then each rep's line.
	teamScopes := []engine.Scope{{Kind: engine.ScopeTeam, Team: team}}
	for _, r := range p.Team(team).Reps {
		teamScopes = append(teamScopes, engine.Scope{Kind: engine.ScopeRep, Rep: r})
	}
	compute("team-week-with-rep-lines", ps.week, teamScopes...)
	compute("all-quarter", ps.quarter, engine.Scope{Kind: engine.ScopeAll})
	// The Home tab: four weeks' shares and the trend (two more).
	repScope := engine.Scope{Kind: engine.ScopeRep, Rep: rep}
	compute("home-rep-6x", ps.home, repScope, repScope, repScope, repScope, repScope, repScope)
}

// longArray matches the array literal of the ids in a plan.
var longArray = regexp.MustCompile(`'\{[0-9,]{60,}\}'`)

// BenchmarkScaleQueries runs EXPLAIN (ANALYZE, BUFFERS) on the statements
// storage.DB.LeadFacts and OpenLeadsOf send (copied from
// storage/facts.go and storage/home.go: keep them in step), for the
// quarter, and reports the server's execution time of each; -v prints
// the plans. It tells the database's share of an answer from the bot's.
// Then it times the answers over everyone from the per-lead figures
// (benchFigures).
func BenchmarkScaleQueries(b *testing.B) {
	db, info := openBench(b)
	ctx := context.Background()
	ps := periodsAt(info.Policy, info.Config.Now)
	pool := db.Pool()
	const leadColumns = `id, external_id, source, segment, score, contact, company, context, crm_url,
	value::float8, owner_email, team, rule, state, handed_off_at, received_at, assigned_at,
	first_touch_due, acknowledged_at, first_touch_at, snoozed_until, closed_at, reassignments,
	return_reason, amount::float8, updated_at`
	for _, pr := range []struct {
		name   string
		period engine.Period
	}{{"week", ps.week}, {"quarter", ps.quarter}, {"report-span", ps.report}} {
		// Which leads the period's load holds: those received in it, and
		// older ones still open or closed in it.
		var received, openOlder, closedIn int
		if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE received_at >= $1),
				count(*) FILTER (WHERE received_at < $1 AND closed_at IS NULL),
				count(*) FILTER (WHERE received_at < $1 AND closed_at >= $1)
			FROM leads WHERE received_at < $2 AND (closed_at IS NULL OR closed_at >= $1 OR received_at >= $1)`,
			pr.period.Start, pr.period.End).Scan(&received, &openOlder, &closedIn); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s (%s): %d leads received in it, %d older ones with no closed_at (open or opportunity), %d older ones closed in it",
			pr.name, pr.period.Label, received, openOlder, closedIn)
		var ids []int64
		rows, err := pool.Query(ctx, `SELECT id FROM leads
			WHERE received_at < $2 AND (closed_at IS NULL OR closed_at >= $1 OR received_at >= $1) ORDER BY id`, pr.period.Start, pr.period.End)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var id int64
			_ = rows.Scan(&id)
			ids = append(ids, id)
		}
		if rows.Err() != nil {
			b.Fatal(rows.Err())
		}
		for _, q := range []struct {
			name, sql string
			args      []any
		}{
			{"leads", `SELECT ` + leadColumns + ` FROM leads
		WHERE received_at < $2 AND (closed_at IS NULL OR closed_at >= $1 OR received_at >= $1)
		ORDER BY id`, []any{pr.period.Start, pr.period.End}},
			{"touches", `SELECT lead_id, at FROM touches WHERE lead_id = ANY($1) ORDER BY lead_id, at`, []any{ids}},
			{"breaches", `SELECT id, lead_id, at, kind, actor, data FROM lead_events
		WHERE lead_id = ANY($1) AND kind = $2 ORDER BY id`, []any{ids, engine.EventBreach}},
		} {
			b.Run(pr.name+"/"+q.name, func(b *testing.B) {
				var ms float64
				var plan []string
				for b.Loop() {
					plan = plan[:0]
					rows, err := pool.Query(ctx, `EXPLAIN (ANALYZE, BUFFERS) `+q.sql, q.args...)
					if err != nil {
						b.Fatal(err)
					}
					for rows.Next() {
						var line string
						_ = rows.Scan(&line)
						plan = append(plan, line)
						if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "Execution Time: "); ok {
							ms, _ = strconv.ParseFloat(strings.TrimSuffix(rest, " ms"), 64)
						}
					}
					if rows.Err() != nil {
						b.Fatal(rows.Err())
					}
				}
				b.ReportMetric(ms, "ms-server")
				b.ReportMetric(float64(len(ids)), "leads")
				b.Log(fmt.Sprintf("%s, %s (%d leads):\n", pr.name, q.name, len(ids)) +
					longArray.ReplaceAllString(strings.Join(plan, "\n"), "'{…the ids…}'"))
			})
		}
	}
	benchFigures(b, db, info)
	b.Run("open-leads-of-rep042", func(b *testing.B) {
		var plan []string
		for b.Loop() {
			plan = plan[:0]
			rows, err := pool.Query(ctx, `EXPLAIN (ANALYZE, BUFFERS) SELECT `+leadColumns+` FROM leads
		WHERE owner_email = lower($1) AND state IN ('new', 'notified', 'acknowledged', 'working', 'snoozed', 'reassigned')
		ORDER BY (first_touch_at IS NOT NULL), first_touch_due NULLS LAST, assigned_at NULLS LAST, id`, benchgen.RepEmail(42))
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				var line string
				_ = rows.Scan(&line)
				plan = append(plan, line)
			}
		}
		b.Log(strings.Join(plan, "\n"))
	})
}

// benchFigures times the answers over everyone from the per-lead figures
// (storage.DB.Attainment and Funnel: SQL aggregates over lead_facts), the
// query part of /sla status, /sla funnel and the weekly report's figures,
// and the peak RSS of this process while it asks them (the generation's
// peak is reset first).
func benchFigures(b *testing.B, db *storage.DB, info benchgen.Info) {
	ctx := context.Background()
	p, now := info.Policy, info.Config.Now
	ps := periodsAt(p, now)
	team := benchgen.TeamName(4)
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS(b)
	answer := func(name string, ask func() error) {
		b.Run("figures/"+name, func(b *testing.B) {
			for b.Loop() {
				if err := ask(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/answer")
		})
	}
	attainment := func(scope engine.Scope, period engine.Period) func() error {
		return func() error { _, err := db.Attainment(ctx, p, scope, period, now); return err }
	}
	answer("status-all-quarter", attainment(engine.Scope{Kind: engine.ScopeAll}, ps.quarter))
	answer("status-all-week", attainment(engine.Scope{Kind: engine.ScopeAll}, ps.week))
	answer("status-team-week-with-rep-lines", func() error {
		if err := attainment(engine.Scope{Kind: engine.ScopeTeam, Team: team}, ps.week)(); err != nil {
			return err
		}
		for _, r := range p.Team(team).Reps {
			if err := attainment(engine.Scope{Kind: engine.ScopeRep, Rep: r}, ps.week)(); err != nil {
				return err
			}
		}
		return nil
	})
	answer("funnel-month", func() error { _, err := db.Funnel(ctx, p, ps.month, now); return err })
	// The weekly report's data (bot.LoadReport's part): its figures over
	// everyone, every rep's line, the SQLs by day, the reps and their
	// availability history.
	answer("weekly-report-data", func() error { _, err := db.WeeklyReport(ctx, p, ps.week, now); return err })
	b.Run("figures/refresh-1000-changed-leads", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			if _, err := db.Pool().Exec(ctx, `UPDATE leads SET amount = amount + 1 WHERE id IN (SELECT id FROM leads ORDER BY id DESC LIMIT 1000)`); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			n, err := db.RefreshLeadFacts(ctx, p, 0)
			if err != nil || n != 1000 {
				b.Fatalf("refreshed %d: %v", n, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/refresh")
	})
	if rss := peakRSS(b); rss > 0 {
		b.Logf("peak RSS while answering from the figures: %.0f MB", rss/(1<<20))
		b.Run("figures/peak-rss", func(b *testing.B) {
			for b.Loop() {
			}
			b.ReportMetric(rss/(1<<20), "MB-peak-RSS")
		})
	}
}

// resetPeakRSS starts the process's peak RSS (VmHWM) afresh (Linux).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("peak RSS cannot be reset here: %v", err)
	}
}

// peakRSS is the process's peak RSS in bytes since resetPeakRSS; 0 when
// unknown.
func peakRSS(b *testing.B) float64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Logf("no peak RSS: %v", err)
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err == nil {
				return kb * 1024
			}
		}
	}
	return 0
}

// BenchmarkScaleGenerate generates SLABOT_BENCH_LEADS leads into a fresh
// schema each time: the generator's own speed.
func BenchmarkScaleGenerate(b *testing.B) {
	n := benchLeads(b)
	for b.Loop() {
		b.StopTimer()
		db := storagetest.NewDB(b)
		b.StartTimer()
		stats, err := benchgen.Generate(context.Background(), db, benchgen.Config{Leads: n}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Log(stats)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "leads/s")
}
