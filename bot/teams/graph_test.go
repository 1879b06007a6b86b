package teams_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/bot/teams/teamsfake"
)

func TestPersonLookupAndProactiveInstall(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	rita := h.fake.AddPerson(teamsfake.Person{Email: "rita@example.com", Name: "Rita Rep"})
	gone := h.fake.AddPerson(teamsfake.Person{Email: "gone@example.com", Name: "Gone", Disabled: true})

	user, err := h.graph.UserByEmail(ctx, "rita@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if user.ID != rita.AADObjectID || user.DisplayName != "Rita Rep" || !user.AccountEnabled {
		t.Errorf("user %+v", user)
	}
	if u, err := h.graph.UserByEmail(ctx, gone.Email); err != nil || u.AccountEnabled {
		t.Errorf("disabled account: %+v %v, want accountEnabled false", u, err)
	}
	if _, err := h.graph.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, teams.ErrUnknownPerson) {
		t.Errorf("unknown email: %v, want ErrUnknownPerson", err)
	}
	// A tenant whose sign-in names are not the mail addresses.
	upn := h.fake.AddPerson(teamsfake.Person{Email: "o'neil@example.com", UserPrincipalName: "oneil_example.com#EXT#@corp.onmicrosoft.com"})
	if u, err := h.graph.UserByEmail(ctx, "O'Neil@example.com"); err != nil || u.ID != upn.AADObjectID {
		t.Errorf("person by mail: %+v %v, want %s", u, err, upn.AADObjectID)
	}

	// The flow of design.md: 403 on the 1:1 chat → install → try again.
	_, err = h.connector.CreateConversation(ctx, "", user.ID)
	if !errors.Is(err, teams.ErrNotInstalled) {
		t.Fatalf("before install: %v, want ErrNotInstalled", err)
	}
	if err := h.graph.InstallApp(ctx, user.ID); err != nil {
		t.Fatal(err)
	}
	conv, err := h.connector.CreateConversation(ctx, "", user.ID)
	if err != nil {
		t.Fatalf("after install: %v", err)
	}
	if conv != h.fake.PersonalConversation(rita.Email) {
		t.Errorf("conversation %q, want Rita's %q", conv, h.fake.PersonalConversation(rita.Email))
	}
	if err := h.graph.InstallApp(ctx, user.ID); err != nil {
		t.Errorf("installing twice (409) is success, got %v", err)
	}
	// One catalog lookup for both installs.
	catalogLookups := 0
	for _, c := range h.fake.Calls() {
		if c.Method == http.MethodGet && c.Path == "/graph/v1.0/appCatalogs/teamsApps" {
			catalogLookups++
		}
	}
	if catalogLookups != 1 {
		t.Errorf("%d catalog lookups, want 1 (cached)", catalogLookups)
	}
	// Teams tells the bot about an install made through Graph.
	if err := h.fake.WaitFor(ctx, func() bool {
		for _, a := range h.activities() {
			if a.Type == teams.ActivityInstallationUpdate && a.Action == teams.InstallationAdd && a.SenderID() == rita.AADObjectID {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
}

func TestInstallFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	blocked := h.fake.AddPerson(teamsfake.Person{Email: "blocked@example.com", InstallBlocked: true})
	var apiErr *teams.APIError
	if err := h.graph.InstallApp(ctx, blocked.AADObjectID); !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
		t.Errorf("blocked install: %v, want a 403 APIError", err)
	}
	h.fake.FailNextGraph(http.StatusServiceUnavailable, 1)
	if _, err := h.graph.UserByEmail(ctx, blocked.Email); !teams.IsRetryable(err) {
		t.Errorf("Graph 503: %v, want retryable", err)
	}

	other := newHarness(t)
	other.fake.SetInCatalog(false)
	p := other.fake.AddPerson(teamsfake.Person{Email: "p@example.com"})
	if err := other.graph.InstallApp(ctx, p.AADObjectID); !errors.Is(err, teams.ErrAppNotInCatalog) {
		t.Errorf("app not in catalog: %v, want ErrAppNotInCatalog", err)
	}
}
