package teams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// GraphOptions configure a Graph client.
type GraphOptions struct {
	// BaseURL is TEAMS_GRAPH_URL.
	BaseURL string
	// AppID is the app's id, which is the externalId of the app in the
	// organisation's catalog (the manifest's id).
	AppID      string
	Tokens     TokenProvider
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
}

// Graph makes the few Microsoft Graph calls the bot needs: a person by
// email, the app's catalog id, and installing the app for a person.
type Graph struct {
	opts   GraphOptions
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	mu           sync.Mutex
	catalogAppID string
}

// NewGraph returns a Graph client.
func NewGraph(opts GraphOptions) *Graph {
	g := &Graph{opts: opts, client: opts.HTTPClient, now: opts.Now, log: loggerOrDiscard(opts.Logger)}
	if g.opts.BaseURL == "" {
		g.opts.BaseURL = DefaultGraphURL
	}
	if g.client == nil {
		g.client = &http.Client{Timeout: 30 * time.Second}
	}
	if g.now == nil {
		g.now = time.Now
	}
	return g
}

// User is a person in the directory.
type User struct {
	// ID is the Entra object id (the aadObjectId of activities).
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	Mail              string `json:"mail"`
	UserPrincipalName string `json:"userPrincipalName"`
	// AccountEnabled is false for a disabled account (an inactive rep).
	AccountEnabled bool `json:"accountEnabled"`
}

const userFields = "id,displayName,mail,userPrincipalName,accountEnabled"

// UserByEmail looks a person up by email: first as their user principal
// name (GET users/{email}), then, where the UPN differs from the mail
// address, by mail. Nobody found is errors.Is(err, ErrUnknownPerson).
func (g *Graph) UserByEmail(ctx context.Context, email string) (*User, error) {
	if email == "" {
		return nil, errors.New("teams: look up a person: no email")
	}
	var u User
	path := "users/" + url.PathEscape(email) + "?$select=" + userFields
	err := g.do(ctx, http.MethodGet, path, nil, &u, ErrUnknownPerson)
	if err == nil {
		return &u, nil
	}
	if !errors.Is(err, ErrUnknownPerson) {
		return nil, err
	}
	var found struct {
		Value []User `json:"value"`
	}
	filter := "mail eq '" + escapeODataString(email) + "'"
	path = "users?$filter=" + queryEscape(filter) + "&$select=" + userFields
	if err := g.do(ctx, http.MethodGet, path, nil, &found, nil); err != nil {
		return nil, err
	}
	if len(found.Value) == 0 {
		return nil, fmt.Errorf("teams: look up a person by mail: %w", ErrUnknownPerson)
	}
	return &found.Value[0], nil
}

// queryEscape escapes an OData query value with %20 for spaces.
func queryEscape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// AppCatalogID returns the id the organisation's catalog gave the app
// (not the app id itself); it is looked up once and cached.
func (g *Graph) AppCatalogID(ctx context.Context) (string, error) {
	g.mu.Lock()
	cached := g.catalogAppID
	g.mu.Unlock()
	if cached != "" {
		return cached, nil
	}
	filter := "externalId eq '" + escapeODataString(g.opts.AppID) + "'"
	path := "appCatalogs/teamsApps?$filter=" + queryEscape(filter)
	var out struct {
		Value []struct {
			ID         string `json:"id"`
			ExternalID string `json:"externalId"`
		} `json:"value"`
	}
	if err := g.do(ctx, http.MethodGet, path, nil, &out, nil); err != nil {
		return "", err
	}
	if len(out.Value) == 0 || out.Value[0].ID == "" {
		return "", ErrAppNotInCatalog
	}
	g.mu.Lock()
	g.catalogAppID = out.Value[0].ID
	g.mu.Unlock()
	return out.Value[0].ID, nil
}

// InstallApp installs the app in the personal scope of the person with the
// Entra object id userID. An app already installed (409) is success.
func (g *Graph) InstallApp(ctx context.Context, userID string) error {
	_, err := g.Install(ctx, userID)
	return err
}

// Install is InstallApp that also says whether the app was installed
// already (Graph's 409): a person who has it and still refuses slabot's
// writes blocked it.
func (g *Graph) Install(ctx context.Context, userID string) (already bool, err error) {
	catalogID, err := g.AppCatalogID(ctx)
	if err != nil {
		return false, fmt.Errorf("teams: install app: %w", err)
	}
	body := map[string]string{
		"teamsApp@odata.bind": joinURL(g.opts.BaseURL, "appCatalogs/teamsApps/"+url.PathEscape(catalogID)),
	}
	err = g.do(ctx, http.MethodPost, "users/"+url.PathEscape(userID)+"/teamwork/installedApps", body, nil, nil)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusConflict {
		return true, nil
	}
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound {
		return false, fmt.Errorf("%w (%w)", err, ErrUnknownPerson)
	}
	return false, err
}

func escapeODataString(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func (g *Graph) do(ctx context.Context, method, path string, body, out any, notFound error) error {
	token, err := g.opts.Tokens.Token(ctx, ScopeGraph)
	if err != nil {
		return fmt.Errorf("teams: graph %s: %w", method, err)
	}
	logPath, _, _ := cutQuery(path)
	return callJSON(ctx, g.client, apiCall{method: method, url: joinURL(g.opts.BaseURL, path), token: token,
		name: "graph " + graphPathForErrors(logPath), body: body, notFound: notFound}, out, g.now)
}

func cutQuery(path string) (string, string, bool) { return strings.Cut(path, "?") }

// graphPathForErrors keeps emails out of error messages (they end up in
// logs): "users/{email}" becomes "users/{id}".
func graphPathForErrors(path string) string {
	rest, ok := strings.CutPrefix(path, "users/")
	if !ok {
		return path
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return "users/{id}" + rest[i:]
	}
	return "users/{id}"
}
