package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/storage/storagetest"
)

// crashIntakeToken is the intake's shared secret (32 characters or more,
// as slabot asks).
const crashIntakeToken = "crash-test-intake-token-0123456789abcdef"

// crashReps is how many reps share the burst: three cards each, within
// Slack's burst for one DM, so the pace of one DM does not set the time.
const crashReps = 20

// crashRun is one kill -9 in the middle of a burst of hand-offs: `slabot
// run` (bin, as a separate process) against the Slack fake and a real
// PostgreSQL, n hand-offs posted to its intake, SIGKILL once a quarter of
// the cards arrived, a new process started, and every card waited for.
type crashRun struct {
	// heldAtKill is how many jobs the killed process left running.
	heldAtKill int
	// restartToLastCard is the time from the new process's start to the
	// last card's arrival.
	restartToLastCard time.Duration
	// cards counts the cards each lead got.
	cards map[int64]int
	// rescued counts the jobs run again because their worker died.
	rescued int
}

// runCrash runs one crashRun; cmd makes the command for `slabot run`.
func runCrash(tb testing.TB, n int, latency time.Duration, cmd func() *exec.Cmd) crashRun {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fake := slackfake.New()
	tb.Cleanup(fake.Close)
	fake.SetLatency(latency)
	fake.AddChannel("C0OPS", "sales-ops")
	fake.AddUser(slackfake.User{ID: "U0MARIA", Name: "maria", RealName: "Maria Manager", Email: "maria@example.com", TZ: "UTC"})
	var reps []string
	dmOf := map[string]string{}
	for i := 1; i <= crashReps; i++ {
		id := fmt.Sprintf("U0REP%02d", i)
		email := fmt.Sprintf("rep%02d@example.com", i)
		fake.AddUser(slackfake.User{ID: id, Name: fmt.Sprintf("rep%02d", i), RealName: fmt.Sprintf("Rep %02d", i), Email: email, TZ: "UTC"})
		reps = append(reps, email)
		dmOf[fake.DMChannel(id)] = id
	}
	dir := tb.TempDir()
	policy := filepath.Join(dir, "slabot.yaml")
	if err := os.WriteFile(policy, []byte(`timezone: UTC
teams:
  - name: sdr
    manager: maria@example.com
    escalation_channel: "#sales-ops"
    reps: [`+strings.Join(reps, ", ")+`]
rules:
  - name: default
    first_touch: 4h
    on_breach: [notify_manager]
`), 0o600); err != nil {
		tb.Fatal(err)
	}
	dbURL := storagetest.NewDatabase(tb)
	httpAddr, metricsAddr := crashFreeAddr(tb), crashFreeAddr(tb)
	env := append(os.Environ(), "DATABASE_URL="+dbURL, "SLACK_BOT_TOKEN="+slackfake.BotToken,
		"SLACK_APP_TOKEN="+slackfake.AppToken, "SLACK_API_URL="+fake.APIURL(), "SLABOT_POLICY_FILE="+policy,
		"SLABOT_INTAKE_TOKEN="+crashIntakeToken, "SLABOT_HTTP_ADDR="+httpAddr, "SLABOT_METRICS_ADDR="+metricsAddr,
		"SLABOT_LOG_LEVEL=warn")
	logPath := filepath.Join(dir, "slabot.log")
	exited := map[*exec.Cmd]chan struct{}{}
	start := func() *exec.Cmd {
		logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			tb.Fatal(err)
		}
		c := cmd()
		c.Env = append(c.Env, env...)
		c.Stdout, c.Stderr = logFile, logFile
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			tb.Fatal(err)
		}
		done := make(chan struct{})
		exited[c] = done
		go func() { _ = c.Wait(); logFile.Close(); close(done) }()
		return c
	}
	fail := func(format string, args ...any) {
		tb.Helper()
		log, _ := os.ReadFile(logPath)
		tb.Fatalf(format+"\nslabot's log:\n%s", append(args, lastLines(string(log), 30))...)
	}
	base := "http://" + httpAddr

	first := start()
	if err := crashWaitReady(ctx, base, exited[first]); err != nil {
		fail("the first process: %v", err)
	}
	leads := crashHandOffs(ctx, tb, base, n)

	cardsOf := func() (map[int64]int, time.Time) {
		counts := map[int64]int{}
		var last time.Time
		for _, m := range fake.AllMessages() {
			if _, dm := dmOf[m.Channel]; !dm || m.Metadata == nil || m.Metadata.EventType != "slabot_lead_card" {
				continue
			}
			id, _ := strconv.ParseInt(fmt.Sprint(m.Metadata.EventPayload["lead_id"]), 10, 64)
			counts[id]++
			if m.PostedAt.After(last) {
				last = m.PostedAt
			}
		}
		return counts, last
	}
	// Mid-burst: a quarter of the cards are out.
	for counts, _ := cardsOf(); len(counts) < n/4; counts, _ = cardsOf() {
		if ctx.Err() != nil {
			fail("the cards did not start arriving")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := first.Process.Kill(); err != nil {
		tb.Fatal(err)
	}
	<-exited[first]
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer pool.Close()
	var run crashRun
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'running'`).Scan(&run.heldAtKill); err != nil {
		tb.Fatal(err)
	}

	restarted := time.Now()
	second := start()
	defer func() {
		_ = second.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited[second]:
		case <-time.After(20 * time.Second):
			_ = second.Process.Kill()
		}
	}()
	for {
		counts, last := cardsOf()
		if len(counts) == len(leads) {
			run.cards, run.restartToLastCard = counts, last.Sub(restarted)
			break
		}
		if ctx.Err() != nil {
			fail("%d of %d cards arrived", len(counts), len(leads))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A job the dead process held may have posted its card before it died:
	// its card is out, and the job is run again later. Wait until nothing
	// is left running, so a resend that would double a card shows.
	for {
		var running int
		err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'running'),
				count(*) FILTER (WHERE errors::text LIKE '%worker running this job died%')
			FROM river_job`).Scan(&running, &run.rescued)
		if err != nil {
			fail("%v", err)
		}
		if running == 0 {
			break
		}
		if ctx.Err() != nil {
			fail("%d jobs still running, %d rescued", running, run.rescued)
		}
		time.Sleep(50 * time.Millisecond)
	}
	run.cards, _ = cardsOf()
	for _, id := range leads {
		if _, ok := run.cards[id]; !ok {
			run.cards[id] = 0
		}
	}
	return run
}

// TestAKilledProcessesJobsAreDeliveredOnceAfterARestart kills `slabot run`
// with SIGKILL while it is sending a burst of cards, holding jobs, and
// starts it again: the jobs the dead process held are run again (not left
// for River's rescuer) and every lead's card arrives exactly once. How
// long that takes is BenchmarkCrashRecovery's to measure.
func TestAKilledProcessesJobsAreDeliveredOnceAfterARestart(t *testing.T) {
	t.Parallel()
	run := runCrash(t, 60, 200*time.Millisecond, func() *exec.Cmd {
		c := exec.Command(os.Args[0], "run")
		c.Env = []string{"SLABOT_TEST_SUBPROCESS=1"}
		return c
	})
	if run.heldAtKill == 0 {
		t.Fatal("the killed process held no job: the test did not test a crash")
	}
	if run.rescued == 0 {
		t.Errorf("%d jobs were held at the kill and none was rescued", run.heldAtKill)
	}
	for id, n := range run.cards {
		if n != 1 {
			t.Errorf("lead %d got %d cards, want 1", id, n)
		}
	}
	t.Logf("%d jobs held at the kill, %d rescued; last card %v after the restart", run.heldAtKill, run.rescued, run.restartToLastCard)
}

// BenchmarkCrashRecovery builds slabot, runs it against the Slack fake
// (100 ms per Web API call) and PostgreSQL, posts 60 hand-offs, kills it
// with SIGKILL once a quarter of the cards are out, starts it again and
// reports the time from the restart to the last card (the goal: under
// 30 s), checking that each lead got exactly one card.
func BenchmarkCrashRecovery(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "slabot")
	build := exec.Command(soakGoTool(), "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	var total time.Duration
	held, rescued := 0, 0
	for b.Loop() {
		run := runCrash(b, 60, 100*time.Millisecond, func() *exec.Cmd { return exec.Command(bin, "run") })
		for id, n := range run.cards {
			if n != 1 {
				b.Fatalf("lead %d got %d cards, want 1", id, n)
			}
		}
		total += run.restartToLastCard
		held += run.heldAtKill
		rescued += run.rescued
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s_restart_to_last_card")
	b.ReportMetric(float64(held)/float64(b.N), "jobs_held_at_kill")
	b.ReportMetric(float64(rescued)/float64(b.N), "jobs_rescued")
}

// soakGoTool is the go command (GO overrides it, as in the Makefile).
func soakGoTool() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

func crashFreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// crashWaitReady waits for /readyz: migrated, and connected to Slack.
func crashWaitReady(ctx context.Context, base string, exited <-chan struct{}) error {
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %v", err)
		case <-exited:
			return fmt.Errorf("slabot run exited before it was ready")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// crashHandOffs posts n hand-offs from eight senders and returns the
// leads' ids.
func crashHandOffs(ctx context.Context, tb testing.TB, base string, n int) []int64 {
	tb.Helper()
	var (
		mu    sync.Mutex
		ids   []int64
		errs  []string
		wg    sync.WaitGroup
		queue = make(chan int)
	)
	for range 8 {
		wg.Go(func() {
			for i := range queue {
				body := fmt.Sprintf(`{"external_id": "crash-%03d", "source": "web",
					"contact": {"name": "Lee %03d", "email": "lee-%03d@crash.test"}, "company": {"name": "Crash Co %03d"}}`, i, i, i, i)
				// A 503 asks the sender to send it again in a few seconds, as a
				// CRM does, for as long as the story allows (a CRM keeps trying
				// for hours); on a busy machine the database can be slow to
				// answer, and 8 hand-offs at once wait in turn for the team's
				// round-robin turn.
				var (
					res     *http.Response
					raw     []byte
					err     error
					attempt int
				)
				for attempt = 1; ; attempt++ {
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/handoffs", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+crashIntakeToken)
					req.Header.Set("Content-Type", "application/json")
					res, err = http.DefaultClient.Do(req)
					if err != nil {
						break
					}
					raw, _ = io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusServiceUnavailable || ctx.Err() != nil {
						break
					}
					time.Sleep(time.Second)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
					continue
				}
				var ans struct {
					ID     int64  `json:"id"`
					Status string `json:"status"`
				}
				// A hand-off sent again after a 503 may find the first try
				// stored after all (it was answered too late): the intake
				// answers 200 "repeated", with the same lead.
				created := res.StatusCode == http.StatusCreated ||
					attempt > 1 && res.StatusCode == http.StatusOK && json.Unmarshal(raw, &ans) == nil && ans.Status == "repeated"
				mu.Lock()
				if !created || json.Unmarshal(raw, &ans) != nil || ans.ID == 0 {
					errs = append(errs, fmt.Sprintf("%d %s", res.StatusCode, raw))
				} else {
					ids = append(ids, ans.ID)
				}
				mu.Unlock()
			}
		})
	}
	for i := range n {
		queue <- i
	}
	close(queue)
	wg.Wait()
	if len(errs) > 0 {
		tb.Fatalf("hand-offs refused: %v", errs)
	}
	return ids
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
