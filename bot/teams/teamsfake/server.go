package teamsfake

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"
)

// Options configure the fake. Empty ids are generated.
type Options struct {
	AppID       string
	AppPassword string
	TenantID    string
	// TokenLifetime is the expires_in of issued access tokens (0: 1 h).
	TokenLifetime time.Duration
	// HTTPClient posts activities to the bot (nil: a 30 s client).
	HTTPClient *http.Client
}

// Server is the fake. Create it with New and Close it when done.
type Server struct {
	ts     *httptest.Server
	opts   Options
	client *http.Client

	mu           sync.Mutex
	changed      chan struct{}
	botEndpoint  string
	region       string
	keys         []*signingKey
	signer       *signingKey
	catalogID    string
	inCatalog    bool
	issued       map[string]issuedToken
	tokenCounts  map[string]int
	keyFetches   int
	people       map[string]*person // by lower-case email
	conversation map[string]*conversation
	teams        map[string]*team // by id
	seq          int64
	calls        []Call
	faults       faults
	rng          *mrand.Rand
	background   sync.WaitGroup

	// Inbound: held key fetches, member lookups (inbound.go).
	keysHeld      chan struct{} // non-nil: key fetches wait for it
	keysWaiting   int
	memberLookups int

	messageLimit int // the largest activity taken (SetMessageLimit)
}

// New starts a fake.
func New(opts Options) *Server {
	if opts.AppID == "" {
		opts.AppID = NewGUID()
	}
	if opts.AppPassword == "" {
		opts.AppPassword = "secret-" + randomHex(8)
	}
	if opts.TenantID == "" {
		opts.TenantID = NewGUID()
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = time.Hour
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	s := &Server{
		opts:         opts,
		client:       client,
		changed:      make(chan struct{}),
		region:       "teams",
		catalogID:    NewGUID(),
		inCatalog:    true,
		issued:       map[string]issuedToken{},
		tokenCounts:  map[string]int{},
		people:       map[string]*person{},
		conversation: map[string]*conversation{},
		teams:        map[string]*team{},
		rng:          mrand.New(mrand.NewPCG(1, 2)),
		messageLimit: DefaultMessageLimit,
	}
	s.signer = firstSigningKey()
	s.keys = []*signingKey{s.signer}
	mux := http.NewServeMux()
	s.routes(mux)
	s.ts = httptest.NewServer(mux)
	return s
}

func (s *Server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /botframework/v1/.well-known/openidconfiguration", s.serveMetadata)
	mux.HandleFunc("GET /botframework/v1/.well-known/keys", s.serveKeys)
	mux.HandleFunc("POST /login/{tenant}/oauth2/v2.0/token", s.serveToken)
	mux.HandleFunc("POST /smba/{region}/v3/conversations", s.connector(s.createConversation))
	mux.HandleFunc("POST /smba/{region}/v3/conversations/{conv}/activities", s.connector(s.sendActivity))
	mux.HandleFunc("PUT /smba/{region}/v3/conversations/{conv}/activities/{activity}", s.connector(s.updateActivity))
	mux.HandleFunc("GET /smba/{region}/v3/teams/{team}/conversations", s.connector(s.teamConversations))
	mux.HandleFunc("GET /smba/{region}/v3/conversations/{conv}/members/{member}", s.connector(s.getMember))
	mux.HandleFunc("GET /graph/v1.0/users", s.graph(s.listUsers))
	mux.HandleFunc("GET /graph/v1.0/users/{user}", s.graph(s.getUser))
	mux.HandleFunc("GET /graph/v1.0/appCatalogs/teamsApps", s.graph(s.listCatalogApps))
	mux.HandleFunc("POST /graph/v1.0/users/{user}/teamwork/installedApps", s.graph(s.installApp))
}

// Close waits for activities the fake is still posting and stops it.
func (s *Server) Close() {
	s.background.Wait()
	s.ts.Close()
}

// URL is the base URL of the fake.
func (s *Server) URL() string { return s.ts.URL }

// OpenIDMetadataURL is the value for TEAMS_OPENID_METADATA_URL.
func (s *Server) OpenIDMetadataURL() string {
	return s.ts.URL + "/botframework/v1/.well-known/openidconfiguration"
}

// LoginURL is the value for TEAMS_LOGIN_URL.
func (s *Server) LoginURL() string { return s.ts.URL + "/login/" }

// GraphURL is the value for TEAMS_GRAPH_URL.
func (s *Server) GraphURL() string { return s.ts.URL + "/graph/v1.0/" }

// ServiceURL is the connector URL Teams currently puts on activities (the
// value for TEAMS_SERVICE_URL until MoveServiceURL).
func (s *Server) ServiceURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.serviceURLLocked()
}

// ServiceURLHosts is the value for TEAMS_SERVICE_URL_HOSTS: the fake's
// loopback host, where every region's connector answers.
func (s *Server) ServiceURLHosts() []string {
	u, err := url.Parse(s.ts.URL)
	if err != nil {
		panic(err)
	}
	return []string{u.Hostname()}
}

func (s *Server) serviceURLLocked() string { return s.ts.URL + "/smba/" + s.region + "/" }

// AppID, AppPassword and TenantID are the app's credentials and tenant.
func (s *Server) AppID() string       { return s.opts.AppID }
func (s *Server) AppPassword() string { return s.opts.AppPassword }
func (s *Server) TenantID() string    { return s.opts.TenantID }

// BotID is the bot's account id in conversations, "28:{app id}".
func (s *Server) BotID() string { return "28:" + s.opts.AppID }

// SetBotEndpoint sets where activities are POSTed (the bot's
// https://host/api/messages).
func (s *Server) SetBotEndpoint(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.botEndpoint = url
}

// MoveServiceURL moves the tenant to another connector region: later
// activities and tokens carry the new serviceUrl. The old one keeps
// answering (as it does on Teams); Calls tells which one the bot used.
func (s *Server) MoveServiceURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.region == "teams" {
		s.region = "emea"
	} else {
		s.region = "teams"
	}
	return s.serviceURLLocked()
}

// NewGUID returns a random GUID.
func NewGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b)
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// notifyLocked wakes everyone waiting for a change; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) nextIDLocked() string {
	s.seq++
	return fmt.Sprintf("%d", 1700000000000+s.seq)
}
