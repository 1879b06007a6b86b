package bot

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slabot/slabot/engine"
)

// Store is what the bot reads and records beyond the engine's decisions.
type Store interface {
	InTx(ctx context.Context, fn func(engine.Tx) error) error
	LeadByID(ctx context.Context, id int64) (*engine.Lead, error)
	Touches(ctx context.Context, leadID int64) ([]engine.Touch, error)
	Events(ctx context.Context, leadID int64) ([]engine.Event, error)
	RepByEmail(ctx context.Context, email string) (*engine.Rep, error)
	UpdateRep(ctx context.Context, r *engine.Rep) error
	// Who people are on the chat platform, by email and by user id.
	ChatIdentityByEmail(ctx context.Context, platform, email string) (*engine.ChatIdentity, error)
	ChatIdentityByUserID(ctx context.Context, platform, userID string) (*engine.ChatIdentity, error)
	SaveChatIdentity(ctx context.Context, id *engine.ChatIdentity) error
	// ReactivateRep puts an inactive rep back in the rotation; false when
	// the rep was not inactive.
	ReactivateRep(ctx context.Context, email string, at time.Time) (bool, error)
	WithLock(ctx context.Context, key string, fn func(ctx context.Context) error) error
	Reps(ctx context.Context) ([]engine.Rep, error)
	SaveLeadMessage(ctx context.Context, m *engine.MessageRef) error
	LeadMessages(ctx context.Context, leadID int64, kind string) ([]engine.MessageRef, error)
	// QuietLeadMessage records that a message lost its buttons.
	QuietLeadMessage(ctx context.Context, id int64, at time.Time) error

	// For /sla, the App Home and the weekly report.
	LeadFacts(ctx context.Context, from, to time.Time) ([]engine.LeadFacts, error)
	// LeadFactsFor loads only the leads that can count for a rep or a team
	// (emails: the rep, or the team's reps).
	LeadFactsFor(ctx context.Context, from, to time.Time, scope engine.Scope, emails []string) ([]engine.LeadFacts, error)
	MQLs(ctx context.Context, from, to time.Time) ([]engine.MQL, error)
	// Attainment and Funnel count a period's figures where the leads are.
	Attainment(ctx context.Context, p *engine.Policy, scope engine.Scope, period engine.Period, now time.Time) (engine.Attainment, error)
	Funnel(ctx context.Context, p *engine.Policy, period engine.Period, now time.Time) (engine.Funnel, error)
	// QualityFacts loads the leads received in [from, to) with their rejections.
	QualityFacts(ctx context.Context, from, to time.Time) ([]engine.QualityFacts, error)
	WeeklyReport(ctx context.Context, p *engine.Policy, week engine.Period, now time.Time) (engine.WeeklyReport, error)
	OpenLeadsOf(ctx context.Context, ownerEmail string) ([]engine.LeadFacts, error)

	// For the scheduled report: one run per slot across replicas.
	ClaimSlot(ctx context.Context, job string, slot time.Time, by string, work engine.Job) (bool, error)
	RunProgress(ctx context.Context, job string, slot time.Time) (map[string]string, error)
	SaveRunProgress(ctx context.Context, job string, slot time.Time, key, value string) error
}

// Config wires a Bot.
type Config struct {
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
