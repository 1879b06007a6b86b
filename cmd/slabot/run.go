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
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/slabot/slabot/api"
	"github.com/slabot/slabot/bot"
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

// App is the running bot: the database, the policy, the HTTP listener and
// (as the bot grows) the Slack connection and the workers.
type App struct {
	Config  Config
	Logger  *slog.Logger
	DB      *storage.DB
	Policy  *engine.Policy
	Service *engine.Service
	Bot     *bot.Bot
	// Workers run the durable jobs: one for people's clicks and commands,
	// so they never queue behind paced sends, and one for everything else.
	Workers []*storage.Worker
	HTTP    *http.Server

	listener net.Listener
}

// NewApp loads the policy, connects to and migrates the database, and opens
// the HTTP listener. It does not start serving: Run does.
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
	app := &App{Config: cfg, Logger: logger, DB: db, Policy: policy}
	if err := app.prepareDatabase(ctx); err != nil {
		db.Close()
		return nil, err
	}
	registry := api.NewRegistry()
	app.Service = engine.NewService(db, policy, time.Now, logger)
	client := slack.New(cfg.SlackBotToken, slack.OptionAPIURL(cfg.SlackAPIURL), slack.OptionAppLevelToken(cfg.SlackAppToken),
		slack.OptionLog(slog.NewLogLogger(logger.Handler(), slog.LevelDebug)))
	app.Bot = bot.New(bot.Config{API: client, Socket: socketmode.New(client), Store: db, Service: app.Service,
		Logger: logger, Registry: registry})
	hostname, _ := os.Hostname()
	queue := storage.NewQueueMetrics(db, registry)
	handlers := app.Bot.Handlers()
	interactive := map[string]storage.JobHandler{bot.JobInteraction: handlers[bot.JobInteraction]}
	delete(handlers, bot.JobInteraction)
	workerID := fmt.Sprintf("%s-%d", hostname, os.Getpid())
	app.Workers = []*storage.Worker{
		db.NewWorker(interactive, storage.WorkerOptions{ID: workerID + "-people", Logger: logger, OnDone: queue.Observe}),
		db.NewWorker(handlers, storage.WorkerOptions{ID: workerID, Logger: logger, OnDone: queue.Observe}),
	}
	server := api.NewServer(logger, registry, map[string]api.ReadyCheck{
		"database": db.Ping,
		"slack":    app.Bot.Ready,
	})
	api.NewIntake(app.Service, cfg.IntakeToken, logger, registry).Register(server)
	app.HTTP = &http.Server{Handler: server, ReadHeaderTimeout: 10 * time.Second}
	app.listener, err = net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("listen on SLABOT_HTTP_ADDR %q: %w", cfg.HTTPAddr, err)
	}
	return app, nil
}

// prepareDatabase waits for the database (a replica may start before it),
// migrates it, and stores the teams of the policy file.
func (a *App) prepareDatabase(ctx context.Context) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := a.DB.Ping(ctx)
		if err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the database at DATABASE_URL did not answer for a minute: %w", err)
		}
		a.Logger.Info("waiting for the database", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	if _, err := a.DB.Migrate(ctx); err != nil {
		return err
	}
	return a.DB.SyncTeams(ctx, a.Policy.Teams)
}

// Addr is where the HTTP listener listens.
func (a *App) Addr() string { return a.listener.Addr().String() }

// Run serves until ctx is cancelled, then shuts down gracefully.
func (a *App) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 5)
	var wg sync.WaitGroup
	defer wg.Wait()
	go func() {
		if err := a.HTTP.Serve(a.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http: %w", err)
		}
	}()
	wg.Go(func() {
		if err := a.Bot.Run(ctx); err != nil {
			errc <- err
		}
	})
	for _, w := range a.Workers {
		wg.Go(func() {
			if err := w.Run(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("job worker: %w", err)
			}
		})
	}
	wg.Go(func() {
		if err := a.Bot.RunReportSchedule(ctx, bot.ScheduleOptions{}); err != nil {
			errc <- fmt.Errorf("weekly report schedule: %w", err)
		}
	})
	a.Logger.Info("slabot is running", "http", a.Addr(), "policy", a.Config.PolicyFile,
		"teams", len(a.Policy.Teams), "rules", len(a.Policy.Rules))
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if serr := a.HTTP.Shutdown(shutdownCtx); serr != nil && err == nil {
		err = fmt.Errorf("http shutdown: %w", serr)
	}
	return err
}

// Close releases the database.
func (a *App) Close() {
	a.DB.Close()
}
