package teamsfake

import (
	"encoding/json"
	"time"
)

// Activity is a Bot Framework activity as the fake sends and records it.
type Activity struct {
	Type           string          `json:"type"`
	ID             string          `json:"id,omitempty"`
	Timestamp      *time.Time      `json:"timestamp,omitempty"`
	ServiceURL     string          `json:"serviceUrl,omitempty"`
	ChannelID      string          `json:"channelId,omitempty"`
	From           *Account        `json:"from,omitempty"`
	Conversation   *Conversation   `json:"conversation,omitempty"`
	Recipient      *Account        `json:"recipient,omitempty"`
	Text           string          `json:"text,omitempty"`
	TextFormat     string          `json:"textFormat,omitempty"`
	Summary        string          `json:"summary,omitempty"`
	Name           string          `json:"name,omitempty"`
	Value          json.RawMessage `json:"value,omitempty"`
	ReplyToID      string          `json:"replyToId,omitempty"`
	Action         string          `json:"action,omitempty"`
	ChannelData    json.RawMessage `json:"channelData,omitempty"`
	MembersAdded   []Account       `json:"membersAdded,omitempty"`
	MembersRemoved []Account       `json:"membersRemoved,omitempty"`
	Attachments    []Attachment    `json:"attachments,omitempty"`
	Entities       []Entity        `json:"entities,omitempty"`
	LocalTimezone  string          `json:"localTimezone,omitempty"`
}

// Entity is an entity of an activity; the fake sends mentions.
type Entity struct {
	Type      string   `json:"type"`
	Text      string   `json:"text,omitempty"`
	Mentioned *Account `json:"mentioned,omitempty"`
}

// Account is a person or bot in an activity.
type Account struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	AADObjectID string `json:"aadObjectId,omitempty"`
}

// Conversation names a conversation in an activity.
type Conversation struct {
	ID               string `json:"id"`
	ConversationType string `json:"conversationType,omitempty"`
	TenantID         string `json:"tenantId,omitempty"`
	IsGroup          bool   `json:"isGroup,omitempty"`
}

// Attachment is a card or file on an activity.
type Attachment struct {
	ContentType string          `json:"contentType"`
	ContentURL  string          `json:"contentUrl,omitempty"`
	Content     json.RawMessage `json:"content,omitempty"`
	Name        string          `json:"name,omitempty"`
}

// Card is an Adaptive Card as JSON.
type Card = map[string]any

// Cards returns the Adaptive Cards attached to the activity.
func (a *Activity) Cards() []Card {
	var cards []Card
	for _, att := range a.Attachments {
		if att.ContentType != "application/vnd.microsoft.card.adaptive" {
			continue
		}
		var c Card
		if json.Unmarshal(att.Content, &c) == nil {
			cards = append(cards, c)
		}
	}
	return cards
}

// BotResponse is the bot's HTTP answer to an activity the fake POSTed.
type BotResponse struct {
	Status int
	Body   []byte
}

// InvokeResult is the bot's answer to a click (an adaptiveCard/action
// invoke): the HTTP status and the decoded AdaptiveCardInvokeResponse.
type InvokeResult struct {
	HTTPStatus int
	StatusCode int
	Type       string
	// Card is the redrawn card when Type is the card content type.
	Card Card
	// Message is the text when Type is the message content type.
	Message string
	Body    []byte
}
