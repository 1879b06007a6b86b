package teams

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// signingKey is one key of the Bot Framework JWKS with the channels it
// is endorsed for.
type signingKey struct {
	public       *rsa.PublicKey
	endorsements []string
}

func (k signingKey) endorses(channelID string) bool {
	for _, e := range k.endorsements {
		if e == channelID {
			return true
		}
	}
	return false
}

// keySet is a cache of the signing keys named by the jwks_uri of the
// OpenID metadata. It refetches when the keys are older than maxAge, and
// on an unknown kid at most once per minRefetch.
//
// Every request reads the cache under mu, so mu is never held while
// fetching: a refetch for one request's unknown kid (up to 10 s against a
// slow endpoint) must not hold up the requests whose keys are known.
// Requests that need the same refetch share it.
type keySet struct {
	metadataURL string
	client      *http.Client
	now         func() time.Time
	maxAge      time.Duration
	minRefetch  time.Duration
	log         *slog.Logger
	fetches     singleflight.Group

	mu        sync.Mutex
	keys      map[string]signingKey
	fetchedAt time.Time
	triedAt   time.Time
}

// errKeysUnavailable says the keys could not be fetched at all.
var errKeysUnavailable = errors.New("signing keys unavailable")

// key returns the key with the given kid, fetching the key set when it is
// stale or does not know kid (rate-limited).
func (s *keySet) key(ctx context.Context, kid string) (signingKey, error) {
	s.mu.Lock()
	now := s.now()
	stale := s.keys == nil || now.Sub(s.fetchedAt) > s.maxAge
	k, known := s.keys[kid]
	if known && !stale {
		s.mu.Unlock()
		return k, nil
	}
	interval := s.minRefetch
	if s.keys == nil {
		// Without any key every request fails: try again sooner.
		interval = min(interval, 5*time.Second)
	}
	due := s.triedAt.IsZero() || now.Sub(s.triedAt) >= interval
	s.mu.Unlock()

	if due {
		// One request's cancellation must not cost everyone the keys: the
		// fetch runs on its own context, and a request that gives up
		// waiting leaves it to finish for the others.
		result := s.fetches.DoChan("jwks", func() (any, error) {
			return nil, s.refresh(ctx)
		})
		select {
		case res := <-result:
			if res.Err != nil {
				s.mu.Lock()
				none := s.keys == nil
				s.mu.Unlock()
				if none {
					return signingKey{}, fmt.Errorf("%w: %w", errKeysUnavailable, res.Err)
				}
			}
		case <-ctx.Done():
			return signingKey{}, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[kid]; ok {
		return k, nil
	}
	return signingKey{}, fmt.Errorf("no signing key with kid %q", kid)
}

// refresh fetches the key set (outside mu) and stores it.
func (s *keySet) refresh(ctx context.Context) error {
	s.mu.Lock()
	s.triedAt = s.now()
	s.mu.Unlock()
	fetchCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	keys, err := s.fetch(fetchCtx)
	if err != nil {
		s.log.Warn("teams: fetching Bot Framework signing keys failed", "err", err)
		return err
	}
	s.mu.Lock()
	s.keys, s.fetchedAt = keys, s.now()
	s.mu.Unlock()
	return nil
}

func (s *keySet) fetch(ctx context.Context) (map[string]signingKey, error) {
	var metadata struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := s.getJSON(ctx, s.metadataURL, &metadata); err != nil {
		return nil, fmt.Errorf("openid metadata: %w", err)
	}
	if metadata.JWKSURI == "" {
		return nil, errors.New("openid metadata has no jwks_uri")
	}
	// The keys decide whom slabot believes: fetch them over https only
	// (plain http on a loopback host, for tests), wherever the metadata
	// points.
	if u, err := url.Parse(metadata.JWKSURI); err != nil || u.Host == "" ||
		!(u.Scheme == "https" || (u.Scheme == "http" && isLoopback(strings.ToLower(u.Hostname())))) {
		return nil, fmt.Errorf("openid metadata's jwks_uri %q is not an https URL: keys are fetched over https only", metadata.JWKSURI)
	}
	var jwks struct {
		Keys []struct {
			Kty          string   `json:"kty"`
			Kid          string   `json:"kid"`
			N            string   `json:"n"`
			E            string   `json:"e"`
			Endorsements []string `json:"endorsements"`
		} `json:"keys"`
	}
	if err := s.getJSON(ctx, metadata.JWKSURI, &jwks); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	keys := make(map[string]signingKey, len(jwks.Keys))
	for _, k := range jwks.Keys {
		if k.Kty != "RSA" || k.Kid == "" {
			continue
		}
		pub, err := rsaPublicKey(k.N, k.E)
		if err != nil {
			s.log.Warn("teams: skipping malformed signing key", "kid", k.Kid, "err", err)
			continue
		}
		keys[k.Kid] = signingKey{public: pub, endorsements: k.Endorsements}
	}
	if len(keys) == 0 {
		return nil, errors.New("jwks holds no RSA keys")
	}
	return keys, nil
}

func (s *keySet) getJSON(ctx context.Context, url string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(into); err != nil {
		return fmt.Errorf("decode %s: %w", url, err)
	}
	return nil
}

func rsaPublicKey(n, e string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		return nil, fmt.Errorf("modulus: %w", err)
	}
	eb, err := base64.RawURLEncoding.DecodeString(e)
	if err != nil {
		return nil, fmt.Errorf("exponent: %w", err)
	}
	exp := new(big.Int).SetBytes(eb)
	if !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31 {
		return nil, errors.New("exponent out of range")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(exp.Int64())}, nil
}
