package teams_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/bot/teams/teamsfake"
	"github.com/slabot/slabot/engine"
)

// TestAServiceURLOffTheTeamsHostsIsRefused: an activity carrying a
// genuine token (its serviceurl claim matches) but a serviceUrl on a host
// that is not a Teams connector is answered 403 with nothing recorded or
// sent.
func TestAServiceURLOffTheTeamsHostsIsRefused(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	a, err := e.fake.MessageActivity(ana, "help")
	if err != nil {
		t.Fatal(err)
	}
	a.ServiceURL = "http://localhost:1/smba/teams/" // loopback, but not the listed host
	resp, err := e.fake.Send(ctxTimeout(t, waitLimit), a)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusForbidden {
		t.Errorf("answered %d, want 403", resp.Status)
	}
	e.nothingHappened(t, ana)
	if got := text(e.typed(ana, "help")); got == "" {
		t.Error("the genuine message got an empty answer")
	}
}

// TestTheConnectorTokenGoesOnlyToAllowedHosts: a stored serviceUrl off
// the allowed hosts gets no request, let alone the token, and the job is
// given up rather than retried.
func TestTheConnectorTokenGoesOnlyToAllowedHosts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var requests atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusCreated)
	}))
	defer elsewhere.Close()
	other := strings.Replace(elsewhere.URL, "127.0.0.1", "localhost", 1) + "/teams/"
	ann := h.fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Installed: true})
	ctx := testContext(t)
	_, err := h.connector.CreateConversation(ctx, other, ann.AADObjectID)
	if !errors.Is(err, teams.ErrServiceURLNotAllowed) || !engine.IsDropped(err) {
		t.Errorf("create conversation on %s: %v, want ErrServiceURLNotAllowed, dropped", other, err)
	}
	_, err = h.connector.SendActivity(ctx, other, "a:1", textMessage("hi"))
	if !errors.Is(err, teams.ErrServiceURLNotAllowed) {
		t.Errorf("send on %s: %v, want ErrServiceURLNotAllowed", other, err)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests reached a host off the allow-list", n)
	}
	if n := h.fake.TokenRequests(teamsfake.ScopeBotFramework); n != 0 {
		t.Errorf("%d connector tokens fetched for hosts slabot may not call", n)
	}
	// The allowed host still works.
	if _, err := h.connector.CreateConversation(ctx, "", ann.AADObjectID); err != nil {
		t.Errorf("create conversation on the fake: %v", err)
	}
}
