package teams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/slabot/slabot/engine"
)

// TokenProvider hands out access tokens per scope (a *TokenSource).
type TokenProvider interface {
	Token(ctx context.Context, scope string) (string, error)
}

// ConnectorOptions configure a Connector.
type ConnectorOptions struct {
	// AppID is the bot's app id; the bot is "28:{AppID}" in conversations.
	AppID string
	// TenantID is the tenant conversations are created in.
	TenantID string
	// ServiceURL is TEAMS_SERVICE_URL, used when a call has none.
	ServiceURL string
	// ServiceURLHosts are the only hosts the connector token is sent to
	// (TEAMS_SERVICE_URL_HOSTS; empty: DefaultServiceURLHosts).
	ServiceURLHosts []string
	Tokens          TokenProvider
	HTTPClient      *http.Client
	// Pacer spaces sends and updates per conversation (nil: Teams limits).
	Pacer  *Pacer
	Now    func() time.Time
	Logger *slog.Logger
}

// Connector calls the Bot Connector REST API of Teams. Every method takes
// the service URL stored for the conversation (empty: TEAMS_SERVICE_URL).
type Connector struct {
	opts   ConnectorOptions
	client *http.Client
	pacer  *Pacer
	now    func() time.Time
	log    *slog.Logger
}

// NewConnector returns a connector client.
func NewConnector(opts ConnectorOptions) *Connector {
	c := &Connector{opts: opts, client: opts.HTTPClient, pacer: opts.Pacer, now: opts.Now, log: loggerOrDiscard(opts.Logger)}
	if c.client == nil {
		c.client = &http.Client{Timeout: 30 * time.Second}
	}
	if c.pacer == nil {
		c.pacer = NewPacer(PacerOptions{})
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.opts.ServiceURL == "" {
		c.opts.ServiceURL = DefaultServiceURL
	}
	c.opts.ServiceURLHosts = normalHosts(c.opts.ServiceURLHosts)
	return c
}

// BotID is the bot's account id in Teams conversations.
func (c *Connector) BotID() string { return "28:" + c.opts.AppID }

// Channel is one channel of a team. Teams leaves Name empty for the
// General channel, whose ID equals the team's.
type Channel struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

type createConversationRequest struct {
	IsGroup     bool         `json:"isGroup"`
	Bot         Account      `json:"bot"`
	Members     []Account    `json:"members"`
	TenantID    string       `json:"tenantId"`
	ChannelData *ChannelData `json:"channelData,omitempty"`
}

// CreateConversation opens (or finds again: the call is idempotent) the
// 1:1 chat between the bot and a person, named by their Entra object id or
// their 29: id, and returns the conversation id. A 403 means the app is
// not installed for them: errors.Is(err, ErrNotInstalled).
func (c *Connector) CreateConversation(ctx context.Context, serviceURL, memberID string) (string, error) {
	if memberID == "" {
		return "", errors.New("teams: create conversation: no member id")
	}
	body := createConversationRequest{
		Bot:         Account{ID: c.BotID()},
		Members:     []Account{{ID: memberID}},
		TenantID:    c.opts.TenantID,
		ChannelData: &ChannelData{Tenant: &TenantInfo{ID: c.opts.TenantID}},
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := c.do(ctx, http.MethodPost, serviceURL, "v3/conversations", body, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", errors.New("teams: create conversation: answer has no id")
	}
	return out.ID, nil
}

// SendActivity posts an activity (a message with text and/or card
// attachments) to a conversation, after the pacer allows it, and returns
// the new activity's id.
func (c *Connector) SendActivity(ctx context.Context, serviceURL, conversationID string, activity *Activity) (string, error) {
	if err := c.pacer.Wait(ctx, conversationID); err != nil {
		return "", fmt.Errorf("teams: send to conversation: %w", err)
	}
	var out struct {
		ID string `json:"id"`
	}
	path := "v3/conversations/" + url.PathEscape(conversationID) + "/activities"
	if err := c.do(ctx, http.MethodPost, serviceURL, path, outbound(activity), &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// UpdateActivity replaces a message the bot sent, in place for everyone
// in the conversation. It is paced like a send.
func (c *Connector) UpdateActivity(ctx context.Context, serviceURL, conversationID, activityID string, activity *Activity) error {
	if err := c.pacer.Wait(ctx, conversationID); err != nil {
		return fmt.Errorf("teams: update in conversation: %w", err)
	}
	a := outbound(activity)
	a.ID = activityID
	path := "v3/conversations/" + url.PathEscape(conversationID) + "/activities/" + url.PathEscape(activityID)
	return c.do(ctx, http.MethodPut, serviceURL, path, a, nil)
}

// TeamChannels lists the channels of a team the bot was added to; a 403
// (the bot is not, or no longer, in the team) is ErrNotInstalled.
func (c *Connector) TeamChannels(ctx context.Context, serviceURL, teamID string) ([]Channel, error) {
	var out struct {
		Conversations []Channel `json:"conversations"`
	}
	if err := c.do(ctx, http.MethodGet, serviceURL, "v3/teams/"+url.PathEscape(teamID)+"/conversations", nil, &out); err != nil {
		return nil, err
	}
	return out.Conversations, nil
}

// outbound copies activity with the defaults a bot message needs.
func outbound(activity *Activity) *Activity {
	a := *activity
	if a.Type == "" {
		a.Type = ActivityMessage
	}
	return &a
}

func (c *Connector) do(ctx context.Context, method, serviceURL, path string, body, out any) error {
	if serviceURL == "" {
		serviceURL = c.opts.ServiceURL
	}
	if !ServiceURLAllowed(serviceURL, c.opts.ServiceURLHosts) {
		// A stored serviceUrl off Microsoft's hosts never gets the token;
		// trying again would not change that.
		host := ""
		if u, err := url.Parse(serviceURL); err == nil {
			host = u.Host
		}
		c.log.Error("teams: refused to send the connector token to a host that is not a Teams connector host", "host", host, "method", method)
		return engine.DropJob(fmt.Errorf("teams: %s %s on %q: %w", method, path, host, ErrServiceURLNotAllowed))
	}
	token, err := c.opts.Tokens.Token(ctx, ScopeBotFramework)
	if err != nil {
		return fmt.Errorf("teams: %s %s: %w", method, path, err)
	}
	err = callJSON(ctx, c.client, apiCall{method: method, url: joinURL(serviceURL, path), token: token, name: path,
		body: body, connector: true, notFound: ErrConversationNotFound}, out, c.now)
	if apiErr, failed := errors.AsType[*APIError](err); failed {
		c.log.Debug("teams: connector call failed", "method", method, "status", apiErr.Status)
	}
	return err
}
