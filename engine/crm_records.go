package engine

import (
	"fmt"
	"time"
)

// The CRM loop's records: an event's delivery to one webhook endpoint and
// how each attempt went, and what is known of an event's HubSpot object.
// They live beside the events they carry (crm_events.go) so the senders in
// crm/ depend on these types and on the small stores they declare, not on
// storage.

// Delivery states of a WebhookDelivery.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryParked    = "parked"
)

// WebhookDelivery is one event for one endpoint.
type WebhookDelivery struct {
	ID        int64
	Endpoint  string
	Subject   string
	EventID   int64
	EventType string
	// MsgID is the webhook-id, the same on every attempt.
	MsgID string
	// Body is the JSON sent, byte for byte the same on every attempt.
	Body         []byte
	State        string
	Attempts     int
	Redeliveries int
	CreatedAt    time.Time
	// RetryFrom starts the retry window.
	RetryFrom     time.Time
	NextAttemptAt time.Time
	LastAttemptAt time.Time
	LastStatus    int
	LastError     string
	DeliveredAt   time.Time
	ParkedAt      time.Time
}

// WebhookAttempt is how one attempt went.
type WebhookAttempt struct {
	At     time.Time
	Status int
	Error  string
	// State is the delivery's state after it; NextAt when it is tried
	// again (pending only).
	State  string
	NextAt time.Time
}

// String names a delivery for logs and the operator.
func (d WebhookDelivery) String() string {
	return fmt.Sprintf("delivery %d (%s of %s)", d.ID, d.EventType, d.Subject)
}

// HubSpotWrite is what is known of one event's HubSpot object.
type HubSpotWrite struct {
	EventKey   string
	ObjectType string
	Marker     string
	// SentAt is set when a create was sent and its answer may be lost.
	SentAt time.Time
	// Searches counts the looks for the object since that create.
	Searches   int
	ObjectID   string
	Associated bool
	Done       bool
	Outcome    string
}
