package teams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// AppStore is what slabot's Teams side reads and records: the core's
// store, the Teams chat's (people, posts, channels), and what the App
// learns from Teams' own events: channels, and whose member id is whose.
type AppStore interface {
	bot.Store
	Store
	SaveChatChannel(ctx context.Context, c *engine.ChatChannel) error
	// ForgetChatChannels forgets channels that are gone, with their pins,
	// and returns what it forgot; ChatChannelsOfTeam lists a team's.
	ForgetChatChannels(ctx context.Context, platform string, channelIDs []string) ([]engine.ChatChannel, error)
	ChatChannelsOfTeam(ctx context.Context, platform, teamID string) ([]engine.ChatChannel, error)
	// TieMember records whose Entra object id a 29: id is; UserIDOfMember
	// reads it back (ENOTFOUND when never tied).
	TieMember(ctx context.Context, platform, memberID, userID string) error
	UserIDOfMember(ctx context.Context, platform, memberID string) (string, error)
	// ChatTeams lists the General channel of each team slabot is in.
	ChatTeams(ctx context.Context, platform string) ([]engine.ChatChannel, error)
}

// AppConfig wires an App.
type AppConfig struct {
	Teams    Config
	Store    AppStore
	Service  *engine.Service
	Logger   *slog.Logger
	Registry prometheus.Registerer
	// HTTPClient calls Microsoft (nil: a client with a 30 s timeout).
	HTTPClient *http.Client
	// Pacer spaces writes per conversation (nil: Teams' limits).
	Pacer *Pacer
	// DirectoryInterval is how often Run checks the directory for
	// disabled reps (default 15 minutes; negative: never).
	DirectoryInterval time.Duration
}

// App is slabot on Microsoft Teams: the bot's core (embedded: its job
// handlers, answers and views) with the Bot Framework endpoint in front of
// it (Endpoint, at POST /api/messages) and Chat behind it.
type App struct {
	*bot.Bot
	tr       *Transport
	chat     *Chat
	store    AppStore
	service  *engine.Service
	logger   *slog.Logger
	endpoint *gate

	directoryEvery time.Duration
	metrics        *metrics
	// pinned is closed once Run has pinned the policy's channel names.
	pinned     chan struct{}
	pinnedOnce sync.Once
	// recordWithin bounds recording a message typed to slabot before it
	// asks the person to send it again.
	recordWithin time.Duration
}

// NewApp returns an App; its endpoint serves at once, Run checks the
// directory.
func NewApp(cfg AppConfig) *App {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DirectoryInterval == 0 {
		cfg.DirectoryInterval = 15 * time.Minute
	}
	tr := NewTransport(cfg.Teams, TransportOptions{Logger: cfg.Logger, HTTPClient: cfg.HTTPClient, Pacer: cfg.Pacer})
	m := newMetrics(cfg.Registry)
	chat := NewChat(tr, cfg.Store, cfg.Logger)
	chat.metrics = m
	a := &App{
		Bot: bot.New(bot.Config{Store: cfg.Store, Service: cfg.Service, Chat: chat, Logger: cfg.Logger, Registry: cfg.Registry}),
		tr:  tr, chat: chat, store: cfg.Store, service: cfg.Service, logger: cfg.Logger, directoryEvery: cfg.DirectoryInterval,
		metrics: m, pinned: make(chan struct{}), recordWithin: 2 * time.Second,
	}
	a.endpoint = &gate{next: tr.Handler(a, HandlerOptions{Logger: cfg.Logger})}
	chat.rosterLost, chat.personBlocked = a.rosterLost, a.personBlocked
	return a
}

// gate admits requests to the Bot Framework endpoint until Run stops, and
// then waits for the work they started. Without it a request arriving
// while Run waits would start work Run no longer waits for (and race with
// the wait itself).
type gate struct {
	mu     sync.RWMutex
	closed bool
	next   *Handler
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slabot is stopping", http.StatusServiceUnavailable)
		return
	}
	g.next.ServeHTTP(w, r)
}

// closeAndWait refuses new requests, then waits for the requests in
// flight and the work they started.
func (g *gate) closeAndWait() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.next.Wait()
}

// Endpoint is the handler of POST /api/messages.
func (a *App) Endpoint() http.Handler { return a.endpoint }

// Ready reports whether slabot can get a token to talk to Teams, for
// /readyz.
func (a *App) Ready(ctx context.Context) error {
	if err := a.tr.Tokens.Check(ctx); err != nil {
		return fmt.Errorf("cannot get a Microsoft token for Teams (check TEAMS_APP_ID, TEAMS_APP_PASSWORD, TEAMS_TENANT_ID): %w", err)
	}
	return nil
}

// Handlers are the core's durable jobs and the one that answers a message
// typed to slabot.
func (a *App) Handlers() []engine.JobHandler {
	return append(a.Bot.Handlers(), engine.Handle(a.answerMessage), engine.Handle(a.tellChannelGone))
}

// Run checks the directory for disabled reps every DirectoryInterval until
// ctx ends; Teams reaches slabot through Endpoint, so there is nothing to
// connect to.
func (a *App) Run(ctx context.Context) error {
	defer a.endpoint.closeAndWait()
	if err := a.pinChannels(ctx); err != nil {
		return err
	}
	a.pinnedOnce.Do(func() { close(a.pinned) })
	a.KeepDirectoryInSync(ctx, a.directoryEvery, "Microsoft 365", a.SyncDirectory)
	return nil
}

// pinChannels pins each channel name of the policy to the one channel it
// means now, and refuses to run while a name is ambiguous: what slabot
// posts there (lead names, links to the CRM, the weekly report) would
// otherwise go to whichever team answered to the name.
func (a *App) pinChannels(ctx context.Context) error {
	pins, err := CheckChannels(ctx, a.store, a.tr.Config.TenantID, a.service.Policy(), true)
	if err != nil && !errors.Is(err, ErrAmbiguousChannel) {
		a.logger.Warn("could not check the channels the policy names; they are checked again when slabot posts there", "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("slabot will not start while a channel the policy names is ambiguous (see slabot policy check): %w", err)
	}
	for _, p := range pins {
		if p.Err != nil {
			a.logger.Warn("a channel the policy names is not known yet", "problem", problemText(p.Err))
			continue
		}
		a.logger.Info("policy channel", "resolves", DescribePin(p))
	}
	return nil
}

// OnActivity handles what Teams sends: a click on a card (answered with the
// redrawn card or a refusal), a message (a command, answered by a durable
// job), slabot installed or added to a team.
func (a *App) OnActivity(ctx context.Context, act *Activity) (*InvokeResponse, error) {
	a.metrics.activities.WithLabelValues(act.Type).Inc()
	if act.IsAdaptiveCardAction() {
		defer func(start time.Time) { a.metrics.clicks.Observe(time.Since(start).Seconds()) }(time.Now())
	}
	sender, err := a.sender(ctx, act)
	if err != nil {
		a.logger.Warn("could not tell who wrote to slabot in Teams", "err", err)
	}
	email, err := a.learn(ctx, act, sender)
	if err != nil {
		a.logger.Warn("could not tell who wrote to slabot in Teams", "err", err)
	}
	if sender != "" && reachesOut(act) {
		if err := a.chat.Reachable(ctx, sender); err != nil {
			a.logger.Warn("could not record that a person who had blocked slabot reached out to it", "err", err)
		}
	}
	if err := a.followTeam(ctx, act); err != nil {
		a.logger.Warn("could not update where a team's channels are served", "err", err)
	}
	switch {
	case act.IsAdaptiveCardAction():
		return a.onClick(ctx, act, sender, email), nil
	case act.Type == ActivityMessage:
		return nil, a.onMessage(ctx, act, sender)
	case act.Type == ActivityInstallationUpdate && act.Action == InstallationAdd, act.Type == ActivityConversationUpdate && act.BotAdded():
		return nil, a.onAdded(ctx, act, sender)
	case act.Type == ActivityInstallationUpdate && act.Action == InstallationRemove,
		act.Type == ActivityConversationUpdate && (act.BotRemoved() || teamGone[act.eventType()]):
		return nil, a.onRemoved(ctx, act)
	case act.Type == ActivityConversationUpdate && act.eventType() == "channelDeleted":
		return nil, a.onChannelDeleted(ctx, act)
	}
	return nil, nil
}

// sender is who sent or clicked, by Entra object id: the activity's
// aadObjectId, else the object id its 29: id was tied to by an earlier
// activity that carried both; "" for someone slabot cannot tell (a
// stranger). A 29: id that comes with an object id is tied to it here.
func (a *App) sender(ctx context.Context, act *Activity) (string, error) {
	objectID, memberID := act.SenderID(), act.MemberID()
	switch {
	case objectID != "" && memberID != "":
		return objectID, a.store.TieMember(ctx, engine.PlatformTeams, memberID, objectID)
	case objectID != "":
		return objectID, nil
	case memberID != "":
		id, err := a.store.UserIDOfMember(ctx, engine.PlatformTeams, memberID)
		if engine.ErrorCode(err) == engine.ENOTFOUND {
			return "", nil
		}
		return id, err
	}
	return "", nil
}

// learn records who sent an activity and, in their 1:1 chat, where that
// chat is served now (Teams may move it), and returns their email.
func (a *App) learn(ctx context.Context, act *Activity, userID string) (string, error) {
	ref := act.Reference()
	if userID == "" {
		return "", nil // slabot itself, or someone slabot cannot tell
	}
	known, err := a.store.ChatIdentityByUserID(ctx, engine.PlatformTeams, userID)
	if err != nil && engine.ErrorCode(err) != engine.ENOTFOUND {
		return "", err
	}
	personal := ref.ConversationType == ConversationPersonal
	if known != nil {
		if !personal || (known.ConversationID == ref.ConversationID && known.ServiceURL == ref.ServiceURL) {
			return known.Email, nil
		}
		known.ConversationID, known.ServiceURL = ref.ConversationID, ref.ServiceURL
		return known.Email, a.store.SaveChatIdentity(ctx, known)
	}
	// Someone slabot has not met: the directory says who they are.
	id, err := a.chat.FindPersonByID(ctx, userID)
	if err != nil {
		return "", err
	}
	id.UserID, id.ServiceURL = userID, ref.ServiceURL
	if ref.TenantID != "" {
		id.TenantID = ref.TenantID
	}
	if personal {
		id.ConversationID = ref.ConversationID
	}
	return id.Email, a.store.SaveChatIdentity(ctx, &id)
}

// channelsChanged are the events of a conversationUpdate (channelData's
// eventType) after which a team's channels are not what slabot learnt: a
// channel the policy names may exist only now, or under its new name.
// (channelDeleted is onChannelDeleted's.)
var channelsChanged = map[string]bool{"channelCreated": true, "channelRenamed": true, "channelRestored": true,
	"teamRenamed": true}

// followTeam keeps what slabot knows of a team's channels current: an
// activity in a channel carries the team's serviceUrl, which Teams may
// move, and the report and escalation channels are written to without a
// person's activity to follow. The channels are learnt again when the
// activity's channel is unknown, served elsewhere now, or the team's
// channels changed.
func (a *App) followTeam(ctx context.Context, act *Activity) error {
	ref := act.Reference()
	if ref.ConversationType != "channel" || ref.TeamID == "" || ref.ServiceURL == "" ||
		(act.Type == ActivityConversationUpdate && act.BotAdded()) || // onAdded learns them
		act.BotRemoved() || teamGone[act.eventType()] || // onRemoved forgets them
		(act.Type == ActivityInstallationUpdate && act.Action == InstallationRemove) {
		return nil
	}
	team := *act.ChannelData.Team
	known, err := a.store.ChatChannelByID(ctx, engine.PlatformTeams, BaseConversationID(ref.ConversationID))
	switch {
	case err == nil && known.ServiceURL == ref.ServiceURL && !channelsChanged[act.ChannelData.EventType]:
		return nil
	case err == nil && team.Name == "":
		team.Name = known.TeamName // Teams does not always name the team
	case err != nil && engine.ErrorCode(err) != engine.ENOTFOUND:
		return err
	}
	if team.Name == "" {
		return nil // without its name the policy cannot name its channels
	}
	return a.learnChannels(ctx, ref.ServiceURL, ref.TenantID, team)
}

// onClick carries out a press on a card's button or a submitted form and
// answers with the card as it is now, or with why nothing was done.
func (a *App) onClick(ctx context.Context, act *Activity, sender, email string) *InvokeResponse {
	if email == "" {
		return MessageResponse("slabot does not know who you are in Microsoft 365, so it cannot act for you. Ask your admin to check your account.")
	}
	click, err := act.CardAction()
	if err != nil {
		return ErrorResponse(http.StatusBadRequest, "BadRequest", "slabot could not read that click. Type home for a fresh card.")
	}
	data, err := click.Strings()
	if err != nil {
		return ErrorResponse(http.StatusBadRequest, "BadRequest", "slabot could not read that click. Type home for a fresh card.")
	}
	action, ok := actionOf(engine.Actor{Email: email}, click.Verb, data)
	if !ok {
		return MessageResponse("This card is out of date. Type home or leads for cards whose buttons work.")
	}
	action.Key = "teams:" + act.ID + ":" + action.Value
	l, err := a.Act(ctx, action)
	if err != nil {
		if line, ok := bot.Refusal(err); ok {
			// Teams shows this text as it is: Markdown would show its escapes.
			return MessageResponse(PlainText(line))
		}
		a.logger.Warn("a click on a Teams card could not be carried out", "verb", action.Verb, "err", err)
		return MessageResponse(PlainText(bot.Unrecorded(true)))
	}
	if l == nil {
		return MessageResponse("Done.")
	}
	if data[DataList] != "" {
		return a.listAnswer(ctx, act, sender, email)
	}
	if action.EventID != 0 {
		if v, ok, err := a.EscalationView(ctx, l, action.EventID); err == nil && ok {
			return cardAnswer(v)
		}
		return MessageResponse("Done. The message will update in a moment.")
	}
	v, err := a.CardView(ctx, l, email)
	if err != nil {
		return MessageResponse("Done. The card will update in a moment.")
	}
	return cardAnswer(v)
}

// listAnswer answers a click on a list of leads with the list as it is
// now: the person's home card when that is where they clicked, else their
// leads. Teams puts the answer in place of the card clicked, so the lead's
// own card would replace the whole list.
func (a *App) listAnswer(ctx context.Context, act *Activity, sender, email string) *InvokeResponse {
	command := "leads"
	home, err := a.store.ChatPostByKey(ctx, engine.PlatformTeams, PostKey(engine.PostKey{Kind: "home", Key: email}))
	if err == nil && act.ReplyToID != "" && home.MessageID == act.ReplyToID {
		command = "home"
	}
	r := a.Answer(ctx, sender, "sla", command)
	if len(r.Message.Blocks) == 0 {
		return MessageResponse("Done. The list will update in a moment.")
	}
	return cardAnswer(r.Message)
}

// cardAnswer answers a click with the redrawn card.
func cardAnswer(m view.Message) *InvokeResponse {
	card := Render(m)
	if _, err := card.JSON(); err != nil {
		return MessageResponse("Done. The card will update in a moment.")
	}
	return CardResponse(card)
}

// actionOf reads a click: the verb of the button, the row it sits in and
// its value, and a submitted form's inputs.
func actionOf(actor engine.Actor, verb string, data map[string]string) (bot.Action, bool) {
	row, value := data[DataRow], data[DataValue]
	inputs := FormInputs(data)
	if bot.IsForm(verb) {
		leadID, err := strconv.ParseInt(value, 10, 64)
		if err != nil || leadID <= 0 {
			return bot.Action{}, false
		}
		for k, v := range inputs {
			inputs[k] = strings.TrimSpace(v)
		}
		return bot.Action{Actor: actor, Verb: verb, LeadID: leadID, Inputs: inputs}, true
	}
	if kind, ok := inputs[InputTouchKind]; ok {
		value = kind
	}
	action, ok := bot.ActionOn(actor, row, verb, value)
	if !ok || bot.NeedsForm(action.Verb) {
		return bot.Action{}, false
	}
	return action, true
}

// JobMessage is the durable job that answers a message typed to slabot.
const JobMessage = "teams.message"

// MessageArgs: a message typed to slabot, as it arrived.
type MessageArgs struct {
	ActivityID string `json:"activity_id"`
	// UserID is the sender's Entra object id; "" for someone slabot
	// cannot tell, who is answered as a stranger.
	UserID string `json:"user_id"`
	// Text is the command, with each person mentioned as a marker
	// (mentionMarker) standing for Mentions[i].
	Text           string    `json:"text"`
	Mentions       []Mention `json:"mentions,omitempty"`
	ConversationID string    `json:"conversation_id"`
	ServiceURL     string    `json:"service_url,omitempty"`
	Personal       bool      `json:"personal"`
}

func (MessageArgs) Kind() string  { return JobMessage }
func (MessageArgs) Queue() string { return engine.QueuePeople }

// onMessage records a message typed to slabot as a durable job, so the
// answer survives a crash; a message slabot cannot record is answered at
// once with a request to send it again.
func (a *App) onMessage(ctx context.Context, act *Activity, sender string) error {
	if act.Conversation == nil || act.From == nil {
		return nil
	}
	botID := a.tr.Connector.BotID()
	if act.Recipient != nil && act.Recipient.ID != "" {
		botID = act.Recipient.ID
	}
	text, mentions := CommandWithMentions(act, botID)
	ref := act.Reference()
	job := engine.Job{UniqueKey: "teams:" + act.ID, Args: MessageArgs{ActivityID: act.ID, UserID: sender, Text: text,
		Mentions: mentions, ConversationID: BaseConversationID(ref.ConversationID), ServiceURL: ref.ServiceURL,
		Personal: ref.ConversationType == ConversationPersonal}}
	quick, cancel := context.WithTimeout(ctx, a.recordWithin)
	err := a.store.InTx(quick, func(tx engine.Tx) error {
		_, err := tx.Enqueue(quick, job)
		return err
	})
	cancel()
	if err == nil {
		return nil
	}
	a.logger.Warn("could not record a message to slabot in time; asking to send it again", "err", err)
	reply := &Activity{Type: ActivityMessage, Text: PlainText(bot.Unrecorded(false))}
	_, sendErr := a.tr.Connector.SendActivity(context.WithoutCancel(ctx), ref.ServiceURL, ref.ConversationID, reply)
	return sendErr
}

// lookUpMember asks the connector who a member id is: in the
// conversation the message came from, else (a 1:1 chat holds only its
// person) in each team slabot is in, whose id serves as a conversation id
// for its members (TeamsInfo.GetTeamMemberAsync in the Bot Framework SDK).
func (a *App) lookUpMember(ctx context.Context, args MessageArgs, memberID string) (Member, error) {
	where := []engine.ChatChannel{{ID: args.ConversationID, ServiceURL: args.ServiceURL}}
	teams, err := a.store.ChatTeams(ctx, engine.PlatformTeams)
	if err != nil {
		return Member{}, err
	}
	where = append(where, teams...)
	for _, c := range where {
		member, err := a.tr.Connector.Member(ctx, c.ServiceURL, c.ID, memberID)
		var apiErr *APIError
		switch {
		case err == nil:
			return member, nil
		case errors.As(err, &apiErr) && (apiErr.Status == http.StatusNotFound || apiErr.Status == http.StatusForbidden),
			errors.Is(err, ErrNotInstalled), errors.Is(err, ErrConversationNotFound):
			continue // not a member there, or slabot is not in it any more
		default:
			return Member{}, err
		}
	}
	return Member{}, engine.Errorf(engine.ENOTFOUND, "no conversation slabot is in has that member")
}

// withPeople puts the core's person token (bot.PersonToken) in place of
// the marker of each person a message mentions, the one form of a
// mention the command grammar takes; or, when someone cannot be told, the
// answer to send instead.
func (a *App) withPeople(ctx context.Context, args MessageArgs) (string, *bot.Reply, error) {
	userIDs := make([]string, len(args.Mentions))
	for i, m := range args.Mentions {
		userID, err := a.mentionedUser(ctx, args, m)
		if err == nil {
			// Only someone the directory knows by email can be acted on;
			// the core finds them again from what this stores.
			_, err = a.EmailOf(ctx, userID)
		}
		if engine.ErrorCode(err) == engine.ENOTFOUND || errors.Is(err, ErrNotInstalled) || errors.Is(err, ErrConversationNotFound) {
			line := fmt.Sprintf("slabot cannot tell who %s is in your organisation's Microsoft 365 directory, so it cannot act on them. Mention someone slabot works with, or type their email.", m.Name)
			return "", &bot.Reply{Message: view.Message{Summary: line, Blocks: []view.Block{view.Section{Lines: []view.Text{view.T(line)}}}}}, nil
		}
		if err != nil {
			return "", nil, err
		}
		userIDs[i] = userID
	}
	return MentionsAsPeople(args.Text, args.Mentions, userIDs), nil, nil
}

// mentionedUser finds the Entra object id of a person mentioned (the user
// id Chat.FindPersonByID takes): the mention's Teams id through the
// members slabot keeps, else through the connector's member lookup.
func (a *App) mentionedUser(ctx context.Context, args MessageArgs, m Mention) (string, error) {
	objectID := ""
	switch {
	case IsGUID(m.ID):
		objectID = strings.ToLower(m.ID)
	case strings.HasPrefix(m.ID, "29:"):
		id, err := a.store.UserIDOfMember(ctx, engine.PlatformTeams, m.ID)
		if err != nil && engine.ErrorCode(err) != engine.ENOTFOUND {
			return "", err
		}
		objectID = id
		if objectID == "" {
			member, err := a.lookUpMember(ctx, args, m.ID)
			if err != nil {
				return "", err
			}
			if !IsGUID(member.AADObjectID) || (member.TenantID != "" && !strings.EqualFold(member.TenantID, a.tr.Config.TenantID)) {
				return "", engine.Errorf(engine.ENOTFOUND, "the member has no account in this tenant")
			}
			objectID = strings.ToLower(member.AADObjectID)
			if err := a.store.TieMember(ctx, engine.PlatformTeams, m.ID, objectID); err != nil {
				return "", err
			}
		}
	default:
		return "", engine.Errorf(engine.ENOTFOUND, "not a person")
	}
	return objectID, nil
}

// answerMessage answers a recorded message: in the person's 1:1 chat, or,
// shared, where it was typed.
func (a *App) answerMessage(ctx context.Context, _ engine.Job, args MessageArgs) error {
	var r bot.Reply
	text, refusal, err := a.withPeople(ctx, args)
	switch {
	case err != nil:
		return err
	case refusal != nil:
		r = *refusal
	default:
		r = a.Answer(ctx, args.UserID, "sla", text)
	}
	id, err := a.store.ChatIdentityByUserID(ctx, engine.PlatformTeams, args.UserID)
	if engine.ErrorCode(err) == engine.ENOTFOUND {
		// Someone the directory does not know (the answer says so): it
		// goes where they wrote, as slabot has no chat of theirs.
		_, err = a.chat.Post(ctx, engine.Destination{Channel: args.ConversationID}, r.Message,
			engine.PostKey{Kind: "answer", Key: args.ActivityID})
		return err
	}
	if err != nil {
		return err
	}
	to := engine.Destination{Person: id}
	if r.Share && !args.Personal {
		to = engine.Destination{Channel: args.ConversationID}
	}
	if _, err := a.chat.Post(ctx, to, r.Message, engine.PostKey{Kind: "answer", Key: args.ActivityID}); err != nil {
		return err
	}
	if r.After != nil {
		if err := r.After(ctx); err != nil {
			a.logger.Error("a command's follow-up failed", "err", err)
			note := view.Message{Summary: engine.ErrorMessage(err), Blocks: []view.Block{view.Section{Lines: []view.Text{
				bot.FollowUpFailed(err)}}}}
			_, err = a.chat.Post(ctx, engine.Destination{Person: id}, note, engine.PostKey{Kind: "answer_followup", Key: args.ActivityID})
			return err
		}
	}
	return nil
}

// onAdded learns the channels of a team slabot was added to, so the
// policy can name them, and shows a person who installed slabot their
// home card.
func (a *App) onAdded(ctx context.Context, act *Activity, sender string) error {
	ref := act.Reference()
	if act.ChannelData != nil && act.ChannelData.Team != nil && act.ChannelData.Team.ID != "" {
		return a.learnChannels(ctx, ref.ServiceURL, ref.TenantID, *act.ChannelData.Team)
	}
	if ref.ConversationType == ConversationPersonal && sender != "" {
		return a.OpenHome(ctx, sender)
	}
	return nil
}

// learnChannels records a team's channels as Teams lists them now, and
// forgets those of the team it no longer lists (deleted while slabot
// missed the event).
func (a *App) learnChannels(ctx context.Context, serviceURL, tenantID string, team TeamInfo) error {
	channels, err := a.tr.Connector.TeamChannels(ctx, serviceURL, team.ID)
	if err != nil {
		return fmt.Errorf("teams: list the channels of a team slabot was added to: %w", err)
	}
	listed := map[string]bool{}
	for _, ch := range channels {
		listed[ch.ID] = true
		name := ch.Name
		if name == "" {
			name = "General" // Teams leaves the General channel unnamed
		}
		if err := a.store.SaveChatChannel(ctx, &engine.ChatChannel{Platform: engine.PlatformTeams, ID: ch.ID, Name: name,
			TeamID: team.ID, TeamName: team.Name, ServiceURL: serviceURL, TenantID: tenantID}); err != nil {
			return err
		}
	}
	a.logger.Info("learnt the channels of a team slabot was added to", "channels", len(channels))
	known, err := a.store.ChatChannelsOfTeam(ctx, engine.PlatformTeams, team.ID)
	if err != nil {
		return err
	}
	var stale []string
	for _, c := range known {
		if !listed[c.ID] {
			stale = append(stale, c.ID)
		}
	}
	return a.channelsGone(ctx, stale, fmt.Sprintf("the team %q no longer has it", team.Name))
}

// SyncDirectory checks every rep against the Microsoft 365 directory
// (bot.Bot's SyncDirectory decides): a rep whose account was disabled
// leaves the rotation and their open leads are escalated; a rep whose
// account is enabled again rejoins it.
func (a *App) SyncDirectory(ctx context.Context) error {
	return a.Bot.SyncDirectory(ctx, bot.Directory{Name: "Microsoft 365", LeftBecause: "their Microsoft 365 account was disabled",
		Account: func(ctx context.Context, r engine.Rep) (bot.Account, error) {
			u, err := a.tr.Graph.UserByEmail(ctx, r.Email)
			switch {
			case errors.Is(err, ErrUnknownPerson):
				return bot.AccountUnknown, nil // a typo in the policy, which the hand-off alert reports
			case err != nil:
				return bot.AccountUnknown, err
			case !u.AccountEnabled:
				return bot.AccountDisabled, nil
			}
			return bot.AccountActive, nil
		}})
}
