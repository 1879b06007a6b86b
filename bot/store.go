package bot

import (
	"context"
	"time"

	"github.com/slabot/slabot/engine"
)

// This file says what the bot reads and records beyond the engine's
// decisions, one interface per role. storage.DB plays every role; an
// adapter names only the roles it uses itself (bot/slack, bot/teams).

// Store is every role at once: what New needs to build a Bot.
type Store interface {
	LeadStore
	RepStore
	IdentityStore
	FigureStore
	ScheduleStore
	JobStore
}

// LeadStore holds a lead as the notifications draw it (the hand-off card,
// reminders, escalations, contest and recycle notices) and the messages
// posted about it, so a later change redraws or quiets them.
type LeadStore interface {
	LeadByID(ctx context.Context, id int64) (*engine.Lead, error)
	Touches(ctx context.Context, leadID int64) ([]engine.Touch, error)
	Events(ctx context.Context, leadID int64) ([]engine.Event, error)
	SaveLeadMessage(ctx context.Context, m *engine.MessageRef) error
	LeadMessages(ctx context.Context, leadID int64, kind string) ([]engine.MessageRef, error)
	// QuietLeadMessage records that a message lost its buttons.
	QuietLeadMessage(ctx context.Context, id int64, at time.Time) error
}

// RepStore holds the reps: who asks a command, whose zone a time is shown
// in, and whom the directory check puts back in the rotation.
type RepStore interface {
	RepByEmail(ctx context.Context, email string) (*engine.Rep, error)
	Reps(ctx context.Context) ([]engine.Rep, error)
	// ReactivateRep puts an inactive rep back in the rotation; false when
	// the rep was not inactive.
	ReactivateRep(ctx context.Context, email string, at time.Time) (bool, error)
}

// IdentityStore holds who people are on a chat platform, by email and by
// user id (chat.go).
type IdentityStore interface {
	ChatIdentityByEmail(ctx context.Context, platform, email string) (*engine.ChatIdentity, error)
	ChatIdentityByUserID(ctx context.Context, platform, userID string) (*engine.ChatIdentity, error)
	SaveChatIdentity(ctx context.Context, id *engine.ChatIdentity) error
}

// FigureStore counts what /sla, the home view and the reports show, where
// the leads are.
type FigureStore interface {
	ReportStore
	ReviewStore
	// LeadFactsFor loads only the leads that can count for a rep or a team
	// (emails: the rep, or the team's reps).
	LeadFactsFor(ctx context.Context, from, to time.Time, scope engine.Scope, emails []string) ([]engine.LeadFacts, error)
	OpenLeadsOf(ctx context.Context, ownerEmail string) ([]engine.LeadFacts, error)
	// Attainment and Funnel count a period's figures.
	Attainment(ctx context.Context, p *engine.Policy, scope engine.Scope, period engine.Period, now time.Time) (engine.Attainment, error)
	Funnel(ctx context.Context, p *engine.Policy, period engine.Period, now time.Time) (engine.Funnel, error)
	// ScorecardWithFindings is the scorecard and its "slower on better
	// leads" findings, counted together (/sla sources); Speed is /sla speed.
	ScorecardWithFindings(ctx context.Context, p *engine.Policy, by engine.GroupBy, period engine.Period, asOf time.Time, limit int) (engine.Scorecard, []engine.SlowerFinding, error)
	Speed(ctx context.Context, p *engine.Policy, period engine.Period, asOf time.Time, rule string, pooled bool) (engine.Speed, error)
}

// ScheduleStore makes a scheduled post (the weekly report, the review
// pack) one run per slot across replicas, and lets a retried run go on
// where the last attempt stopped.
type ScheduleStore interface {
	// ClaimSlot claims job's slot and queues work with the claim; false
	// when another replica has it.
	ClaimSlot(ctx context.Context, job string, slot time.Time, by string, work engine.Job) (bool, error)
	RunProgress(ctx context.Context, job string, slot time.Time) (map[string]string, error)
	SaveRunProgress(ctx context.Context, job string, slot time.Time, key, value string) error
}

// JobStore queues work durably and takes turns across replicas.
type JobStore interface {
	// InTx runs fn in one transaction; the bot and its adapters use it to
	// queue jobs.
	InTx(ctx context.Context, fn func(engine.Tx) error) error
	// WithLock runs fn while holding a lock on key across replicas.
	WithLock(ctx context.Context, key string, fn func(ctx context.Context) error) error
}
