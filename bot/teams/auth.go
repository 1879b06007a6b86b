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
// the request must be answered with the error's Status (401, or 403) and
// nothing recorded.
var ErrUnauthorized = errors.New("teams: unauthorized")

// AuthError says why an inbound request was refused. It matches
// ErrUnauthorized.
type AuthError struct {
	Reason string
	Err    error
	// Status is the HTTP answer: 401 for a token that does not prove the
	// Bot Connector sent the activity, 403 for a genuine token on an
	// activity slabot does not serve (a key not endorsed for the
	// activity's channel, another channel than Teams, another tenant).
	Status int
	// Issuer, Audience and KeyID are read, unverified, from the refused
	// token so that an admin can see a mismatch; never the token itself.
	Issuer, Audience, KeyID string
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

func unauthorized(reason string, err error) *AuthError {
	return &AuthError{Reason: reason, Err: err, Status: http.StatusUnauthorized}
}

func forbidden(reason string) *AuthError {
	return &AuthError{Reason: reason, Status: http.StatusForbidden}
}

// StatusOf is the HTTP status that answers a refused request: the
// AuthError's, else 401.
func StatusOf(err error) int {
	var ae *AuthError
	if errors.As(err, &ae) && ae.Status != 0 {
		return ae.Status
	}
	return http.StatusUnauthorized
}

// Claims are the claims of a verified Bot Framework token.
type Claims struct {
	jwt.RegisteredClaims
	ServiceURL string `json:"serviceurl"`
}

// VerifierOptions configure a Verifier.
type VerifierOptions struct {
	// AppID is the expected audience (TEAMS_APP_ID), compared in lower
	// case as Microsoft sends it.
	AppID string
	// TenantID (TEAMS_TENANT_ID), when set, is the only tenant whose
	// activities are accepted.
	TenantID string
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
	// ServiceURLHosts (TEAMS_SERVICE_URL_HOSTS) are the only hosts an
	// activity's serviceUrl may name (empty: DefaultServiceURLHosts).
	ServiceURLHosts []string
	Logger          *slog.Logger
}

// Verifier checks the Bot Framework JWT on inbound activities as Microsoft
// specifies for connector-to-bot calls.
type Verifier struct {
	appID    string
	tenantID string
	hosts    []string
	now      func() time.Time
	keys     *keySet
	parser   *jwt.Parser
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
	appID := strings.ToLower(strings.TrimSpace(opts.AppID))
	return &Verifier{
		appID:    appID,
		tenantID: strings.ToLower(strings.TrimSpace(opts.TenantID)),
		hosts:    normalHosts(opts.ServiceURLHosts),
		now:      now,
		keys: &keySet{
			metadataURL: metadataURL, client: client, now: now,
			maxAge: maxAge, minRefetch: minRefetch, log: loggerOrDiscard(opts.Logger),
		},
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
			jwt.WithIssuer(BotFrameworkIssuer),
			jwt.WithAudience(appID),
			jwt.WithLeeway(TokenLeeway),
			jwt.WithExpirationRequired(),
			jwt.WithTimeFunc(now),
		),
	}
}

// Verify checks the Authorization header of a request carrying activity,
// then that the activity is one slabot serves: from Teams, in its tenant.
// Every failure is an *AuthError (errors.Is(err, ErrUnauthorized)) whose
// Status answers the request.
func (v *Verifier) Verify(ctx context.Context, authorization string, activity *Activity) (*Claims, error) {
	raw, ok := strings.CutPrefix(authorization, "Bearer ")
	raw = strings.TrimSpace(raw)
	if !ok || raw == "" {
		return nil, unauthorized("missing bearer token", nil)
	}
	claims, err := v.verify(ctx, raw, activity)
	if err != nil {
		describeToken(raw, err)
		return nil, err
	}
	return claims, nil
}

func (v *Verifier) verify(ctx context.Context, raw string, activity *Activity) (*Claims, *AuthError) {
	if activity == nil {
		return nil, unauthorized("no activity", nil)
	}
	var key signingKey
	claims := &Claims{}
	_, err := v.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
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
	// The Bot Framework's authentication guide: a token whose signing key
	// is not endorsed for the activity's channelId is refused with 403
	// (MicrosoftDocs/bot-docs articles/rest-api/bot-framework-rest-connector-authentication.md,
	// "Step 3"). An activity without a channelId asserts nothing and is
	// refused below as not from Teams.
	if activity.ChannelID != "" && !key.endorses(activity.ChannelID) {
		return nil, forbidden(fmt.Sprintf("signing key is not endorsed for channel %q", activity.ChannelID))
	}
	// A genuine token may carry an activity from another Bot Framework
	// channel the registration has (Web Chat, Direct Line…) or from
	// another tenant (a registration Microsoft once allowed to be
	// multi-tenant): slabot serves Teams in its own tenant only.
	if activity.ChannelID != ChannelMSTeams {
		return nil, forbidden(fmt.Sprintf("activity is on channel %q, not Teams", activity.ChannelID))
	}
	if v.tenantID != "" && !activity.inTenant(v.tenantID) {
		return nil, forbidden("activity is not from this tenant (TEAMS_TENANT_ID)")
	}
	// Defence in depth behind the serviceurl claim: slabot answers at the
	// serviceUrl with its own token, so a serviceUrl off Microsoft's
	// connector hosts is refused before anything is recorded.
	if !ServiceURLAllowed(activity.ServiceURL, v.hosts) {
		return nil, forbidden("activity's serviceUrl is not on a Teams connector host (TEAMS_SERVICE_URL_HOSTS)")
	}
	return claims, nil
}

// describeToken copies the iss, aud and kid of a refused token into the
// error, read without verifying it: an admin comparing them with the
// settings finds a wrong TEAMS_APP_ID or metadata URL.
func describeToken(raw string, err *AuthError) {
	claims := jwt.MapClaims{}
	tok, _, perr := jwt.NewParser().ParseUnverified(raw, claims)
	if perr != nil {
		return
	}
	err.KeyID, _ = tok.Header["kid"].(string)
	err.Issuer, _ = claims["iss"].(string)
	if aud, aerr := claims.GetAudience(); aerr == nil {
		err.Audience = strings.Join(aud, " ")
	}
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
