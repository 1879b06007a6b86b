package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	slackui "github.com/slabot/slabot/bot/slack"
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
	ReactivateRep(ctx context.Context, email string) (bool, error)
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
	OpenLeadsOf(ctx context.Context, ownerEmail string) ([]engine.LeadFacts, error)

	// For the scheduled report: one run per slot across replicas.
	ClaimSlot(ctx context.Context, job string, slot time.Time, by string, work engine.Job) (bool, error)
	RunProgress(ctx context.Context, job string, slot time.Time) (map[string]string, error)
	SaveRunProgress(ctx context.Context, job string, slot time.Time, key, value string) error
}

// Config wires a Bot.
type Config struct {
	// API is the Web API client; Socket the Socket Mode client built on it.
	API     *slack.Client
	Socket  *socketmode.Client
	Store   Store
	Service *engine.Service
	Logger  *slog.Logger
	// Registry receives the bot's metrics; nil registers none.
	Registry prometheus.Registerer
	// PaceInterval and PaceBurst pace posts per channel (default one a
	// second with bursts of three, Slack's guidance for chat.postMessage).
	PaceInterval time.Duration
	PaceBurst    int
	// DirectoryInterval is how often Run checks Slack for deactivated
	// reps (default 15 minutes; negative: never).
	DirectoryInterval time.Duration
}

// JobInteraction is the durable job that processes one Slack interaction,
// slash command or event after it was acknowledged.
const JobInteraction = "slack.delivery"

// Bot is slabot in Slack.
type Bot struct {
	api     *slack.Client
	socket  *socketmode.Client
	store   Store
	service *engine.Service
	logger  *slog.Logger
	// chat is the platform's side of notifications; slack the same
	// adapter for the Slack calls not yet behind the port.
	chat    Chat
	slack   *slackui.Chat
	pacer   *pacer
	metrics *metrics
	timers  *timerMetrics

	directoryEvery time.Duration

	connected    atomic.Bool
	reportPoster atomic.Pointer[func(context.Context) error]
	users        sync.Map // Slack user id → email, for people who are not reps (managers)
	wg           sync.WaitGroup
}

// New returns a Bot; Run connects it.
func New(cfg Config) *Bot {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DirectoryInterval == 0 {
		cfg.DirectoryInterval = 15 * time.Minute
	}
	chat := slackui.NewChat(slackui.Config{API: cfg.API, Logger: cfg.Logger, Registry: cfg.Registry,
		PaceInterval: cfg.PaceInterval, PaceBurst: cfg.PaceBurst})
	m := newMetrics(cfg.Registry)
	m.sent = sentCounter{chat}
	return &Bot{
		api: cfg.API, socket: cfg.Socket, store: cfg.Store, service: cfg.Service, logger: cfg.Logger,
		chat: chat, slack: chat, pacer: &pacer{chat}, metrics: m,
		timers: newTimerMetrics(cfg.Registry), directoryEvery: cfg.DirectoryInterval,
	}
}

// Ready reports whether the Socket Mode connection is up, for /readyz.
func (b *Bot) Ready(context.Context) error {
	if !b.connected.Load() {
		return errors.New("not connected to Slack (Socket Mode)")
	}
	return nil
}

// Handlers are the bot's durable jobs, one per kind, for the job worker:
// what to send and where. The timers that decide a reminder or a breach
// are the engine's (Service.TimerHandlers).
func (b *Bot) Handlers() []engine.JobHandler {
	return []engine.JobHandler{
		engine.Handle(b.handleDelivery),
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

		engine.Handle(b.postScheduledReport),
	}
}

// DeliveryArgs: one Slack interaction, slash command or event, recorded
// as it arrived (Type is the Socket Mode envelope type, Body its payload).
type DeliveryArgs struct {
	Type string `json:"type"`
	Body string `json:"body"`
}

func (DeliveryArgs) Kind() string  { return JobInteraction }
func (DeliveryArgs) Queue() string { return engine.QueuePeople }

// Run connects to Slack and handles envelopes until ctx is done. Every
// envelope is handled on its own goroutine, so the event loop is never
// stalled by a slow database or Web API call (slack-go pings and reconnects
// from the same loop).
func (b *Bot) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- b.socket.RunContext(ctx) }()
	defer b.wg.Wait()
	if b.directoryEvery > 0 {
		b.wg.Go(func() { b.syncDirectoryLoop(ctx, b.directoryEvery) })
	}
	for {
		select {
		case <-ctx.Done():
			b.connected.Store(false)
			return nil
		case err := <-errc:
			b.connected.Store(false)
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slack socket mode: %w", err)
		case evt, ok := <-b.socket.Events:
			if !ok {
				return nil
			}
			b.onSocketEvent(ctx, evt)
		}
	}
}

func (b *Bot) onSocketEvent(ctx context.Context, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		b.logger.Debug("connecting to Slack")
	case socketmode.EventTypeConnected, socketmode.EventTypeHello:
		if !b.connected.Swap(true) {
			b.logger.Info("connected to Slack")
		}
	case socketmode.EventTypeConnectionError, socketmode.EventTypeDisconnect:
		b.connected.Store(false)
		b.logger.Warn("Slack connection lost; slack-go reconnects", "type", evt.Type)
	case socketmode.EventTypeInvalidAuth:
		b.connected.Store(false)
		b.logger.Error("Slack refused the tokens: check SLACK_BOT_TOKEN and SLACK_APP_TOKEN")
	case socketmode.EventTypeInteractive, socketmode.EventTypeSlashCommand, socketmode.EventTypeEventsAPI:
		if evt.Request == nil {
			return
		}
		b.metrics.envelopes.WithLabelValues(string(evt.Type)).Inc()
		b.wg.Go(func() { b.receive(ctx, evt) })
	}
}

// receive acknowledges an envelope within Slack's three seconds and hands
// its work to a durable job. The job is recorded first when the database
// answers quickly, so an acknowledged click survives a crash; the delivery
// key makes a redelivered envelope or event a no-op.
func (b *Bot) receive(ctx context.Context, evt socketmode.Event) {
	start := time.Now()
	req := evt.Request
	if evt.Type == socketmode.EventTypeInteractive {
		if cb, ok := evt.Data.(slack.InteractionCallback); ok && cb.Type == slack.InteractionTypeViewSubmission {
			if errs := validateView(cb); len(errs) > 0 {
				b.ack(req, map[string]any{"response_action": "errors", "errors": errs}, start)
				return
			}
		}
	}
	key := "envelope:" + req.EnvelopeID
	if evt.Type == socketmode.EventTypeEventsAPI {
		var outer struct {
			EventID string `json:"event_id"`
		}
		if json.Unmarshal(req.Payload, &outer) == nil && outer.EventID != "" {
			key = "event:" + outer.EventID // a retry has a new envelope id but the same event id
		}
	}
	job := engine.Job{UniqueKey: key, Args: DeliveryArgs{Type: string(evt.Type), Body: string(req.Payload)}}
	enqueue := func(ctx context.Context) error {
		return b.store.InTx(ctx, func(tx engine.Tx) error {
			_, err := tx.Enqueue(ctx, job)
			return err
		})
	}
	quick, cancel := context.WithTimeout(ctx, 2*time.Second)
	err := enqueue(quick)
	cancel()
	if err != nil && evt.Type != socketmode.EventTypeEventsAPI {
		// A person is waiting: say at once that it may not have taken,
		// rather than act on their click minutes later, after they moved on.
		b.logger.Warn("could not record a click or command in time; the person is asked to try again", "type", evt.Type, "err", err)
		b.metrics.unrecorded.Inc()
		b.refuseUnrecorded(ctx, evt, start)
		return
	}
	b.ack(req, nil, start)
	if err == nil {
		return
	}
	// An event (a Home tab opened, a profile changed) has nobody waiting:
	// keep trying for a while rather than lose it.
	b.logger.Warn("could not record a Slack event in time; retrying", "err", err)
	for attempt := 1; attempt <= 30 && ctx.Err() == nil; attempt++ {
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt) * time.Second):
		}
		if err = enqueue(ctx); err == nil {
			return
		}
	}
	b.logger.Error("lost a Slack delivery: the database did not answer", "type", evt.Type, "err", err)
}

// What a person reads when slabot could not confirm it recorded what they
// did: after a button, to check the card; after a command or a form, to
// send it again (a command changes nothing worth checking first, and a
// form stays open with what they typed).
const (
	unrecordedText = ":hourglass: slabot could not confirm it recorded that: its database is not answering. " +
		"Look at the card again in a moment; if nothing changed, please try again."
	unrecordedCommandText = ":hourglass: slabot could not confirm it recorded that: its database is not answering. " +
		"Please send it again in a moment."
)

// refuseUnrecorded acknowledges a click, command or form that could not be
// recorded, and tells the person privately: a form keeps its values and
// shows the note, a command answers with it, a button click gets it as a
// private message where they clicked.
func (b *Bot) refuseUnrecorded(ctx context.Context, evt socketmode.Event, start time.Time) {
	req := evt.Request
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		b.ack(req, map[string]any{"response_type": "ephemeral", "text": unrecordedCommandText}, start)
		return
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			break
		}
		if cb.Type == slack.InteractionTypeViewSubmission {
			for blockID := range cb.View.State.Values {
				b.ack(req, map[string]any{"response_action": "errors", "errors": map[string]string{blockID: unrecordedCommandText}}, start)
				return
			}
			break
		}
		b.ack(req, nil, start)
		b.tellUnrecorded(ctx, cb)
		return
	}
	b.ack(req, nil, start)
}

// tellUnrecorded tells the person whose click was not recorded, privately:
// through the click's response_url, else as an ephemeral message where they
// clicked, trying again for a few seconds while Slack is busy or failing.
func (b *Bot) tellUnrecorded(ctx context.Context, cb slack.InteractionCallback) {
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var err error
	for attempt := 0; attempt < 4 && sendCtx.Err() == nil; attempt++ {
		if attempt > 0 {
			select {
			case <-sendCtx.Done():
			case <-time.After(time.Duration(attempt) * time.Second):
			}
		}
		if cb.ResponseURL != "" {
			err = slack.PostWebhookContext(sendCtx, cb.ResponseURL, &slack.WebhookMessage{Text: unrecordedText,
				ResponseType: slack.ResponseTypeEphemeral, ReplaceOriginal: false})
		} else if cb.Channel.ID != "" && cb.User.ID != "" {
			_, err = b.api.PostEphemeralContext(sendCtx, cb.Channel.ID, cb.User.ID, slack.MsgOptionText(unrecordedText, false))
		} else {
			return
		}
		if err == nil {
			return
		}
	}
	b.logger.Warn("could not tell a person their click was not recorded", "err", err)
}

func (b *Bot) ack(req *socketmode.Request, payload any, start time.Time) {
	var err error
	if payload != nil {
		err = b.socket.Ack(*req, payload)
	} else {
		err = b.socket.Ack(*req)
	}
	b.metrics.ackLatency.Observe(time.Since(start).Seconds())
	if err != nil {
		b.logger.Warn("acknowledging a Slack envelope failed", "err", err)
	}
}

// handleDelivery processes one recorded Slack delivery.
func (b *Bot) handleDelivery(ctx context.Context, _ engine.Job, args DeliveryArgs) error {
	typ, body := args.Type, args.Body
	switch socketmode.EventType(typ) {
	case socketmode.EventTypeInteractive:
		var cb slack.InteractionCallback
		if err := json.Unmarshal([]byte(body), &cb); err != nil {
			b.logger.Warn("ignoring an interaction slabot cannot read", "err", err)
			return nil
		}
		return b.onInteraction(ctx, cb)
	case socketmode.EventTypeSlashCommand:
		var cmd slack.SlashCommand
		if err := json.Unmarshal([]byte(body), &cmd); err != nil {
			b.logger.Warn("ignoring a slash command slabot cannot read", "err", err)
			return nil
		}
		return b.onSlashCommand(ctx, cmd)
	case socketmode.EventTypeEventsAPI:
		return b.onEvent(ctx, []byte(body))
	}
	return nil
}

// slackError turns a Web API failure into a job error: a 429 retries after
// Slack's Retry-After, anything else with the queue's backoff.
func (b *Bot) slackError(what string, err error) error { return b.slack.Error(what, err) }
