package teamsfake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

type signingKey struct {
	kid          string
	private      *rsa.PrivateKey
	endorsements []string
}

// newSigningKey is a new key pair under a new kid.
func newSigningKey() *signingKey {
	return &signingKey{kid: "fake-" + randomHex(6), private: generateKey(), endorsements: []string{"msteams"}}
}

// firstSigningKey is the key a new fake signs with: firstKey under a kid
// of its own.
func firstSigningKey() *signingKey {
	return &signingKey{kid: "fake-" + randomHex(6), private: firstKey(), endorsements: []string{"msteams"}}
}

// firstKey is the RSA key every fake starts with, generated once per
// process: a 2048-bit key takes tens of milliseconds to generate, and
// many times that under the race detector, which was a fifth of the CPU
// of bot/teams's tests when each fake made its own. A bot still trusts
// only its own fake's tokens: it looks a token's key up by kid in its
// fake's JWKS, and each fake publishes the key under a kid of its own.
// RotateKey, WithKid("unpublished") and WithForeignKey make new keys.
var firstKey = sync.OnceValue(generateKey)

func generateKey() *rsa.PrivateKey {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("teamsfake: generate RSA key: " + err.Error())
	}
	return priv
}

func (s *Server) serveMetadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                "https://api.botframework.com",
		"authorization_endpoint":                "https://invalid.botframework.com",
		"jwks_uri":                              s.ts.URL + "/botframework/v1/.well-known/keys",
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
	})
}

func (s *Server) serveKeys(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	held := s.keysHeld
	s.mu.Unlock()
	if held != nil {
		s.mu.Lock()
		s.keysWaiting++
		s.notifyLocked()
		s.mu.Unlock()
		select {
		case <-held:
		case <-r.Context().Done():
		}
		s.mu.Lock()
		s.keysWaiting--
		s.mu.Unlock()
		if r.Context().Err() != nil {
			return
		}
	}
	s.mu.Lock()
	s.keyFetches++
	keys := make([]map[string]any, 0, len(s.keys))
	for _, k := range s.keys {
		keys = append(keys, map[string]any{
			"kty":          "RSA",
			"use":          "sig",
			"kid":          k.kid,
			"n":            base64.RawURLEncoding.EncodeToString(k.private.N.Bytes()),
			"e":            base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.private.E)).Bytes()),
			"endorsements": append([]string(nil), k.endorsements...),
		})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// KeyFetches counts requests for the signing keys (JWKS).
func (s *Server) KeyFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keyFetches
}

// RotateKey signs from now on with a new key (new kid). With keepOld the
// old key stays published beside it, as during a real rollover.
func (s *Server) RotateKey(keepOld bool) (kid string) {
	k := newSigningKey()
	s.mu.Lock()
	defer s.mu.Unlock()
	if keepOld {
		s.keys = append(s.keys, k)
	} else {
		s.keys = []*signingKey{k}
	}
	s.signer = k
	return k.kid
}

// SetEndorsements replaces the endorsements of the signing key (default
// ["msteams"]).
func (s *Server) SetEndorsements(endorsements ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signer.endorsements = append([]string(nil), endorsements...)
}

// TokenOption alters the JWT the fake puts on an activity, for negative
// tests.
type TokenOption func(*tokenSpec)

type tokenSpec struct {
	claims  jwt.MapClaims
	method  string // RS256, none, HS256-public
	kid     string
	noToken bool
}

// WithClaims edits the claims before signing (set "aud", "iss", "exp",
// "serviceurl"…; delete to leave one out).
func WithClaims(edit func(jwt.MapClaims)) TokenOption {
	return func(t *tokenSpec) { edit(t.claims) }
}

// WithAlgNone sends an unsigned token with "alg":"none".
func WithAlgNone() TokenOption { return func(t *tokenSpec) { t.method = "none" } }

// WithHS256PublicKey signs with HS256 using the public key's PEM bytes as
// the secret (the classic algorithm-confusion attack).
func WithHS256PublicKey() TokenOption { return func(t *tokenSpec) { t.method = "HS256-public" } }

// WithKid signs with the current key but names another kid, or signs with
// a key the JWKS does not publish when kid is "unpublished".
func WithKid(kid string) TokenOption { return func(t *tokenSpec) { t.kid = kid } }

// WithForeignKey signs with a key the JWKS does not publish but names the
// current kid (the signature cannot verify).
func WithForeignKey() TokenOption { return func(t *tokenSpec) { t.kid = "foreign" } }

// WithoutToken sends no Authorization header.
func WithoutToken() TokenOption { return func(t *tokenSpec) { t.noToken = true } }

// defaultClaims are the claims of a Bot Framework token for the activity.
func (s *Server) defaultClaims(serviceURL string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":        "https://api.botframework.com",
		"aud":        s.opts.AppID,
		"serviceurl": serviceURL,
		"nbf":        now.Add(-time.Minute).Unix(),
		"exp":        now.Add(time.Hour).Unix(),
		"iat":        now.Unix(),
	}
}

// authorization returns the Authorization header for an activity.
func (s *Server) authorization(serviceURL string, opts []TokenOption) (string, error) {
	spec := &tokenSpec{claims: s.defaultClaims(serviceURL), method: "RS256"}
	for _, o := range opts {
		o(spec)
	}
	if spec.noToken {
		return "", nil
	}
	s.mu.Lock()
	signer := s.signer
	s.mu.Unlock()
	var (
		signed string
		err    error
	)
	switch spec.method {
	case "none":
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, spec.claims)
		tok.Header["kid"] = signer.kid
		signed, err = tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	case "HS256-public":
		der, merr := x509.MarshalPKIXPublicKey(&signer.private.PublicKey)
		if merr != nil {
			return "", merr
		}
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, spec.claims)
		tok.Header["kid"] = signer.kid
		signed, err = tok.SignedString(secret)
	default:
		key, kid := signer.private, signer.kid
		switch spec.kid {
		case "":
		case "unpublished":
			key, kid = newSigningKey().private, "unpublished-"+randomHex(4)
		case "foreign":
			key = newSigningKey().private
		default:
			kid = spec.kid
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, spec.claims)
		tok.Header["kid"] = kid
		signed, err = tok.SignedString(key)
	}
	if err != nil {
		return "", err
	}
	return "Bearer " + signed, nil
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}
