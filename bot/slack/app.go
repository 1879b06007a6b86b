package slack

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

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/engine"
)

// Store is what slabot's Slack side reads and records besides what the
// bot's core does: deliveries recorded as jobs, and the reps the
// directory check looks at.
type Store interface {
	bot.Store
	Reps(ctx context.Context) ([]engine.Rep, error)
	// ReactivateRep puts an inactive rep back in the rotation; false when
	// the rep was not inactive.
	ReactivateRep(ctx context.Context, email string, at time.Time) (bool, error)
}

// Config wires an App.
type Config struct {
	// API is the Web API client; Socket the Socket Mode client built on it.
	API     *slack.Client
	Socket  *socketmode.Client
	Store   Store
	Service *engine.Service
	Logger  *slog.Logger
	// Registry receives the metrics; nil registers none.
	Registry prometheus.Registerer
	// PaceInterval and PaceBurst pace posts per channel (default one a
	// second with bursts of three, Slack's guidance for chat.postMessage).
	PaceInterval time.Duration
	PaceBurst    int
	// DirectoryInterval is how often Run checks Slack for deactivated
	// reps (default 15 minutes; negative: never).
	DirectoryInterval time.Duration
}

// App is slabot on Slack: the bot's core (embedded: its job handlers,
// answers and views) with Slack's Socket Mode in front of it and Chat
// behind it.
type App struct {
	*bot.Bot
	chat    *Chat
	api     *slack.Client
	socket  *socketmode.Client
	store   Store
	service *engine.Service
	logger  *slog.Logger
	metrics *metrics

	directoryEvery time.Duration
	connected      atomic.Bool
	wg             sync.WaitGroup
}

// New returns an App; Run connects it.
func New(cfg Config) *App {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DirectoryInterval == 0 {
		cfg.DirectoryInterval = 15 * time.Minute
	}
	chat := NewChat(ChatConfig{API: cfg.API, Logger: cfg.Logger, Registry: cfg.Registry,
		PaceInterval: cfg.PaceInterval, PaceBurst: cfg.PaceBurst})
	core := bot.New(bot.Config{Store: cfg.Store, Service: cfg.Service, Chat: chat, Logger: cfg.Logger, Registry: cfg.Registry})
	return &App{
		Bot: core, chat: chat, api: cfg.API, socket: cfg.Socket, store: cfg.Store, service: cfg.Service,
		logger: cfg.Logger, metrics: newMetrics(cfg.Registry), directoryEvery: cfg.DirectoryInterval,
	}
}

// Ready reports whether the Socket Mode connection is up, for /readyz.
func (a *App) Ready(context.Context) error {
	if !a.connected.Load() {
		return errors.New("not connected to Slack (Socket Mode)")
	}
	return nil
}

// Handlers are the core's durable jobs and the one that works a recorded
// Slack delivery.
func (a *App) Handlers() []engine.JobHandler {
	return append(a.Bot.Handlers(), engine.Handle(a.handleDelivery))
}

// JobInteraction is the durable job that processes one Slack interaction,
// slash command or event after it was acknowledged.
const JobInteraction = "slack.delivery"

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
func (a *App) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.socket.RunContext(ctx) }()
	defer a.wg.Wait()
	if a.directoryEvery > 0 {
		a.wg.Go(func() { a.KeepDirectoryInSync(ctx, a.directoryEvery, "Slack", a.SyncDirectory) })
	}
	for {
		select {
		case <-ctx.Done():
			a.connected.Store(false)
			return nil
		case err := <-errc:
			a.connected.Store(false)
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slack socket mode: %w", err)
		case evt, ok := <-a.socket.Events:
			if !ok {
				return nil
			}
			a.onSocketEvent(ctx, evt)
		}
	}
}

func (a *App) onSocketEvent(ctx context.Context, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		a.logger.Debug("connecting to Slack")
	case socketmode.EventTypeConnected, socketmode.EventTypeHello:
		if !a.connected.Swap(true) {
			a.logger.Info("connected to Slack")
		}
	case socketmode.EventTypeConnectionError, socketmode.EventTypeDisconnect:
		a.connected.Store(false)
		a.logger.Warn("Slack connection lost; slack-go reconnects", "type", evt.Type)
	case socketmode.EventTypeInvalidAuth:
		a.connected.Store(false)
		a.logger.Error("Slack refused the tokens: check SLACK_BOT_TOKEN and SLACK_APP_TOKEN")
	case socketmode.EventTypeInteractive, socketmode.EventTypeSlashCommand, socketmode.EventTypeEventsAPI:
		if evt.Request == nil {
			return
		}
		a.metrics.envelopes.WithLabelValues(string(evt.Type)).Inc()
		a.wg.Go(func() { a.receive(ctx, evt) })
	}
}

// receive acknowledges an envelope within Slack's three seconds and hands
// its work to a durable job. The job is recorded first when the database
// answers quickly, so an acknowledged click survives a crash; the delivery
// key makes a redelivered envelope or event a no-op.
func (a *App) receive(ctx context.Context, evt socketmode.Event) {
	start := time.Now()
	req := evt.Request
	if evt.Type == socketmode.EventTypeInteractive {
		if cb, ok := evt.Data.(slack.InteractionCallback); ok && cb.Type == slack.InteractionTypeViewSubmission {
			if errs := validateView(cb); len(errs) > 0 {
				a.ack(req, map[string]any{"response_action": "errors", "errors": errs}, start)
				return
			}
		}
	}
	key := "envelope:" + req.EnvelopeID
	if evt.Type == socketmode.EventTypeEventsAPI && !worthRecording(req.Payload) {
		a.ack(req, nil, start)
		return
	}
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
		return a.store.InTx(ctx, func(tx engine.Tx) error {
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
		a.logger.Warn("could not record a click or command in time; the person is asked to try again", "type", evt.Type, "err", err)
		a.metrics.unrecorded.Inc()
		a.refuseUnrecorded(ctx, evt, start)
		return
	}
	a.ack(req, nil, start)
	if err == nil {
		return
	}
	// An event (a Home tab opened, a profile changed) has nobody waiting:
	// keep trying for a while rather than lose it.
	a.logger.Warn("could not record a Slack event in time; retrying", "err", err)
	for attempt := 1; attempt <= 30 && ctx.Err() == nil; attempt++ {
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt) * time.Second):
		}
		if err = enqueue(ctx); err == nil {
			return
		}
	}
	a.logger.Error("lost a Slack delivery: the database did not answer", "type", evt.Type, "err", err)
}

// What a person reads when slabot could not confirm it recorded a click,
// or a command or form (bot.Unrecorded).
var (
	unrecordedText        = Mrkdwn(bot.Unrecorded(true))
	unrecordedCommandText = Mrkdwn(bot.Unrecorded(false))
)

// refuseUnrecorded acknowledges a click, command or form that could not be
// recorded, and tells the person privately: a form keeps its values and
// shows the note, a command answers with it, a button click gets it as a
// private message where they clicked.
func (a *App) refuseUnrecorded(ctx context.Context, evt socketmode.Event, start time.Time) {
	req := evt.Request
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		a.ack(req, map[string]any{"response_type": "ephemeral", "text": unrecordedCommandText}, start)
		return
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			break
		}
		if cb.Type == slack.InteractionTypeViewSubmission {
			for blockID := range cb.View.State.Values {
				a.ack(req, map[string]any{"response_action": "errors", "errors": map[string]string{blockID: unrecordedCommandText}}, start)
				return
			}
			break
		}
		a.ack(req, nil, start)
		a.tellUnrecorded(ctx, cb)
		return
	}
	a.ack(req, nil, start)
}

// tellUnrecorded tells the person whose click was not recorded, privately:
// through the click's response_url, else as an ephemeral message where they
// clicked, trying again for a few seconds while Slack is busy or failing.
func (a *App) tellUnrecorded(ctx context.Context, cb slack.InteractionCallback) {
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
			_, err = a.api.PostEphemeralContext(sendCtx, cb.Channel.ID, cb.User.ID, slack.MsgOptionText(unrecordedText, false))
		} else {
			return
		}
		if err == nil {
			return
		}
	}
	a.logger.Warn("could not tell a person their click was not recorded", "err", err)
}

func (a *App) ack(req *socketmode.Request, payload any, start time.Time) {
	var err error
	if payload != nil {
		err = a.socket.Ack(*req, payload)
	} else {
		err = a.socket.Ack(*req)
	}
	a.metrics.ackLatency.Observe(time.Since(start).Seconds())
	if err != nil {
		a.logger.Warn("acknowledging a Slack envelope failed", "err", err)
	}
}

// handleDelivery processes one recorded Slack delivery.
func (a *App) handleDelivery(ctx context.Context, job engine.Job, args DeliveryArgs) error {
	typ, body := args.Type, args.Body
	switch socketmode.EventType(typ) {
	case socketmode.EventTypeInteractive:
		var cb slack.InteractionCallback
		if err := json.Unmarshal([]byte(body), &cb); err != nil {
			a.logger.Warn("ignoring an interaction slabot cannot read", "err", err)
			return nil
		}
		return a.onInteraction(ctx, cb)
	case socketmode.EventTypeSlashCommand:
		var cmd slack.SlashCommand
		if err := json.Unmarshal([]byte(body), &cmd); err != nil {
			a.logger.Warn("ignoring a slash command slabot cannot read", "err", err)
			return nil
		}
		return a.onSlashCommand(ctx, cmd)
	case socketmode.EventTypeEventsAPI:
		return a.onEvent(ctx, job, []byte(body))
	}
	return nil
}
