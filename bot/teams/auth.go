package teams

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BotFrameworkIssuer is the only issuer of tokens on activities from the
// Bot Connector.
const BotFrameworkIssuer = "https://api.botframework.com"

// TokenLeeway is the clock skew allowed on exp and nbf.
const TokenLeeway = 5 * time.Minute

// ErrUnauthorized is matched (errors.Is) by every verification failure:
// the request must be answered 401 and nothing recorded.
var ErrUnauthorized = errors.New("teams: unauthorized")

// AuthError says why an inbound request was refused. It matches
// ErrUnauthorized.
type AuthError struct {
	Reason string
	Err    error
}

func (e *AuthError) Error() string {
	if e.Err != nil {
		return "teams: unauthorized: " + e.Reason + ": " + e.Err.Error()
	}
	return "teams: unauthorized: " + e.Reason
}

func (e *AuthError) Unwrap() error { return e.Err }

// Is makes every AuthError match ErrUnauthorized.
func (e *AuthError) Is(target error) bool { return target == ErrUnauthorized }

func unauthorized(reason string, err error) error { return &AuthError{Reason: reason, Err: err} }

// Claims are the claims of a verified Bot Framework token.
type Claims struct {
	jwt.RegisteredClaims
	ServiceURL string `json:"serviceurl"`
}

// VerifierOptions configure a Verifier.
type VerifierOptions struct {
	// AppID is the expected audience (TEAMS_APP_ID).
	AppID string
	// OpenIDMetadataURL is TEAMS_OPENID_METADATA_URL.
	OpenIDMetadataURL string
	// HTTPClient fetches metadata and keys (nil: a client with a 10 s timeout).
	HTTPClient *http.Client
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// KeyMaxAge is how long fetched keys are trusted before a refetch
	// (0: 24 h).
	KeyMaxAge time.Duration
	// MinRefetchInterval limits refetches on an unknown kid (0: 1 minute;
	// negative: no limit, for tests).
	MinRefetchInterval time.Duration
	Logger             *slog.Logger
}

// Verifier checks the Bot Framework JWT on inbound activities as Microsoft
// specifies for connector-to-bot calls.
type Verifier struct {
	appID  string
	now    func() time.Time
	keys   *keySet
	parser *jwt.Parser
}

// NewVerifier returns a verifier for tokens addressed to opts.AppID.
func NewVerifier(opts VerifierOptions) *Verifier {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	maxAge := opts.KeyMaxAge
	if maxAge == 0 {
		maxAge = 24 * time.Hour
	}
	minRefetch := opts.MinRefetchInterval
	switch {
	case minRefetch == 0:
		minRefetch = time.Minute
	case minRefetch < 0:
		minRefetch = 0
	}
	metadataURL := opts.OpenIDMetadataURL
	if metadataURL == "" {
		metadataURL = DefaultOpenIDMetadataURL
	}
	return &Verifier{
		appID: opts.AppID,
		now:   now,
		keys: &keySet{
			metadataURL: metadataURL, client: client, now: now,
			maxAge: maxAge, minRefetch: minRefetch, log: loggerOrDiscard(opts.Logger),
		},
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
			jwt.WithIssuer(BotFrameworkIssuer),
			jwt.WithAudience(opts.AppID),
			jwt.WithLeeway(TokenLeeway),
			jwt.WithExpirationRequired(),
			jwt.WithTimeFunc(now),
		),
	}
}

// Verify checks the Authorization header of a request carrying activity.
// Every failure is an *AuthError (errors.Is(err, ErrUnauthorized)).
func (v *Verifier) Verify(ctx context.Context, authorization string, activity *Activity) (*Claims, error) {
	raw, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, unauthorized("missing bearer token", nil)
	}
	if activity == nil {
		return nil, unauthorized("no activity", nil)
	}
	var key signingKey
	claims := &Claims{}
	_, err := v.parser.ParseWithClaims(strings.TrimSpace(raw), claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token has no kid")
		}
		k, err := v.keys.key(ctx, kid)
		if err != nil {
			return nil, err
		}
		key = k
		return k.public, nil
	})
	if err != nil {
		return nil, unauthorized("invalid token", err)
	}
	if claims.ServiceURL == "" {
		return nil, unauthorized("token has no serviceurl claim", nil)
	}
	if !sameServiceURL(claims.ServiceURL, activity.ServiceURL) {
		return nil, unauthorized("serviceurl claim does not match the activity's serviceUrl", nil)
	}
	if activity.ChannelID == "" || !key.endorses(activity.ChannelID) {
		return nil, unauthorized(fmt.Sprintf("signing key is not endorsed for channel %q", activity.ChannelID), nil)
	}
	return claims, nil
}

func sameServiceURL(a, b string) bool {
	return a != "" && strings.EqualFold(strings.TrimRight(a, "/"), strings.TrimRight(b, "/"))
}

func loggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return l
}
