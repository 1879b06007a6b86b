package teamsfake

import (
	"strings"
	"time"
)

// Person is someone in the fake tenant.
type Person struct {
	Email string
	// UserPrincipalName is the sign-in name Graph finds the person by
	// (default: Email). Set it to something else to make GET users/{email}
	// miss, as in tenants whose UPNs are not mail addresses.
	UserPrincipalName string
	Name              string
	// AADObjectID is the Entra object id; UserID the "29:…" id. Both are
	// generated when empty.
	AADObjectID string
	UserID      string
	// Installed says the app is installed in the person's personal scope.
	Installed bool
	// Disabled makes Graph answer accountEnabled: false.
	Disabled bool
	// NotInDirectory makes Graph find nobody for the person, who can
	// still write to the bot (an account removed from the directory since).
	NotInDirectory bool
	// InstallBlocked makes a Graph install for the person fail with 403
	// (an app setup policy that forbids it).
	InstallBlocked bool
	// Blocked: the person blocked the bot in their 1:1 chat while the app
	// stays installed (connector.go says how Teams then answers).
	Blocked  bool
	TimeZone string
}

type person struct {
	Person
	conversationID string
}

// Channel is a channel of a team; the General channel has the team's id.
type Channel struct {
	ID   string
	Name string
}

// Team is a team in the fake tenant.
type Team struct {
	ID         string
	Name       string
	AADGroupID string
	Channels   []Channel
}

type team struct {
	Team
	botInstalled bool
}

// Recorded is an activity the bot sent, as the fake holds it now.
type Recorded struct {
	ConversationID string
	ServiceURL     string
	// At is when it was posted, Updates when it was replaced in place.
	At       time.Time
	Updates  []time.Time
	Activity Activity
}

type conversation struct {
	id         string
	kind       string // personal or channel
	email      string // the person of a personal conversation
	teamID     string
	activities []*Recorded
	views      map[string]Card // per person and activity id: the card an invoke answer showed them
}

// Call is one request the bot made to the connector or Graph.
type Call struct {
	At             time.Time
	Method         string
	Path           string
	ServiceURL     string
	ConversationID string
	Status         int
	// Size is the activity's size as Teams counts it (MessageSize), for
	// the writes of activities.
	Size int
}

func key(email string) string { return strings.ToLower(strings.TrimSpace(email)) }
