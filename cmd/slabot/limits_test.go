package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/api"
	"github.com/slabot/slabot/api/apitest"
	"github.com/slabot/slabot/bot/teams"
)

// On the listener `slabot run` opens, a client that sends its headers and
// then trickles the body is cut off: on Teams' /api/messages, on the
// intake and on the HubSpot route, none of which has authenticated it yet
// (Teams and a HubSpot signature are checked over the body). Small limits
// here; the assertions are on the outcome, not on how long it took.
func TestTheListenerCutsOffASlowBodyOnEveryWebhookRoute(t *testing.T) {
	t.Parallel()
	saved := publicLimits
	publicLimits = api.Limits{Body: 300 * time.Millisecond, Reply: 5 * time.Second}
	t.Cleanup(func() { publicLimits = saved })

	cfg := Config{
		// The database is never reached: no request here gets that far.
		DatabaseURL: "postgres://slabot@127.0.0.1:1/slabot?connect_timeout=1",
		PolicyFile:  "../../slabot.yaml", HTTPAddr: "127.0.0.1:0", Chat: "teams",
		IntakeToken: goodIntakeToken, LogLevel: "error", HubSpotAPIURL: "https://api.hubapi.com/",
		HubSpotClientSecret: "hubspot-client-secret",
		Teams: teams.Config{AppID: "0c5a8f3e-7d1b-4c2a-9e6f-1b2c3d4e5f60", AppPassword: "pw",
			TenantID: "6f1c2a44-0000-4000-8000-00000000abcd"}.WithDefaults(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	app, err := NewApp(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	served := make(chan error, 1)
	go func() { served <- app.HTTP.Serve(app.listener) }()
	defer func() {
		app.shutdown(time.Second)
		<-served
	}()

	for _, c := range []struct {
		path    string
		headers map[string]string
	}{
		{"/api/messages", map[string]string{"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}},
		{"/v1/handoffs", map[string]string{"Authorization": "Bearer " + goodIntakeToken}},
		{"/v1/hubspot/handoffs", map[string]string{"X-HubSpot-Signature-v3": "c2lnbmF0dXJl",
			"X-HubSpot-Request-Timestamp": fmt.Sprint(time.Now().UnixMilli())}},
	} {
		t.Run(strings.Trim(strings.ReplaceAll(c.path, "/", "_"), "_"), func(t *testing.T) {
			const declared = 4000 // a byte per 25 ms: 100 s to send in full
			status, sent := apitest.SlowBody(t, app.Addr(), c.path, c.headers, declared)
			if sent >= declared {
				t.Fatalf("the whole body was sent before the server answered (%q)", status)
			}
			if status != "" && !strings.Contains(status, " 400 ") {
				t.Errorf("%s answered %q to a body that never arrived, want 400 or a closed connection", c.path, status)
			}
		})
	}
}
