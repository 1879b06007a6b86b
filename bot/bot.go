package bot

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slabot/slabot/engine"
)

// Config wires a Bot.
type Config struct {
	// Store plays every role the bot reads and records through (store.go);
	// storage.DB does.
	Store   Store
	Service *engine.Service
	// Chat is the platform's side of notifications (bot/slack, bot/teams).
	Chat   Chat
	Logger *slog.Logger
	// Registry receives the bot's metrics; nil registers none.
	Registry prometheus.Registerer
}

// Bot is slabot's chat side, whatever the platform: it decides what to
// tell whom and records what was sent; a platform adapter receives what
// people do and shows what the bot says.
type Bot struct {
	store   Store
	service *engine.Service
	logger  *slog.Logger
	chat    Chat
	timers  *timerMetrics

	reportPoster atomic.Pointer[func(context.Context) error]
	users        sync.Map // platform user id → email, for people slabot has not stored
}

// New returns a Bot.
func New(cfg Config) *Bot {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Bot{store: cfg.Store, service: cfg.Service, logger: cfg.Logger, chat: cfg.Chat,
		timers: newTimerMetrics(cfg.Registry)}
}

// Handlers are the bot's durable jobs, one per kind, for the job worker:
// what to send and where. The timers that decide a reminder or a breach
// are the engine's (Service.TimerHandlers).
func (b *Bot) Handlers() []engine.JobHandler {
	return []engine.JobHandler{
		engine.Handle(func(ctx context.Context, job engine.Job, _ engine.HandOffArgs) error { return b.sendHandOff(ctx, job) }),
		engine.Handle(func(ctx context.Context, job engine.Job, _ engine.CardUpdateArgs) error {
			return b.updateCards(ctx, job)
		}),
		engine.Handle(b.sendOpsAlert),
		engine.Handle(b.sendReminder),
		engine.Handle(func(ctx context.Context, _ engine.Job, args HomeRefreshArgs) error {
			return b.refreshHome(ctx, args.Email)
		}),
		engine.Handle(b.sendEscalation),
		engine.Handle(b.sendRejectionNotice),
		engine.Handle(b.sendContestDecision),
		engine.Handle(b.sendRecycleNotice),

		engine.Handle(b.postScheduledReport),
		engine.Handle(b.postScheduledReview),
	}
}
