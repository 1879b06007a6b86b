package teams

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Scopes of the outbound client-credentials tokens.
const (
	ScopeBotFramework = "https://api.botframework.com/.default"
	ScopeGraph        = "https://graph.microsoft.com/.default"
)

// TokenSourceOptions configure a TokenSource.
type TokenSourceOptions struct {
	// LoginURL, TenantID, AppID and AppPassword are the TEAMS_* values;
	// tokens come from {LoginURL}{TenantID}/oauth2/v2.0/token.
	LoginURL    string
	TenantID    string
	AppID       string
	AppPassword string
	HTTPClient  *http.Client
	Now         func() time.Time
	// RefreshBefore is how long before expiry a token is replaced
	// (0: 5 minutes, or a tenth of the lifetime if that is shorter).
	RefreshBefore time.Duration
	Logger        *slog.Logger
}

// TokenSource hands out client-credentials access tokens per scope,
// cached until shortly before they expire. It is safe for concurrent use;
// concurrent callers share one request per scope.
type TokenSource struct {
	opts     TokenSourceOptions
	endpoint string
	client   *http.Client
	now      func() time.Time
	log      *slog.Logger
	flight   singleflight.Group

	mu     sync.Mutex
	tokens map[string]cachedToken
}

type cachedToken struct {
	value     string
	refreshAt time.Time
}

// TokenError is a refusal from the token endpoint (a wrong secret, an
// unknown tenant, a scope not granted).
type TokenError struct {
	Status      int
	Code        string
	Description string
}

func (e *TokenError) Error() string {
	return fmt.Sprintf("teams: token endpoint answered %d %s: %s", e.Status, e.Code, e.Description)
}

// NewTokenSource returns a token source for the app.
func NewTokenSource(opts TokenSourceOptions) *TokenSource {
	loginURL := opts.LoginURL
	if loginURL == "" {
		loginURL = DefaultLoginURL
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &TokenSource{
		opts:     opts,
		endpoint: joinURL(loginURL, url.PathEscape(opts.TenantID)+"/oauth2/v2.0/token"),
		client:   client,
		now:      now,
		log:      loggerOrDiscard(opts.Logger),
		tokens:   map[string]cachedToken{},
	}
}

// Token returns a valid access token for scope.
func (s *TokenSource) Token(ctx context.Context, scope string) (string, error) {
	if tok, ok := s.cached(scope); ok {
		return tok, nil
	}
	ch := s.flight.DoChan(scope, func() (any, error) {
		if tok, ok := s.cached(scope); ok {
			return tok, nil
		}
		// The request is shared by every waiter, so it must not die with
		// the first caller's context.
		reqCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return s.fetch(reqCtx, scope)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return "", res.Err
		}
		return res.Val.(string), nil
	case <-ctx.Done():
		return "", fmt.Errorf("teams: waiting for a %s token: %w", scope, ctx.Err())
	}
}

// Check fetches (or reuses) a connector token: it tells whether the app's
// credentials work, for a readiness probe.
func (s *TokenSource) Check(ctx context.Context) error {
	_, err := s.Token(ctx, ScopeBotFramework)
	return err
}

func (s *TokenSource) cached(scope string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[scope]
	if !ok || !s.now().Before(t.refreshAt) {
		return "", false
	}
	return t.value, true
}

func (s *TokenSource) fetch(ctx context.Context, scope string) (string, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {s.opts.AppID},
		"client_secret": {s.opts.AppPassword},
		"scope":         {scope},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("teams: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	requestedAt := s.now()
	resp, err := s.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("teams: token request for %s: %w", scope, err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken      string          `json:"access_token"`
		ExpiresIn        json.RawMessage `json:"expires_in"`
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil && resp.StatusCode == http.StatusOK {
		return "", fmt.Errorf("teams: decode token response: %w", err)
	}
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		return "", &TokenError{Status: resp.StatusCode, Code: body.Error, Description: firstLine(body.ErrorDescription)}
	}
	lifetime := time.Duration(parseSeconds(body.ExpiresIn)) * time.Second
	if lifetime <= 0 {
		lifetime = time.Hour
	}
	margin := s.opts.RefreshBefore
	if margin <= 0 {
		margin = min(5*time.Minute, lifetime/10)
	}
	s.mu.Lock()
	s.tokens[scope] = cachedToken{value: body.AccessToken, refreshAt: requestedAt.Add(lifetime - margin)}
	s.mu.Unlock()
	s.log.Debug("teams: new access token", "scope", scope, "lifetime", lifetime)
	return body.AccessToken, nil
}

// parseSeconds reads expires_in, which Entra sends as a number (older
// endpoints as a string).
func parseSeconds(raw json.RawMessage) int64 {
	var n int64
	if json.Unmarshal(raw, &n) == nil {
		return n
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		_, _ = fmt.Sscan(s, &n)
	}
	return n
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}
