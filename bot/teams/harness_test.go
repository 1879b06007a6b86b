package teams_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/bot/teams/teamsfake"
)

// harness wires the real clients of package teams to a teamsfake server
// and serves the bot's /api/messages on an httptest server.
type harness struct {
	fake      *teamsfake.Server
	cfg       teams.Config
	tokens    *teams.TokenSource
	connector *teams.Connector
	graph     *teams.Graph
	verifier  *teams.Verifier
	handler   *teams.Handler

	mu       sync.Mutex
	received []*teams.Activity
	reply    func(*teams.Activity) (*teams.InvokeResponse, error)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	fake := teamsfake.New(teamsfake.Options{})
	h := &harness{fake: fake}
	h.cfg = teams.Config{
		AppID: fake.AppID(), AppPassword: fake.AppPassword(), TenantID: fake.TenantID(),
		OpenIDMetadataURL: fake.OpenIDMetadataURL(), LoginURL: fake.LoginURL(),
		GraphURL: fake.GraphURL(), ServiceURL: fake.ServiceURL(), ServiceURLHosts: fake.ServiceURLHosts(),
	}
	if err := h.cfg.Validate(); err != nil {
		t.Fatalf("config of the fake does not validate: %v", err)
	}
	// Tests of other things than pace should not wait a second per message;
	// TestPacingUnderRateLimits uses the real limits.
	tr := teams.NewTransport(h.cfg, teams.TransportOptions{Pacer: teams.NewPacer(teams.PacerOptions{Interval: time.Millisecond})})
	h.tokens, h.connector, h.graph = tr.Tokens, tr.Connector, tr.Graph
	// A verifier that may refetch keys at once, for the key tests.
	h.verifier = teams.NewVerifier(teams.VerifierOptions{
		AppID: h.cfg.AppID, TenantID: h.cfg.TenantID, OpenIDMetadataURL: h.cfg.OpenIDMetadataURL, MinRefetchInterval: -1,
		ServiceURLHosts: h.cfg.ServiceURLHosts,
	})
	h.handler = teams.NewHandler(h.verifier, teams.ActivityHandlerFunc(h.onActivity), teams.HandlerOptions{})
	bot := httptest.NewServer(h.handler)
	fake.SetBotEndpoint(bot.URL + "/api/messages")
	t.Cleanup(func() {
		fake.Close()
		h.handler.Wait()
		bot.Close()
	})
	return h
}

func (h *harness) newConnector(pacer *teams.Pacer) *teams.Connector {
	return teams.NewConnector(teams.ConnectorOptions{
		AppID: h.cfg.AppID, TenantID: h.cfg.TenantID, ServiceURL: h.cfg.ServiceURL, ServiceURLHosts: h.cfg.ServiceURLHosts, Tokens: h.tokens, Pacer: pacer,
	})
}

func (h *harness) onActivity(_ context.Context, a *teams.Activity) (*teams.InvokeResponse, error) {
	h.mu.Lock()
	h.received = append(h.received, a)
	reply := h.reply
	h.mu.Unlock()
	if reply != nil {
		return reply(a)
	}
	return nil, nil
}

func (h *harness) setReply(f func(*teams.Activity) (*teams.InvokeResponse, error)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reply = f
}

func (h *harness) activities() []*teams.Activity {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*teams.Activity(nil), h.received...)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
