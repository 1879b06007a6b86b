package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/slabot/slabot/api"
	"github.com/slabot/slabot/bot"
	slackui "github.com/slabot/slabot/bot/slack"
	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: slabot run   (settings come from environment variables; see `slabot help`)")
		return 2
	}
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintln(stderr, "slabot:", err)
		return 2
	}
	if problems := cfg.problemsForRun(); len(problems) > 0 {
		fmt.Fprintln(stderr, "slabot run cannot start until these settings are fixed:")
		for _, p := range problems {
			fmt.Fprintln(stderr, "  -", p)
		}
		fmt.Fprintln(stderr, "Run `slabot help` for every setting and its default.")
		return 2
	}
	logger := newLogger(stderr, cfg.LogLevel)
	app, err := NewApp(ctx, cfg, logger)
	if err != nil {
		logger.Error("slabot could not start", "err", err)
		return 1
	}
	defer app.Close()
	if err := app.Run(ctx); err != nil {
		logger.Error("slabot stopped", "err", err)
		return 1
	}
	return 0
}

// chatApp is slabot on one chat platform: the bot's core with the
// platform's adapter around it.
type chatApp interface {
	// Handlers are the durable jobs of the bot and of the adapter.
	Handlers() []engine.JobHandler
	// Run receives what people do until ctx ends.
	Run(ctx context.Context) error
	// Ready reports whether the platform can be reached, for /readyz.
	Ready(ctx context.Context) error
	RunReportSchedule(ctx context.Context, opts bot.ScheduleOptions) error
	PostWeeklyReport(ctx context.Context, week engine.Period) error
}

// App is the running bot: the database, the policy, the listeners, the
// Slack connection and the job worker.
type App struct {
	Config  Config
	Logger  *slog.Logger
	DB      *storage.DB
	Policy  *engine.Policy
	Service *engine.Service
	Bot     chatApp
	// Worker runs the durable jobs, each queue apart, so people's clicks
	// never wait behind paced sends or timers.
	Worker  *storage.Worker
	HTTP    *http.Server
	Metrics *http.Server

	listener        net.Listener
	metricsListener net.Listener
	prepared        chan struct{} // closed once the database is migrated
	preparedOK      atomic.Bool
}

// NewApp loads the policy and opens the listeners and the (lazy) database
// pool. It does not wait for the database or start serving: Run does.
func NewApp(ctx context.Context, cfg Config, logger *slog.Logger) (*App, error) {
	policy, problems := engine.LoadPolicy(cfg.PolicyFile, time.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		return nil, fmt.Errorf("the policy file %s has problems (check it with `slabot policy check %s`):\n%w",
			cfg.PolicyFile, cfg.PolicyFile, errs)
	}
	for _, w := range problems {
		logger.Warn("policy file", "problem", w.String())
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	app := &App{Config: cfg, Logger: logger, DB: db, Policy: policy, prepared: make(chan struct{})}
	registry := api.NewRegistry()
	app.Service = engine.NewService(db, policy, time.Now, logger)
	var platform string
	var endpoint http.Handler
	app.Bot, platform, endpoint = newChatApp(cfg, db, app.Service, logger, registry)
	hostname, _ := os.Hostname()
	queue := storage.NewQueueMetrics(db, registry)
	handlers := append(app.Bot.Handlers(), app.Service.TimerHandlers(api.NewTimerMetrics(registry))...)
	crmJobs, err := crmHandlers(cfg, app.Service, db, logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	handlers = append(handlers, crmJobs...)
	app.Worker, err = db.NewWorker(handlers, storage.WorkerOptions{
		ID: fmt.Sprintf("%s-%d", hostname, os.Getpid()), Logger: logger, OnDone: queue.Observe, OnRescue: queue.Rescued,
		Now: app.Service.Now})
	if err != nil {
		db.Close()
		return nil, err
	}
	server := api.NewServer(logger, map[string]api.ReadyCheck{
		"database": app.databaseReady,
		platform:   app.Bot.Ready,
	})
	if endpoint != nil {
		// Teams sends its activity within the body limit and is answered
		// within 4 s (bot/teams); a held body is cut off, which also
		// keeps the Teams endpoint's shutdown from waiting on it.
		server.HandleWithin("POST /api/messages", publicLimits, endpoint)
	}
	server.SetLimits(publicLimits)
	intake := api.NewIntake(app.Service, cfg.IntakeToken, logger, registry)
	intake.Register(server)
	hubSpotIntake(cfg, intake, app.Service, logger).Register(server)
	app.HTTP = server.HTTPServer()
	// A scrape has no body and takes well under a second.
	app.Metrics = &http.Server{Handler: api.Metrics(registry), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	app.listener, err = net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("listen on SLABOT_HTTP_ADDR %q: %w", cfg.HTTPAddr, err)
	}
	if cfg.MetricsAddr != "" {
		app.metricsListener, err = net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			app.listener.Close()
			db.Close()
			return nil, fmt.Errorf("listen on SLABOT_METRICS_ADDR %q: %w", cfg.MetricsAddr, err)
		}
	}
	return app, nil
}

// publicLimits bound each request on the public address: the intake
// routes, the HubSpot route and Teams' /api/messages (a variable so that a
// test can make them small).
var publicLimits = api.BodyLimits

// The database plays every role the chat side reads and records through:
// the core's (bot/store.go) and each adapter's own. These fail the build,
// not a run, when a role and storage.DB drift apart.
var (
	_ bot.LeadStore      = (*storage.DB)(nil)
	_ bot.RepStore       = (*storage.DB)(nil)
	_ bot.IdentityStore  = (*storage.DB)(nil)
	_ bot.FigureStore    = (*storage.DB)(nil)
	_ bot.ScheduleStore  = (*storage.DB)(nil)
	_ bot.JobStore       = (*storage.DB)(nil)
	_ bot.Store          = (*storage.DB)(nil)
	_ teams.AppStore     = (*storage.DB)(nil)
	_ teams.ChannelStore = (*storage.DB)(nil)
)

// newChatApp builds slabot for the platform SLABOT_CHAT names: on Slack, a
// Socket Mode client; on Teams, the endpoint Teams posts to, returned to
// serve at POST /api/messages. It names the platform for /readyz.
func newChatApp(cfg Config, db *storage.DB, service *engine.Service, logger *slog.Logger, registry prometheus.Registerer) (chatApp, string, http.Handler) {
	if strings.EqualFold(cfg.Chat, engine.PlatformTeams) {
		var pacer *teams.Pacer // Teams' limits
		if cfg.teamsPace > 0 {
			pacer = teams.NewPacer(teams.PacerOptions{Interval: cfg.teamsPace})
		}
		t := teams.NewApp(teams.AppConfig{Teams: cfg.Teams, Store: db, Service: service, Logger: logger, Registry: registry, Pacer: pacer})
		return t, engine.PlatformTeams, t.Endpoint()
	}
	client := slack.New(cfg.SlackBotToken, slack.OptionAPIURL(cfg.SlackAPIURL), slack.OptionAppLevelToken(cfg.SlackAppToken),
		slack.OptionLog(slog.NewLogLogger(logger.Handler(), slog.LevelDebug)))
	return slackui.New(slackui.Config{API: client, Socket: socketmode.New(client), Store: db, Service: service,
		Logger: logger, Registry: registry}), engine.PlatformSlack, nil
}

// databaseReady is the readiness check of the database: it answers, and
// it has been migrated.
func (a *App) databaseReady(ctx context.Context) error {
	if err := a.DB.Ping(ctx); err != nil {
		return err
	}
	if !a.preparedOK.Load() {
		return errors.New("the database is being migrated")
	}
	return nil
}

// prepareDatabase waits for the database for as long as it takes (a replica
// may start before it, or it may be restarting), migrates it, and stores
// the teams of the policy file.
func (a *App) prepareDatabase(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		err := a.DB.Ping(ctx)
		if err == nil {
			if _, err = a.DB.Migrate(ctx); err == nil {
				err = a.DB.SyncTeams(ctx, a.Policy.Teams)
			}
			if err == nil {
				a.preparedOK.Store(true)
				close(a.prepared)
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := min(time.Duration(attempt)*time.Second, 15*time.Second)
		a.Logger.Warn("waiting for the database at DATABASE_URL", "attempt", attempt, "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Prepared is closed once the database is ready for the bot.
func (a *App) Prepared() <-chan struct{} { return a.prepared }

// Addr is where the HTTP listener listens.
func (a *App) Addr() string { return a.listener.Addr().String() }

// MetricsAddr is where /metrics is served ("" when it is not).
func (a *App) MetricsAddr() string {
	if a.metricsListener == nil {
		return ""
	}
	return a.metricsListener.Addr().String()
}

// Run serves until ctx is cancelled, then shuts down gracefully. The HTTP
// listeners serve at once (health, and 503 from the intake while the
// database is away); the bot and the worker start once the database is
// migrated. Nothing the database does makes Run return.
func (a *App) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		cancel()
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	serve := func(name string, srv *http.Server, l net.Listener) {
		if l == nil {
			return
		}
		wg.Go(func() {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fail(fmt.Errorf("%s: %w", name, err))
			}
		})
	}
	serve("http", a.HTTP, a.listener)
	serve("metrics", a.Metrics, a.metricsListener)
	wg.Go(func() {
		<-ctx.Done()
		a.shutdown(10 * time.Second)
	})
	a.Logger.Info("slabot is starting", "http", a.Addr(), "metrics", a.MetricsAddr(), "policy", a.Config.PolicyFile)
	if err := a.prepareDatabase(ctx); err != nil {
		return nil // stopped while waiting
	}
	wg.Go(func() {
		if err := a.Bot.Run(ctx); err != nil {
			fail(err)
		}
	})
	wg.Go(func() {
		if err := a.Worker.Run(ctx); err != nil {
			fail(fmt.Errorf("job worker: %w", err))
		}
	})
	// Answers over everyone count per-lead figures kept current here.
	wg.Go(func() { a.DB.RefreshLeadFactsLoop(ctx, a.Service.Policy, 2*time.Second) })
	wg.Go(func() {
		if err := a.Bot.RunReportSchedule(ctx, bot.ScheduleOptions{}); err != nil {
			fail(fmt.Errorf("weekly report schedule: %w", err))
		}
	})
	a.Logger.Info("slabot is running", "http", a.Addr(), "policy", a.Config.PolicyFile,
		"teams", len(a.Policy.Teams), "rules", len(a.Policy.Rules))
	<-ctx.Done()
	wg.Wait()
	errMu.Lock()
	defer errMu.Unlock()
	return firstErr
}

// shutdown stops the listeners: requests in flight get up to grace to
// finish, then every connection still open is closed, so that a client
// holding a request open cannot hold up the stop.
func (a *App) shutdown(grace time.Duration) {
	ctx, stop := context.WithTimeout(context.Background(), grace)
	defer stop()
	for name, srv := range map[string]*http.Server{"http": a.HTTP, "metrics": a.Metrics} {
		if err := srv.Shutdown(ctx); err != nil {
			a.Logger.Warn("requests still open at shutdown were cut off", "listener", name, "err", err)
			_ = srv.Close()
		}
	}
}

// Close releases the database.
func (a *App) Close() {
	a.DB.Close()
}
