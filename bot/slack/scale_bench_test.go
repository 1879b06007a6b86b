package slack_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/chart"
	slackui "github.com/slabot/slabot/bot/slack"
	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/benchgen"
	"github.com/slabot/slabot/storage/storagetest"
)

// BenchmarkScale measures what people wait for, on a generated history of
// SLABOT_BENCH_LEADS leads (default 20,000) over 12 months, 500 reps in 50
// teams (storage/benchgen): a manager's `/sla status team week` and
// `/sla status all quarter`, a rep's `/sla leads`, `/sla funnel month`,
// a rep's Home tab, and the weekly report's data (what `slabot report
// --dry-run` loads) and the whole dry run with its chart. Commands and the
// Home tab go through the bot as it runs: the Slack fake sends the
// envelope, the bot records it as a job, the worker answers; the time is
// from sending the command to the answer's arrival at the response_url
// (or views.publish). The clock is stopped at the history's end, a
// Thursday afternoon.
//
// Each answer also reports the process's peak heap in use (sampled every
// 5 ms) and peak RSS (VmHWM, reset before each answer) while it ran. The
// history is kept in schema bench_<leads>, so a second run against the
// same server skips generating it.
//
//	SLABOT_BENCH_LEADS=1000000 go test -run '^$' -bench Scale -benchtime 1x -timeout 2h ./bot/
func BenchmarkScale(b *testing.B) {
	e, db, info := openScaleEnv(b)
	ctx, now := context.Background(), info.Config.Now
	mem := startMemSampler(b)
	manager := benchgen.ManagerUserID(4) // manages team04
	rep := benchgen.RepUserID(42)        // in team04
	b.Logf("%d leads, now %s; %s asks as team04's manager, %s as a rep", info.Config.Leads, now.Format(time.RFC1123), manager, rep)

	e.benchCommands(b, mem, []scaleAsk{
		// No data: the floor every answer stands on (the envelope, the
		// job queue's pick-up, the response_url).
		{"Help", rep, "help", "slabot: /sla"},
		{"StatusTeamWeek", manager, "status team week", "SLA status, team team04"},
		{"StatusAllQuarter", manager, "status all quarter", "SLA status, everyone"},
		{"Leads", rep, "leads", "open lead"},
		{"FunnelMonth", manager, "funnel month", "Funnel, "},
	})
	benchAnswer(b, mem, "HomeTab", func(b *testing.B) time.Duration { return e.scaleHome(b, rep) })
	policy := e.service.Policy()
	week := bot.ReportWeek(now, policy.Location)
	loadReport := func(b *testing.B) bot.ReportView {
		view, err := bot.LoadReport(ctx, db, policy, week, now)
		if err != nil {
			b.Fatal(err)
		}
		if view.Report.Sales.Week.SQLs == 0 {
			b.Fatalf("the report of %s has no SQLs", week.Label)
		}
		return view
	}
	benchAnswer(b, mem, "ReportData", func(b *testing.B) time.Duration {
		start := time.Now()
		loadReport(b)
		return time.Since(start)
	})
	benchAnswer(b, mem, "ReportDryRun", func(b *testing.B) time.Duration {
		start := time.Now()
		view := loadReport(b)
		blocks, _ := slackui.RenderReport(view)
		text := slackui.ReportText(blocks)
		png, err := chart.WeeklyChart(view.Report)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		if len(text) == 0 || len(png) == 0 {
			b.Fatal("an empty report")
		}
		return took
	})
}

// openScaleEnv is the bot the scale benchmarks ask, on the generated
// history of SLABOT_BENCH_LEADS leads (benchgen.LeadsFromEnv), kept in
// schema bench_<leads>: every rep, manager and escalation channel of the
// history is known to the Slack fake, and the clock is stopped at the
// history's end.
func openScaleEnv(b *testing.B) (*env, *storage.DB, benchgen.Info) {
	b.Helper()
	n, err := benchgen.LeadsFromEnv()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db, info, err := benchgen.Open(ctx, storagetest.URL(b), benchgen.Config{Leads: n}, storage.Options{MaxConns: 30}, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Close)
	if info.Generated {
		b.Logf("generated: %s", info.Stats)
	}

	fake := newFakeSlack(b)
	fake.AddChannel("C0SMK", "smarketing")
	reps, err := db.Reps(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for i, r := range reps {
		fake.AddUser(slackfake.User{ID: benchgen.RepUserID(i), Name: strings.TrimSuffix(r.Email, "@bench.test"),
			RealName: r.Name, Email: r.Email, TZ: r.TimeZone})
	}
	for t := range info.Config.Teams {
		fake.AddUser(slackfake.User{ID: benchgen.ManagerUserID(t), Name: fmt.Sprintf("manager%02d", t),
			RealName: fmt.Sprintf("Manager %02d", t), Email: benchgen.ManagerEmail(t), TZ: "America/New_York"})
		fake.AddChannel(benchgen.EscalationChannelID(t), strings.TrimPrefix(benchgen.EscalationChannel(t), "#"))
	}
	now := info.Config.Now
	// A long lease: at a million leads an answer takes minutes, and the
	// worker must not give up on it and run it again.
	e := newEnv(b, withDB(db), withFake(fake), withPolicy(info.PolicyYAML), withClock(func() time.Time { return now }),
		withLease(30*time.Minute))
	return e, db, info
}

// scaleAsk is one /sla command of a scale benchmark: its name, who asks,
// the words after /sla, and what the answer must say.
type scaleAsk struct{ name, user, text, says string }

// benchCommands times each command as its own sub-benchmark.
func (e *env) benchCommands(b *testing.B, mem *memSampler, asks []scaleAsk) {
	for _, a := range asks {
		benchAnswer(b, mem, a.name, func(b *testing.B) time.Duration { return e.scaleCommand(b, a.user, a.text, a.says) })
	}
}

// benchAnswer runs answer as sub-benchmark name, answer returning how long
// one answer took, and reports the mean with the peaks of memory while it
// ran.
func benchAnswer(b *testing.B, mem *memSampler, name string, answer func(b *testing.B) time.Duration) {
	b.Run(name, func(b *testing.B) {
		mem.reset()
		var took time.Duration
		for b.Loop() {
			took += answer(b)
		}
		reportAnswer(b, took, mem)
	})
}

// scaleCommand runs /sla text as user and returns how long the answer
// took to reach the response_url; the answer must say says.
func (e *env) scaleCommand(b *testing.B, user, text, says string) time.Duration {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := e.fake.SlashCommand(ctx, user, "C0OPS", "/sla", text)
	if err != nil || !res.Acked {
		b.Fatalf("/sla %s was not acknowledged: %v", text, err)
	}
	for {
		for _, p := range e.fake.ResponseURLPosts() {
			if p.URL != res.ResponseURL {
				continue
			}
			if p.Status != 200 || !strings.Contains(p.Text, says) {
				b.Fatalf("/sla %s answered %d %q, want it to say %q", text, p.Status, p.Text, says)
			}
			return p.At.Sub(start)
		}
		select {
		case <-ctx.Done():
			b.Fatalf("/sla %s: no answer in 30 minutes", text)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// scaleHome opens user's Home tab and returns how long its views.publish
// took to arrive.
func (e *env) scaleHome(b *testing.B, user string) time.Duration {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	start := time.Now()
	if _, err := e.fake.AppHomeOpened(ctx, user); err != nil {
		b.Fatalf("app_home_opened: %v", err)
	}
	call, err := e.fake.WaitForCall(ctx, "views.publish", func(c slackfake.Call) bool {
		return c.At.After(start) && c.Params.Get("user_id") == user
	})
	if err != nil {
		b.Fatalf("the Home tab of %s was not published: %v", user, err)
	}
	if call.Status != 200 || call.Error != "" {
		b.Fatalf("views.publish failed: %d %s", call.Status, call.Error)
	}
	return call.At.Sub(start)
}

func reportAnswer(b *testing.B, took time.Duration, mem *memSampler) {
	b.ReportMetric(float64(took.Microseconds())/1000/float64(b.N), "ms/answer")
	heap, rss := mem.peaks()
	b.ReportMetric(float64(heap)/(1<<20), "MB-peak-heap")
	if rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "MB-peak-RSS")
	}
}

// memSampler keeps the largest heap in use seen since reset, sampling
// runtime/metrics (which, unlike ReadMemStats, does not stop the world)
// every 5 ms; peak RSS comes from the kernel's VmHWM, which reset clears.
type memSampler struct {
	peak atomic.Uint64
	mu   sync.Mutex
}

var heapMetrics = []string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes"}

func startMemSampler(b *testing.B) *memSampler {
	m := &memSampler{}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		samples := make([]metrics.Sample, len(heapMetrics))
		for i, name := range heapMetrics {
			samples[i].Name = name
		}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			metrics.Read(samples)
			var inuse uint64
			for _, s := range samples {
				if s.Value.Kind() == metrics.KindUint64 {
					inuse += s.Value.Uint64()
				}
			}
			for {
				old := m.peak.Load()
				if inuse <= old || m.peak.CompareAndSwap(old, inuse) {
					break
				}
			}
		}
	}()
	b.Cleanup(func() { close(stop); <-done })
	return m
}

// reset collects garbage, hands freed memory back to the system, and
// clears both peaks, so the next answer's are its own.
func (m *memSampler) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	runtime.GC()
	debug.FreeOSMemory()
	m.peak.Store(0)
	// Linux: writing 5 to clear_refs resets VmHWM to the current RSS.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peaks returns the peak heap in use and the peak RSS (0 when the system
// does not say) since reset.
func (m *memSampler) peaks() (heap, rss uint64) {
	heap = m.peak.Load()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return heap, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return heap, kb << 10
		}
	}
	return heap, 0
}
