package teams_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// tokenCatcher is a stand-in bot that keeps the last bearer token.
type tokenCatcher struct {
	mu  sync.Mutex
	raw string
}

func (c *tokenCatcher) token() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.raw
}

func newCatcherServer(t *testing.T, c *tokenCatcher) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.raw = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		c.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
