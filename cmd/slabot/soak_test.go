//go:build soak

package main

// The soak: two real `slabot run` processes against one throwaway PostgreSQL
// and the Slack fake, fed 2,000 hand-offs through the intake API and 2,000
// clicks on the cards, while replicas are killed with SIGKILL and started
// again, PostgreSQL is restarted, Socket Mode connections drop and 30% of
// Web API calls fail (429 or 500). Once the faults stop and the queue is
// quiet it checks that no accepted hand-off was lost or doubled and that no
// job is stuck, and prints the figures.
//
//	go test -tags soak -run TestSoak -count=1 -timeout 30m -v ./cmd/slabot/
//
// Knobs (environment): SOAK_HANDOFFS (2000), SOAK_CLICKS (2000), SOAK_REPS
// (20), SOAK_LOAD (4m: the window over which hand-offs and clicks are paced
// and faults strike), SOAK_KILLS (3), SOAK_DB_RESTARTS (2), SOAK_SOCKET_DROPS
// (6), SOAK_FAULT_RATIO (0.30), SOAK_SEED (random; printed so a run can be
// repeated), SOAK_KEEP=1 keeps the replicas' logs even when it passes.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/storage/pgtemp"
)

const (
	soakIntakeToken = "soak-intake-secret-0123456789abcdef"
	soakCardType    = "slabot_lead_card"
	// soakUnrecorded is logged when a replica could not record a click and
	// told the person to try again.
	soakUnrecorded = "could not record a click or command in time"
)

type soakConfig struct {
	handOffs, clicks, reps          int
	load                            time.Duration
	kills, dbRestarts, socketDrops  int
	faultRatio                      float64
	seed                            int64
	keepLogs                        bool
	quietLimit                      time.Duration
	killDownMin, killDownMax        time.Duration
	dbDownMin, dbDownMax            time.Duration
	rateLimitShare, serverErrorRate float64
}

func soakConfigFromEnv(t *testing.T) soakConfig {
	c := soakConfig{handOffs: 2000, clicks: 2000, reps: 20, load: 4 * time.Minute,
		kills: 3, dbRestarts: 2, socketDrops: 6, faultRatio: 0.30, seed: time.Now().UnixNano() % 1_000_000,
		quietLimit: 10 * time.Minute, killDownMin: 2 * time.Second, killDownMax: 8 * time.Second,
		dbDownMin: 5 * time.Second, dbDownMax: 15 * time.Second}
	envInt := func(name string, p *int) {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				t.Fatalf("%s=%q is not a count", name, v)
			}
			*p = n
		}
	}
	envInt("SOAK_HANDOFFS", &c.handOffs)
	envInt("SOAK_CLICKS", &c.clicks)
	envInt("SOAK_REPS", &c.reps)
	envInt("SOAK_KILLS", &c.kills)
	envInt("SOAK_DB_RESTARTS", &c.dbRestarts)
	envInt("SOAK_SOCKET_DROPS", &c.socketDrops)
	if v := os.Getenv("SOAK_LOAD"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 30*time.Second {
			t.Fatalf("SOAK_LOAD=%q: want a duration of at least 30s", v)
		}
		c.load = d
	}
	if v := os.Getenv("SOAK_FAULT_RATIO"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f >= 1 {
			t.Fatalf("SOAK_FAULT_RATIO=%q: want a share in [0, 1)", v)
		}
		c.faultRatio = f
	}
	if v := os.Getenv("SOAK_SEED"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("SOAK_SEED=%q is not a number", v)
		}
		c.seed = n
	}
	c.keepLogs = os.Getenv("SOAK_KEEP") != ""
	if c.reps < 1 {
		c.reps = 1
	}
	// Half the failing calls are 429s (Retry-After: 1), half 500s. The 500s
	// are drawn from the calls that escaped a 429.
	c.rateLimitShare = c.faultRatio / 2
	if c.rateLimitShare < 1 {
		c.serverErrorRate = (c.faultRatio / 2) / (1 - c.rateLimitShare)
	}
	return c
}

const soakPolicyHead = `timezone: UTC
report: {channel: "#smarketing", schedule: "0 9 * * MON"}
teams:
  - name: sales
    manager: manager@example.com
    escalation_channel: "#sales-ops"
    reps: [%s]
rules:
  - name: default
    first_touch: 8h
    touches: {count: 3, within: 7d}
    remind_before: [1h]
    on_breach: [notify_manager]
`

// soakHandOff is one hand-off as the CRM saw it.
type soakHandOff struct {
	externalID string
	leadID     int64
	status     int // the answer that accepted it: 201 or 200
	attempts   int
	acceptedAt time.Time
}

// soakCard is a hand-off card found in a DM.
type soakCard struct {
	leadID   string
	channel  string
	ts       string
	user     string // the DM's person
	postedAt time.Time
}

// soakChaos is one fault the soak caused.
type soakChaos struct {
	at   time.Duration // since the load started
	what string
}

func TestSoak(t *testing.T) {
	cfg := soakConfigFromEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 28*time.Minute)
	defer cancel()
	rng := rand.New(rand.NewSource(cfg.seed))
	t.Logf("soak: %d hand-offs, %d clicks, %d reps, load window %v, %d kills, %d database restarts, %d socket drops, %.0f%% Web API faults, seed %d",
		cfg.handOffs, cfg.clicks, cfg.reps, cfg.load, cfg.kills, cfg.dbRestarts, cfg.socketDrops, cfg.faultRatio*100, cfg.seed)

	workDir, err := os.MkdirTemp("", "slabot-soak.")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || cfg.keepLogs {
			t.Logf("soak: replica logs kept in %s", workDir)
			return
		}
		os.RemoveAll(workDir)
	})

	// The binary, built as a user would.
	bin := filepath.Join(workDir, "slabot")
	build := exec.CommandContext(ctx, soakGo(), "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	pg, err := pgtemp.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Stop() })

	fake := slackfake.New()
	t.Cleanup(fake.Close)
	fake.AddChannel("C0OPS", "sales-ops")
	fake.AddChannel("C0SMK", "smarketing")
	fake.AddUser(slackfake.User{ID: "U0MANAGER", Name: "manager", RealName: "Mona Manager", Email: "manager@example.com", TZ: "UTC"})
	userByEmail := map[string]string{}
	var repEmails []string
	for i := 1; i <= cfg.reps; i++ {
		email := fmt.Sprintf("rep%02d@example.com", i)
		id := fmt.Sprintf("U0REP%04d", i)
		fake.AddUser(slackfake.User{ID: id, Name: fmt.Sprintf("rep%02d", i), RealName: fmt.Sprintf("Rep %02d", i), Email: email, TZ: "UTC"})
		userByEmail[email] = id
		repEmails = append(repEmails, email)
	}
	userByDM := map[string]string{}
	for _, id := range userByEmail {
		userByDM[fake.DMChannel(id)] = id
	}
	policyFile := filepath.Join(workDir, "slabot.yaml")
	if err := os.WriteFile(policyFile, []byte(fmt.Sprintf(soakPolicyHead, strings.Join(repEmails, ", "))), 0o600); err != nil {
		t.Fatal(err)
	}

	env := append(os.Environ(),
		"DATABASE_URL="+pg.URL,
		"SLACK_BOT_TOKEN="+slackfake.BotToken,
		"SLACK_APP_TOKEN="+slackfake.AppToken,
		"SLACK_API_URL="+fake.APIURL(),
		"SLABOT_POLICY_FILE="+policyFile,
		"SLABOT_INTAKE_TOKEN="+soakIntakeToken,
		"SLABOT_LOG_LEVEL=info",
	)
	var replicas []*soakReplica
	for _, name := range []string{"replica-a", "replica-b"} {
		r, err := newSoakReplica(name, bin, workDir, env)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.start(); err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, r)
	}
	t.Cleanup(func() {
		for _, r := range replicas {
			if err := r.stop(15 * time.Second); err != nil {
				t.Errorf("stopping %s: %v", r.name, err)
			}
		}
	})
	for _, r := range replicas {
		if err := r.waitReady(ctx, 2*time.Minute); err != nil {
			t.Fatalf("%v\n%s", err, soakTail(r.logPath, 40))
		}
	}
	if err := fake.WaitForConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	// A replica that dies by itself is a failure of the product; start it
	// again so that the soak can go on, and report it.
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go func() {
		for {
			select {
			case <-watchCtx.Done():
				return
			case <-time.After(time.Second):
			}
			for _, r := range replicas {
				if restarted, err := r.restartIfDied(); restarted {
					t.Logf("soak: %s had exited by itself; started again (%v)", r.name, err)
				}
			}
		}
	}()

	// ---------------------------------------------------------------- load
	fake.InjectRateLimitRatio(cfg.rateLimitShare, time.Second, cfg.seed)
	fake.InjectServerErrorRatio(cfg.serverErrorRate, http.StatusInternalServerError, cfg.seed+1)
	loadStart := time.Now()
	since := func() time.Duration { return time.Since(loadStart).Truncate(100 * time.Millisecond) }

	var (
		chaosMu sync.Mutex
		chaos   []soakChaos
	)
	note := func(format string, args ...any) {
		c := soakChaos{at: since(), what: fmt.Sprintf(format, args...)}
		chaosMu.Lock()
		chaos = append(chaos, c)
		chaosMu.Unlock()
		t.Logf("soak: %6.1fs %s", c.at.Seconds(), c.what)
	}

	// Cards, as they appear in the DMs.
	tracker := newSoakTracker(fake, userByDM)
	trackCtx, stopTracking := context.WithCancel(ctx)
	defer stopTracking()
	go tracker.run(trackCtx)

	// Hand-offs: paced over the load window, each retried until accepted.
	intake := newSoakIntake(replicas)
	handOffsDone := make(chan struct{})
	go func() {
		defer close(handOffsDone)
		intake.run(ctx, cfg.handOffs, cfg.load)
	}()

	// Clicks: paced over the load window, each on a card that arrived.
	clicker := newSoakClicker(fake, tracker, rand.New(rand.NewSource(cfg.seed+2)))
	clicksDone := make(chan struct{})
	go func() {
		defer close(clicksDone)
		clicker.run(ctx, cfg.clicks, cfg.load)
	}()

	// Faults at random moments of the load window, one at a time.
	type event struct {
		at   time.Duration
		kind string
	}
	var events []event
	for range cfg.kills {
		events = append(events, event{kind: "kill"})
	}
	for range cfg.dbRestarts {
		events = append(events, event{kind: "db"})
	}
	for range cfg.socketDrops {
		events = append(events, event{kind: "drop"})
	}
	// In random order, each at a random moment of its own slot of the
	// window (15 s in, 30 s before its end), so that they do not bunch.
	rng.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	if len(events) > 0 {
		slot := (cfg.load - 45*time.Second) / time.Duration(len(events))
		for i := range events {
			events[i].at = 15*time.Second + time.Duration(i)*slot + time.Duration(rng.Int63n(int64(slot*2/3)+1))
		}
	}
	var (
		lastKillMu sync.Mutex
		lastKill   time.Time
		chaosErrs  []string
		// killedMidJob counts the jobs running in replicas at the moment
		// they were killed.
		killedMidJob atomic.Int64
	)
	chaosDone := make(chan struct{})
	go func() {
		defer close(chaosDone)
		for _, ev := range events {
			if wait := time.Until(loadStart.Add(ev.at)); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
			switch ev.kind {
			case "kill":
				r := replicas[rng.Intn(len(replicas))]
				down := cfg.killDownMin + time.Duration(rng.Int63n(int64(cfg.killDownMax-cfg.killDownMin)))
				// Kill it in the middle of work when it has some: wait a few
				// seconds for a job of its own to be running.
				inHand := 0
				for try := 0; try < 250 && ctx.Err() == nil; try++ {
					qctx, qcancel := context.WithTimeout(ctx, 2*time.Second)
					err := pool.QueryRow(qctx, `SELECT count(*) FROM river_job
						WHERE state = 'running' AND attempted_by[cardinality(attempted_by)] = $1`, r.clientID()).Scan(&inHand)
					qcancel()
					if err != nil || inHand > 0 {
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
				killedMidJob.Add(int64(inHand))
				note("kill -9 %s with %d jobs running (down for %v)", r.name, inHand, down.Truncate(100*time.Millisecond))
				if err := r.kill(); err != nil {
					chaosErrs = append(chaosErrs, err.Error())
				}
				lastKillMu.Lock()
				lastKill = time.Now()
				lastKillMu.Unlock()
				time.Sleep(down)
				if err := r.start(); err != nil {
					chaosErrs = append(chaosErrs, err.Error())
					continue
				}
				if err := r.waitReady(ctx, 2*time.Minute); err != nil {
					chaosErrs = append(chaosErrs, err.Error())
				}
				note("%s started again and ready", r.name)
			case "db":
				down := cfg.dbDownMin + time.Duration(rng.Int63n(int64(cfg.dbDownMax-cfg.dbDownMin)))
				note("PostgreSQL stopped (pg_ctl stop -m fast) for %v", down.Truncate(100*time.Millisecond))
				if err := pg.Pause(ctx); err != nil {
					chaosErrs = append(chaosErrs, err.Error())
					continue
				}
				time.Sleep(down)
				if err := pg.Resume(ctx); err != nil {
					chaosErrs = append(chaosErrs, err.Error())
				}
				note("PostgreSQL started again")
			case "drop":
				if rng.Intn(2) == 0 {
					note("Socket Mode: %d connections dropped (network failure)", fake.DropConnections())
				} else {
					note("Socket Mode: %d connections told to disconnect (refresh_requested)", fake.Disconnect("refresh_requested"))
				}
			}
		}
	}()

	<-handOffsDone
	note("all %d hand-offs answered (%d accepted)", cfg.handOffs, intake.accepted())
	<-clicksDone
	note("all %d clicks sent", clicker.sent.Load())
	<-chaosDone
	fake.ClearFaults()
	faultsStopped := time.Now()
	note("faults stopped; waiting for quiet")
	loadTook := time.Since(loadStart)

	for _, r := range replicas {
		if err := r.waitReady(ctx, 2*time.Minute); err != nil {
			t.Errorf("after the faults: %v", err)
		}
	}

	// ---------------------------------------------------------------- quiet
	var (
		final      soakCheck
		quietCount int
		lastLog    time.Time
	)
	lastKillMu.Lock()
	rescueBy := lastKill.Add(2*time.Minute + 35*time.Second) // RescueAfter + River's rescuer interval
	lastKillMu.Unlock()
	for {
		final = soakInspect(ctx, pool, fake, intake, userByEmail)
		quiet := final.err == nil && final.running == 0 && final.due == 0 && len(final.lost) == 0 && fake.Connections() >= 2
		if quiet {
			quietCount++
		} else {
			quietCount = 0
		}
		if quietCount >= 2 {
			break
		}
		if time.Since(faultsStopped) > cfg.quietLimit && time.Now().After(rescueBy) {
			t.Errorf("not quiet %v after the faults stopped", cfg.quietLimit)
			break
		}
		if time.Since(lastLog) > 20*time.Second {
			lastLog = time.Now()
			t.Logf("soak: waiting for quiet (%v): running %d, due %d, cards missing %d, Socket Mode connections %d, err %v",
				time.Since(faultsStopped).Truncate(time.Second), final.running, final.due, len(final.lost), fake.Connections(), final.err)
		}
		select {
		case <-ctx.Done():
			t.Fatal("soak ran out of time while waiting for quiet")
		case <-time.After(3 * time.Second):
		}
	}
	quietAfter := time.Since(faultsStopped)
	stopWatch()
	stopTracking()

	// ---------------------------------------------------------------- figures
	var unexpected []string
	for _, r := range replicas {
		unexpected = append(unexpected, r.unexpectedExits()...)
	}
	logs := soakReadLogs(replicas)
	calls := fake.Calls("")
	var calls429, calls5xx, posts int
	for _, c := range calls {
		switch {
		case c.Status == http.StatusTooManyRequests:
			calls429++
		case c.Status >= 500:
			calls5xx++
		case c.Method == "chat.postMessage" && c.Error == "":
			posts++
		}
	}
	told := 0
	for _, m := range fake.AllMessages() {
		if m.Ephemeral && strings.Contains(m.Text, "could not confirm it recorded that") {
			told++
		}
	}
	cardDelay := final.cardDelays(intake)
	clickAck := clicker.ackLatencies()
	intakeLat := intake.latencies()

	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(w, "  %s\t%v\n", k, v) }
	fmt.Fprintf(&b, "\n==== slabot soak: %d hand-offs, %d clicks, 2 replicas, seed %d ====\n", cfg.handOffs, cfg.clicks, cfg.seed)
	row("load window (hand-offs and clicks paced, faults)", loadTook.Truncate(time.Second))
	row("quiet after faults stopped", quietAfter.Truncate(time.Second))
	row("reps (round robin)", cfg.reps)
	fmt.Fprintln(w, "  faults\t")
	row("  kill -9 of a replica / jobs it was running", fmt.Sprintf("%d / %d", soakCountChaos(chaos, "kill -9"), killedMidJob.Load()))
	row("  PostgreSQL restarts", soakCountChaos(chaos, "PostgreSQL stopped"))
	row("  Socket Mode drops", soakCountChaos(chaos, "Socket Mode:"))
	row("  Web API calls / answered 429 / answered 500", fmt.Sprintf("%d / %d (%.1f%%) / %d (%.1f%%)", len(calls), calls429,
		soakPct(calls429, len(calls)), calls5xx, soakPct(calls5xx, len(calls))))
	row("  replicas that exited by themselves", len(unexpected))
	fmt.Fprintln(w, "  hand-offs\t")
	row("  sent", cfg.handOffs)
	row("  accepted (201 / 200 repeat)", fmt.Sprintf("%d (%d / %d)", intake.accepted(), intake.byStatus(201), intake.byStatus(200)))
	row("  requests answered 503 (retried)", intake.n503.Load())
	row("  requests without an answer (retried)", intake.connErrs.Load())
	row("  requests answered otherwise", intake.otherCodes())
	row("  intake latency p50 / p99 (accepted requests)", soakPercentiles(intakeLat, 0.5, 0.99))
	row("  lost (accepted, no card in the owner's DM)", len(final.lost))
	row("  cards doubled (a lead with more than one card)", len(final.doubled))
	row("  cards in DMs", final.cards)
	row("  card retries posted without the history check (read failed)", logs.uncheckedPosts)
	row("  accepted → card p50 / p90 / p99 / max", soakPercentiles(cardDelay, 0.5, 0.9, 0.99, 1))
	fmt.Fprintln(w, "  clicks\t")
	row("  sent (Acknowledge / Log touch)", fmt.Sprintf("%d (%d / %d)", clicker.sent.Load(), clicker.ackSent.Load(), clicker.touchSent.Load()))
	row("  acknowledged by a replica within 3 s", clicker.acked.Load())
	row("  not acknowledged (envelope lost with a connection)", clicker.notAcked.Load())
	row("  ack latency p50 / p99 / max", soakPercentiles(clickAck, 0.5, 0.99, 1))
	row("  not recorded while the database was away (replica logs)", logs.unrecorded)
	row("    of which the person was told to try again (ephemeral in Slack)", told)
	row("  leads acknowledged / Acknowledge clicks answered", fmt.Sprintf("%d / %d", final.ackedOf(clicker.ackedLeads()), len(clicker.ackedLeads())))
	row("  touches recorded / Log touch clicks answered", fmt.Sprintf("%d / %d", final.slackTouches, clicker.touchAcked.Load()))
	fmt.Fprintln(w, "  jobs (river_job)\t")
	row("  running", final.running)
	row("  available or retryable and due", final.due)
	row("  discarded", final.states["discarded"])
	row("  by state", final.stateLine())
	row("  attempts that failed (logged by the replicas)", logs.jobFailed)
	row("  rescued from a dead or stuck worker (re-run) / discarded by the rescuer", fmt.Sprintf("%d / %d", logs.rescued, logs.rescuedDiscarded))
	row("  batches River could not mark finished (database away)", logs.completerGaveUp)
	fmt.Fprintln(w, "  logs\t")
	row("  ERROR lines", logs.errorLine())
	w.Flush()
	fmt.Fprintln(&b, "  faults in order:")
	for _, c := range chaos {
		fmt.Fprintf(&b, "    %6.1fs  %s\n", c.at.Seconds(), c.what)
	}
	fmt.Print(b.String())

	// ---------------------------------------------------------------- verdict
	for _, e := range chaosErrs {
		t.Errorf("a fault could not be caused or undone: %s", e)
	}
	for _, u := range unexpected {
		t.Errorf("%s", u)
	}
	if final.err != nil {
		t.Errorf("inspecting the database: %v", final.err)
	}
	if got := intake.accepted(); got != cfg.handOffs {
		t.Errorf("%d of %d hand-offs were accepted in the end", got, cfg.handOffs)
	}
	if n := len(final.lost); n > 0 {
		t.Errorf("%d accepted hand-offs have no card in their owner's DM, e.g. %v", n, final.lost[:min(n, 10)])
	}
	if n := len(final.doubled); n > 0 {
		t.Errorf("%d leads have more than one hand-off card, e.g. %v", n, final.doubled[:min(n, 10)])
	}
	if got := int(clicker.sent.Load()); got != cfg.clicks {
		t.Errorf("%d of %d clicks were sent", got, cfg.clicks)
	}
	if final.running != 0 || final.due != 0 {
		t.Errorf("jobs left over once quiet: %d running, %d due and not run", final.running, final.due)
	}
	if n := final.states["discarded"]; n != 0 {
		t.Errorf("%d jobs were discarded (given up after their last attempt)", n)
	}
	// A click a replica answered is recorded, unless the person was told it
	// was not (the database was away).
	missedAcks := len(clicker.ackedLeads()) - final.ackedOf(clicker.ackedLeads())
	missedTouches := int(clicker.touchAcked.Load()) - final.slackTouches
	if missed := max(missedAcks, 0) + max(missedTouches, 0); missed > logs.unrecorded {
		t.Errorf("%d answered clicks left no trace (%d Acknowledge, %d Log touch) but only %d people were told to try again",
			missed, missedAcks, missedTouches, logs.unrecorded)
	}
	if t.Failed() {
		for _, r := range replicas {
			t.Logf("last lines of %s:\n%s", r.name, soakTail(r.logPath, 30))
		}
	}
}

func soakGo() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

// ------------------------------------------------------------------ intake

type soakIntake struct {
	replicas []*soakReplica
	client   *http.Client

	mu       sync.Mutex
	handOffs map[string]*soakHandOff
	lat      []time.Duration
	other    map[int]int
	n503     atomic.Int64
	connErrs atomic.Int64
}

func newSoakIntake(replicas []*soakReplica) *soakIntake {
	return &soakIntake{replicas: replicas, client: &http.Client{Timeout: 15 * time.Second},
		handOffs: map[string]*soakHandOff{}, other: map[int]int{}}
}

// run sends n hand-offs paced evenly over window, from several senders, each
// hand-off retried as a CRM would until it is accepted.
func (in *soakIntake) run(ctx context.Context, n int, window time.Duration) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range next {
				in.handOff(ctx, i)
			}
		})
	}
	interval := window / time.Duration(max(n, 1))
	start := time.Now()
	for i := range n {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		select {
		case next <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
}

func (in *soakIntake) handOff(ctx context.Context, i int) {
	id := fmt.Sprintf("soak-%05d", i)
	body := fmt.Sprintf(`{"external_id": %q, "source": "web", "segment": "smb", "score": %d,
		"contact": {"name": "Lee %05d", "email": "lee-%05d@soak.test", "title": "Head of Ops"},
		"company": {"name": "Soak Co %05d", "employees": %d, "country": "US"},
		"context": {"form": {"Budget": "$%dk"}, "activity": {"visits": %d, "pages": ["/pricing"]}}}`,
		id, 50+i%50, i, i, i, 10+i%500, 5+i%50, 1+i%9)
	giveUp := time.Now().Add(5 * time.Minute)
	for attempt := 1; ctx.Err() == nil && time.Now().Before(giveUp); attempt++ {
		r := in.replicas[(i+attempt)%len(in.replicas)]
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.baseURL()+"/v1/handoffs", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+soakIntakeToken)
		req.Header.Set("Content-Type", "application/json")
		started := time.Now()
		res, err := in.client.Do(req)
		wait := 500 * time.Millisecond
		if err != nil {
			in.connErrs.Add(1)
		} else {
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			switch res.StatusCode {
			case http.StatusCreated, http.StatusOK:
				var ans struct {
					ID int64 `json:"id"`
				}
				_ = json.Unmarshal(raw, &ans)
				in.mu.Lock()
				in.handOffs[id] = &soakHandOff{externalID: id, leadID: ans.ID, status: res.StatusCode,
					attempts: attempt, acceptedAt: time.Now()}
				in.lat = append(in.lat, time.Since(started))
				in.mu.Unlock()
				return
			case http.StatusServiceUnavailable:
				in.n503.Add(1)
				wait = time.Second
				if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
					wait = time.Duration(s) * time.Second
				}
			default:
				in.mu.Lock()
				in.other[res.StatusCode]++
				in.mu.Unlock()
				wait = time.Second
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

func (in *soakIntake) accepted() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.handOffs)
}

func (in *soakIntake) byStatus(code int) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for _, h := range in.handOffs {
		if h.status == code {
			n++
		}
	}
	return n
}

func (in *soakIntake) otherCodes() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.other) == 0 {
		return "0"
	}
	var parts []string
	for code, n := range in.other {
		parts = append(parts, fmt.Sprintf("%d×%d", n, code))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func (in *soakIntake) latencies() []time.Duration {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.lat)
}

func (in *soakIntake) snapshot() map[string]soakHandOff {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[string]soakHandOff, len(in.handOffs))
	for k, v := range in.handOffs {
		out[k] = *v
	}
	return out
}

// ------------------------------------------------------------------ cards

// soakTracker follows the hand-off cards in the DMs.
type soakTracker struct {
	fake     *slackfake.Server
	userByDM map[string]string

	mu    sync.Mutex
	seen  map[string]bool // channel/ts
	fresh []soakCard      // not clicked yet
	all   []soakCard
}

func newSoakTracker(fake *slackfake.Server, userByDM map[string]string) *soakTracker {
	return &soakTracker{fake: fake, userByDM: userByDM, seen: map[string]bool{}}
}

func (tr *soakTracker) run(ctx context.Context) {
	for {
		tr.scan()
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (tr *soakTracker) scan() {
	for _, c := range soakCards(tr.fake.AllMessages(), tr.userByDM) {
		key := c.channel + "/" + c.ts
		tr.mu.Lock()
		if !tr.seen[key] {
			tr.seen[key] = true
			tr.fresh = append(tr.fresh, c)
			tr.all = append(tr.all, c)
		}
		tr.mu.Unlock()
	}
}

// next returns a card not clicked yet (to acknowledge), else any card (to
// log a touch on), else false.
func (tr *soakTracker) next(rng *rand.Rand) (soakCard, bool, bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.fresh) > 0 {
		c := tr.fresh[0]
		tr.fresh = tr.fresh[1:]
		return c, true, true
	}
	if len(tr.all) > 0 {
		return tr.all[rng.Intn(len(tr.all))], false, true
	}
	return soakCard{}, false, false
}

// soakCards lists the hand-off cards among messages, in any DM.
func soakCards(msgs []slackfake.Message, userByDM map[string]string) []soakCard {
	var out []soakCard
	for _, m := range msgs {
		if m.Deleted || m.Ephemeral || m.Metadata == nil || m.Metadata.EventType != soakCardType {
			continue
		}
		out = append(out, soakCard{leadID: fmt.Sprint(m.Metadata.EventPayload["lead_id"]), channel: m.Channel,
			ts: m.TS, user: userByDM[m.Channel], postedAt: m.PostedAt})
	}
	return out
}

// ------------------------------------------------------------------ clicks

type soakClicker struct {
	fake    *slackfake.Server
	tracker *soakTracker
	rngMu   sync.Mutex
	rng     *rand.Rand

	sent, ackSent, touchSent atomic.Int64
	acked, notAcked          atomic.Int64
	touchAcked               atomic.Int64

	mu     sync.Mutex
	lat    []time.Duration
	ackSet map[string]bool // leads whose Acknowledge click a replica answered
}

func newSoakClicker(fake *slackfake.Server, tracker *soakTracker, rng *rand.Rand) *soakClicker {
	return &soakClicker{fake: fake, tracker: tracker, rng: rng, ackSet: map[string]bool{}}
}

var soakTouchKinds = []string{"call", "email", "meeting", "linkedin", "other"}

// run sends n clicks paced over window from a few people at once; a click
// waits for a card to click on.
func (cl *soakClicker) run(ctx context.Context, n int, window time.Duration) {
	slots := make(chan struct{})
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for range slots {
				for ctx.Err() == nil && !cl.clickOnce(ctx) {
					select {
					case <-ctx.Done():
					case <-time.After(200 * time.Millisecond):
					}
				}
			}
		})
	}
	interval := window / time.Duration(max(n, 1))
	start := time.Now()
	for i := range n {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(slots)
	wg.Wait()
}

// clickOnce sends one click and reports whether it was sent.
func (cl *soakClicker) clickOnce(ctx context.Context) bool {
	cl.rngMu.Lock()
	card, fresh, ok := cl.tracker.next(cl.rng)
	kind := soakTouchKinds[cl.rng.Intn(len(soakTouchKinds))]
	cl.rngMu.Unlock()
	if !ok {
		return false
	}
	msg := slackfake.Message{Channel: card.channel, TS: card.ts}
	action, value := "lead.touch", kind
	if fresh {
		action, value = "lead.ack", ""
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	res, err := cl.fake.ClickButton(cctx, card.user, msg, action, value)
	if err != nil && action == "lead.ack" && strings.Contains(err.Error(), "no element with action_id") {
		// Acknowledged already (the card was redrawn): log a touch instead.
		action, value = "lead.touch", kind
		res, err = cl.fake.ClickButton(cctx, card.user, msg, action, value)
	}
	sent := err == nil || errors.Is(err, slackfake.ErrNotAcked) || errors.Is(err, slackfake.ErrNoConnection) ||
		errors.Is(err, context.DeadlineExceeded)
	if !sent {
		return false // the card could not be clicked; pick another
	}
	cl.sent.Add(1)
	if action == "lead.ack" {
		cl.ackSent.Add(1)
	} else {
		cl.touchSent.Add(1)
	}
	if err != nil || !res.Acked {
		cl.notAcked.Add(1)
		return true
	}
	cl.acked.Add(1)
	cl.mu.Lock()
	cl.lat = append(cl.lat, res.Ack.Latency)
	if action == "lead.ack" {
		cl.ackSet[card.leadID] = true
	}
	cl.mu.Unlock()
	if action == "lead.touch" {
		cl.touchAcked.Add(1)
	}
	return true
}

func (cl *soakClicker) ackLatencies() []time.Duration {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return slices.Clone(cl.lat)
}

func (cl *soakClicker) ackedLeads() []string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	out := make([]string, 0, len(cl.ackSet))
	for id := range cl.ackSet {
		out = append(out, id)
	}
	return out
}

// ------------------------------------------------------------------ checks

// soakCheck is the state of the database and the DMs at one moment.
type soakCheck struct {
	err          error
	states       map[string]int
	running, due int
	cards        int
	lost         []string // external ids
	doubled      []string // lead ids
	acked        map[string]bool
	slackTouches int
	cardsByLead  map[string][]soakCard
}

func soakInspect(ctx context.Context, pool *pgxpool.Pool, fake *slackfake.Server, intake *soakIntake, userByEmail map[string]string) soakCheck {
	c := soakCheck{states: map[string]int{}, acked: map[string]bool{}, cardsByLead: map[string][]soakCard{}}
	qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	rows, err := pool.Query(qctx, `SELECT state::text, count(*),
		count(*) FILTER (WHERE scheduled_at <= now()) FROM river_job GROUP BY state`)
	if err != nil {
		c.err = err
		return c
	}
	for rows.Next() {
		var state string
		var n, due int
		if err := rows.Scan(&state, &n, &due); err != nil {
			c.err = err
			rows.Close()
			return c
		}
		c.states[state] = n
		switch state {
		case "running":
			c.running = n
		case "available", "retryable":
			c.due += due
		}
	}
	rows.Close()
	if c.err = rows.Err(); c.err != nil {
		return c
	}
	owners := map[int64]string{}
	byExternal := map[string]int64{}
	rows, err = pool.Query(qctx, `SELECT id, external_id, owner_email, acknowledged_at IS NOT NULL FROM leads`)
	if err != nil {
		c.err = err
		return c
	}
	for rows.Next() {
		var id int64
		var ext, owner string
		var acked bool
		if err := rows.Scan(&id, &ext, &owner, &acked); err != nil {
			c.err = err
			rows.Close()
			return c
		}
		owners[id] = owner
		byExternal[ext] = id
		c.acked[strconv.FormatInt(id, 10)] = acked
	}
	rows.Close()
	if c.err = rows.Err(); c.err != nil {
		return c
	}
	if c.err = pool.QueryRow(qctx, `SELECT count(*) FROM touches WHERE origin = 'slack'`).Scan(&c.slackTouches); c.err != nil {
		return c
	}

	userByDM := map[string]string{}
	dmByUser := map[string]string{}
	for _, id := range userByEmail {
		dm := fake.DMChannel(id)
		userByDM[dm], dmByUser[id] = id, dm
	}
	for _, card := range soakCards(fake.AllMessages(), userByDM) {
		c.cards++
		c.cardsByLead[card.leadID] = append(c.cardsByLead[card.leadID], card)
	}
	for lead, cards := range c.cardsByLead {
		if len(cards) > 1 {
			c.doubled = append(c.doubled, lead)
		}
	}
	sort.Strings(c.doubled)
	for ext, h := range intake.snapshot() {
		id, ok := byExternal[ext]
		if !ok {
			c.lost = append(c.lost, ext+" (not in the database)")
			continue
		}
		if h.leadID != 0 && h.leadID != id {
			c.lost = append(c.lost, fmt.Sprintf("%s (answered id %d, stored %d)", ext, h.leadID, id))
			continue
		}
		dm := dmByUser[userByEmail[owners[id]]]
		found := false
		for _, card := range c.cardsByLead[strconv.FormatInt(id, 10)] {
			if dm != "" && card.channel == dm {
				found = true
			}
		}
		if !found {
			c.lost = append(c.lost, ext)
		}
	}
	sort.Strings(c.lost)
	return c
}

func (c soakCheck) ackedOf(leads []string) int {
	n := 0
	for _, id := range leads {
		if c.acked[id] {
			n++
		}
	}
	return n
}

func (c soakCheck) stateLine() string {
	var parts []string
	for s, n := range c.states {
		parts = append(parts, fmt.Sprintf("%s %d", s, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// cardDelays is, for each accepted hand-off, the time from the intake's
// answer to its first card.
func (c soakCheck) cardDelays(in *soakIntake) []time.Duration {
	var out []time.Duration
	for _, h := range in.snapshot() {
		cards := c.cardsByLead[strconv.FormatInt(h.leadID, 10)]
		if len(cards) == 0 {
			continue
		}
		out = append(out, max(cards[0].postedAt.Sub(h.acceptedAt), 0))
	}
	return out
}

// ------------------------------------------------------------------ logs

type soakLogs struct {
	unrecorded int
	jobFailed  int
	// uncheckedPosts: hand-off cards resent without the look in the DM's
	// history for an earlier copy, because reading the history failed.
	uncheckedPosts int
	// completerGaveUp: River could not record how a batch of jobs ended
	// (the database was away); those jobs stay running until rescued.
	completerGaveUp int
	// rescued: jobs River's rescuer took back from a dead or stuck worker.
	rescued, rescuedDiscarded int
	errors                    map[string]int // msg -> count of ERROR lines
}

var (
	soakMsgRe     = regexp.MustCompile(`msg="([^"]*)"|msg=(\S+)`)
	soakRescuedRe = regexp.MustCompile(`num_jobs_retry_scheduled=(\d+)`)
	soakDiscardRe = regexp.MustCompile(`num_jobs_discarded=(\d+)`)
)

func soakReadLogs(replicas []*soakReplica) soakLogs {
	l := soakLogs{errors: map[string]int{}}
	for _, r := range replicas {
		f, err := os.Open(r.logPath)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			switch {
			case bytes.Contains(line, []byte(soakUnrecorded)):
				l.unrecorded++
			case bytes.Contains(line, []byte(`msg="job failed"`)):
				l.jobFailed++
			case bytes.Contains(line, []byte("cannot read the DM to check for an earlier hand-off card")):
				l.uncheckedPosts++
			case bytes.Contains(line, []byte("jobcompleter.BatchCompleter: Too many errors; giving up")):
				l.completerGaveUp++
			case bytes.Contains(line, []byte("maintenance.JobRescuer: Ran successfully")):
				if m := soakRescuedRe.FindSubmatch(line); m != nil {
					n, _ := strconv.Atoi(string(m[1]))
					l.rescued += n
				}
				if m := soakDiscardRe.FindSubmatch(line); m != nil {
					n, _ := strconv.Atoi(string(m[1]))
					l.rescuedDiscarded += n
				}
			}
			if bytes.Contains(line, []byte("level=ERROR")) {
				msg := "?"
				if m := soakMsgRe.FindSubmatch(line); m != nil {
					msg = string(m[1]) + string(m[2])
				}
				l.errors[msg]++
			}
		}
		f.Close()
	}
	return l
}

func (l soakLogs) errorLine() string {
	if len(l.errors) == 0 {
		return "0"
	}
	var parts []string
	for msg, n := range l.errors {
		parts = append(parts, fmt.Sprintf("%d× %q", n, msg))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// soakTail returns the last n lines of a file.
func soakTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

// ------------------------------------------------------------------ helpers

func soakCountChaos(chaos []soakChaos, prefix string) int {
	n := 0
	for _, c := range chaos {
		if strings.HasPrefix(c.what, prefix) {
			n++
		}
	}
	return n
}

func soakPct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

// soakPercentiles formats the given quantiles (1 = the maximum).
func soakPercentiles(ds []time.Duration, qs ...float64) string {
	if len(ds) == 0 {
		return "–"
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	var parts []string
	for _, q := range qs {
		i := min(int(q*float64(len(sorted))), len(sorted)-1)
		parts = append(parts, soakDur(sorted[i]))
	}
	return strings.Join(parts, " / ")
}

func soakDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
}
