package teams

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slabot/slabot/engine"
)

// Activity types and invoke names Teams sends or the bot sends.
const (
	ActivityMessage            = "message"
	ActivityInvoke             = "invoke"
	ActivityConversationUpdate = "conversationUpdate"
	ActivityInstallationUpdate = "installationUpdate"
	ActivityMessageReaction    = "messageReaction"

	// InvokeAdaptiveCardAction is the name of the invoke a click on an
	// Action.Execute button arrives as.
	InvokeAdaptiveCardAction = "adaptiveCard/action"

	// ChannelMSTeams is the channelId of every activity from Teams.
	ChannelMSTeams = "msteams"

	// Conversation types of Conversation.ConversationType.
	ConversationPersonal  = "personal"
	ConversationChannel   = "channel"
	ConversationGroupChat = "groupChat"

	// InstallationAdd and InstallationRemove are the actions of an
	// installationUpdate activity.
	InstallationAdd    = "add"
	InstallationRemove = "remove"
)

// Activity is the subset of the Bot Framework Activity that Teams uses, for
// both directions: decoded from POST /api/messages and encoded when the bot
// sends or updates a message.
type Activity struct {
	Type          string          `json:"type"`
	ID            string          `json:"id,omitempty"`
	Timestamp     *time.Time      `json:"timestamp,omitempty"`
	LocalTimezone string          `json:"localTimezone,omitempty"`
	ServiceURL    string          `json:"serviceUrl,omitempty"`
	ChannelID     string          `json:"channelId,omitempty"`
	From          *Account        `json:"from,omitempty"`
	Conversation  *Conversation   `json:"conversation,omitempty"`
	Recipient     *Account        `json:"recipient,omitempty"`
	TextFormat    string          `json:"textFormat,omitempty"`
	Text          string          `json:"text,omitempty"`
	Summary       string          `json:"summary,omitempty"`
	Value         json.RawMessage `json:"value,omitempty"`
	Name          string          `json:"name,omitempty"`
	ReplyToID     string          `json:"replyToId,omitempty"`
	ChannelData   *ChannelData    `json:"channelData,omitempty"`
	MembersAdded  []Account       `json:"membersAdded,omitempty"`
	// MembersRemoved lists who left a conversation (the bot itself when it
	// is removed from a team).
	MembersRemoved []Account `json:"membersRemoved,omitempty"`
	// Action is "add" or "remove" on an installationUpdate.
	Action      string       `json:"action,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// Entities carry, among others, the mentions in Text.
	Entities []Entity `json:"entities,omitempty"`
	// AttachmentLayout is "list" (default) or "carousel".
	AttachmentLayout string `json:"attachmentLayout,omitempty"`
}

// Entity is an entity of an activity; of those, slabot reads mentions:
// Type "mention", Text the <at>…</at> tag as it is in the activity's text,
// Mentioned the account it names.
type Entity struct {
	Type      string   `json:"type"`
	Text      string   `json:"text,omitempty"`
	Mentioned *Account `json:"mentioned,omitempty"`
}

// Account is a user or a bot in a conversation. On Teams ID is the
// "29:…" id of a person or the "28:{app id}" of a bot.
type Account struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	AADObjectID string `json:"aadObjectId,omitempty"`
	Role        string `json:"role,omitempty"`
}

// Conversation identifies a 1:1 chat ("a:…"), a channel ("19:…@thread.tacv2")
// or a group chat.
type Conversation struct {
	ID               string `json:"id"`
	ConversationType string `json:"conversationType,omitempty"`
	TenantID         string `json:"tenantId,omitempty"`
	IsGroup          bool   `json:"isGroup,omitempty"`
	Name             string `json:"name,omitempty"`
}

// ChannelData is the Teams-specific part of an activity.
type ChannelData struct {
	Tenant    *TenantInfo  `json:"tenant,omitempty"`
	Team      *TeamInfo    `json:"team,omitempty"`
	Channel   *ChannelInfo `json:"channel,omitempty"`
	EventType string       `json:"eventType,omitempty"`
}

// TenantInfo names the Entra tenant.
type TenantInfo struct {
	ID string `json:"id"`
}

// TeamInfo names a team; ID is the team's thread id (that of its General
// channel), AADGroupID its Microsoft 365 group.
type TeamInfo struct {
	ID         string `json:"id"`
	Name       string `json:"name,omitempty"`
	AADGroupID string `json:"aadGroupId,omitempty"`
}

// ChannelInfo names a channel of a team. Teams leaves Name empty for the
// General channel, whose id is the team's id.
type ChannelInfo struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// Attachment is a card or file on an activity.
type Attachment struct {
	ContentType string `json:"contentType"`
	ContentURL  string `json:"contentUrl,omitempty"`
	Content     any    `json:"content,omitempty"`
	Name        string `json:"name,omitempty"`
}

// BaseConversationID drops the ";messageid=…" Teams appends to the id of
// a channel conversation when the activity is in a reply thread, leaving
// the channel's id.
func BaseConversationID(id string) string {
	base, _, _ := strings.Cut(id, ";messageid=")
	return base
}

// TenantID returns the tenant of the activity, from channelData or the
// conversation.
func (a *Activity) TenantID() string {
	if a.ChannelData != nil && a.ChannelData.Tenant != nil && a.ChannelData.Tenant.ID != "" {
		return a.ChannelData.Tenant.ID
	}
	if a.Conversation != nil {
		return a.Conversation.TenantID
	}
	return ""
}

// inTenant reports whether the activity names a tenant and every tenant
// it names (channelData.tenant.id, conversation.tenantId) is tenantID.
func (a *Activity) inTenant(tenantID string) bool {
	var named []string
	if a.ChannelData != nil && a.ChannelData.Tenant != nil && a.ChannelData.Tenant.ID != "" {
		named = append(named, a.ChannelData.Tenant.ID)
	}
	if a.Conversation != nil && a.Conversation.TenantID != "" {
		named = append(named, a.Conversation.TenantID)
	}
	for _, t := range named {
		if !strings.EqualFold(t, tenantID) {
			return false
		}
	}
	return len(named) > 0
}

// IsAdaptiveCardAction reports whether a is a click on an Action.Execute.
func (a *Activity) IsAdaptiveCardAction() bool {
	return a.Type == ActivityInvoke && a.Name == InvokeAdaptiveCardAction
}

// CardAction is the value of an adaptiveCard/action invoke: the verb of
// the button and its data, with the card's input values merged in.
type CardAction struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Verb    string          `json:"verb"`
	Data    json.RawMessage `json:"data,omitempty"`
	Trigger string          `json:"-"`
}

// ErrNotCardAction is returned by CardAction for an activity that is not an
// adaptiveCard/action invoke.
var ErrNotCardAction = errors.New("teams: activity is not an adaptiveCard/action invoke")

// CardAction decodes the Action.Execute of an adaptiveCard/action invoke.
func (a *Activity) CardAction() (*CardAction, error) {
	if !a.IsAdaptiveCardAction() {
		return nil, ErrNotCardAction
	}
	var value struct {
		Action  CardAction `json:"action"`
		Trigger string     `json:"trigger"`
	}
	if err := json.Unmarshal(a.Value, &value); err != nil {
		return nil, fmt.Errorf("teams: decode adaptiveCard/action value: %w", err)
	}
	if value.Action.Verb == "" {
		return nil, errors.New("teams: adaptiveCard/action without a verb")
	}
	value.Action.Trigger = value.Trigger
	return &value.Action, nil
}

// Strings decodes the action's data as a flat object of strings (the shape
// Action.Execute data and input values have); other values are rendered
// as JSON text.
func (c *CardAction) Strings() (map[string]string, error) {
	out := map[string]string{}
	if len(c.Data) == 0 {
		return out, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(c.Data, &raw); err != nil {
		return nil, fmt.Errorf("teams: decode action data: %w", err)
	}
	for k, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			out[k] = s
			continue
		}
		out[k] = string(v)
	}
	return out, nil
}

// ConversationReference is what the bot keeps to reach a conversation
// again later (proactively): where it is, through which connector, and who
// is on the other side of a 1:1 chat.
type ConversationReference struct {
	ConversationID   string `json:"conversationId"`
	ConversationType string `json:"conversationType,omitempty"`
	ServiceURL       string `json:"serviceUrl"`
	TenantID         string `json:"tenantId"`
	// BotID is the bot's id in the conversation, "28:{app id}".
	BotID string `json:"botId,omitempty"`
	// UserID is the person's "29:…" id; AADObjectID their Entra object id.
	UserID      string `json:"userId,omitempty"`
	AADObjectID string `json:"aadObjectId,omitempty"`
	UserName    string `json:"userName,omitempty"`
	// TeamID is set for channel conversations.
	TeamID string `json:"teamId,omitempty"`
}

// Reference returns the conversation reference an inbound activity
// carries: the conversation, its service URL (which may change over time:
// store it again from every activity) and the sender.
func (a *Activity) Reference() ConversationReference {
	ref := ConversationReference{ServiceURL: a.ServiceURL, TenantID: a.TenantID()}
	if a.Conversation != nil {
		ref.ConversationID = a.Conversation.ID
		ref.ConversationType = a.Conversation.ConversationType
	}
	if a.Recipient != nil {
		ref.BotID = a.Recipient.ID
	}
	if a.From != nil {
		ref.UserID = a.From.ID
		ref.AADObjectID = a.From.AADObjectID
		ref.UserName = a.From.Name
	}
	if a.ChannelData != nil && a.ChannelData.Team != nil {
		ref.TeamID = a.ChannelData.Team.ID
	}
	return ref
}

// ChatIdentity returns the engine's view of the person on the other side
// of a personal conversation. UserID is the Entra object id when known
// (the stable id Graph also uses), else the 29: id.
func (r ConversationReference) ChatIdentity(email, timeZone string) engine.ChatIdentity {
	userID := r.AADObjectID
	if userID == "" && strings.HasPrefix(r.UserID, "29:") {
		userID = r.UserID
	}
	return engine.ChatIdentity{
		Platform:       engine.PlatformTeams,
		Email:          email,
		UserID:         userID,
		ConversationID: r.ConversationID,
		ServiceURL:     r.ServiceURL,
		TenantID:       r.TenantID,
		TimeZone:       timeZone,
		Name:           r.UserName,
	}
}

// SenderID returns who sent or clicked as Entra says: the sender's
// object id, a GUID, or "" when the activity carries none. from.id is no
// identity on its own: some Bot Framework channels let the client choose
// it, and Graph would resolve a sign-in name put there. (A 29: id slabot
// has already tied to an object id is resolved by the App.) Never infer
// the actor from whose chat it is.
func (a *Activity) SenderID() string {
	if a.From == nil || !IsGUID(a.From.AADObjectID) {
		return ""
	}
	return strings.ToLower(a.From.AADObjectID)
}

// MemberID returns the sender's Teams member id ("29:…"), or "".
func (a *Activity) MemberID() string {
	if a.From == nil || !strings.HasPrefix(a.From.ID, "29:") {
		return ""
	}
	return a.From.ID
}

// BotAdded reports whether the bot itself is among the members added by a
// conversationUpdate (the bot was added to a team or a chat).
func (a *Activity) BotAdded() bool {
	return a.Type == ActivityConversationUpdate && a.Recipient != nil && containsAccount(a.MembersAdded, a.Recipient.ID)
}

// BotRemoved reports whether the bot itself was removed from the
// conversation.
func (a *Activity) BotRemoved() bool {
	return a.Type == ActivityConversationUpdate && a.Recipient != nil && containsAccount(a.MembersRemoved, a.Recipient.ID)
}

// eventType is channelData's eventType ("" when there is none).
func (a *Activity) eventType() string {
	if a.ChannelData == nil {
		return ""
	}
	return a.ChannelData.EventType
}

// team is the team the activity is in (nil outside a team).
func (a *Activity) team() *TeamInfo {
	if a.ChannelData == nil || a.ChannelData.Team == nil || a.ChannelData.Team.ID == "" {
		return nil
	}
	return a.ChannelData.Team
}

func containsAccount(accounts []Account, id string) bool {
	for _, m := range accounts {
		if m.ID == id {
			return true
		}
	}
	return false
}
