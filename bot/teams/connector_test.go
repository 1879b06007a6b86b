package teams_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/bot/teams/teamsfake"
	"github.com/slabot/slabot/engine"
)

func textMessage(text string) *teams.Activity {
	return &teams.Activity{Type: teams.ActivityMessage, Text: text}
}

func TestTokensAreCachedAndShared(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	ann := h.fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Installed: true})
	conv, err := h.connector.CreateConversation(ctx, "", ann.AADObjectID)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.tokens.Token(ctx, teams.ScopeBotFramework); err != nil {
				errs <- err
			}
			if _, err := h.graph.UserByEmail(ctx, ann.Email); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := h.connector.TeamChannels(ctx, "", "19:nope@thread.tacv2"); err == nil {
		t.Error("listing the channels of an unknown team succeeded")
	}
	_ = conv
	if n := h.fake.TokenRequests(teamsfake.ScopeBotFramework); n != 1 {
		t.Errorf("%d connector token requests, want 1", n)
	}
	if n := h.fake.TokenRequests(teamsfake.ScopeGraph); n != 1 {
		t.Errorf("%d Graph token requests, want 1", n)
	}
}

func TestTokenIsRenewedBeforeItExpires(t *testing.T) {
	t.Parallel()
	fake := teamsfake.New(teamsfake.Options{TokenLifetime: 10 * time.Minute})
	defer fake.Close()
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	src := teams.NewTokenSource(teams.TokenSourceOptions{
		LoginURL: fake.LoginURL(), TenantID: fake.TenantID(), AppID: fake.AppID(), AppPassword: fake.AppPassword(), Now: clock,
	})
	ctx := testContext(t)
	first, err := src.Token(ctx, teams.ScopeBotFramework)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(8 * time.Minute) // a 10-minute token is renewed in its last minute
	mu.Unlock()
	if again, _ := src.Token(ctx, teams.ScopeBotFramework); again != first {
		t.Error("a token with 2 minutes left was replaced")
	}
	mu.Lock()
	now = now.Add(90 * time.Second)
	mu.Unlock()
	if renewed, _ := src.Token(ctx, teams.ScopeBotFramework); renewed == first {
		t.Error("a token with 30 s left was not replaced")
	}
	if n := fake.TokenRequests(teamsfake.ScopeBotFramework); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
}

func TestWrongSecretIsATokenError(t *testing.T) {
	t.Parallel()
	fake := teamsfake.New(teamsfake.Options{})
	defer fake.Close()
	src := teams.NewTokenSource(teams.TokenSourceOptions{
		LoginURL: fake.LoginURL(), TenantID: fake.TenantID(), AppID: fake.AppID(), AppPassword: "wrong",
	})
	err := src.Check(testContext(t))
	var tokErr *teams.TokenError
	if !errors.As(err, &tokErr) || tokErr.Status != http.StatusUnauthorized || tokErr.Code != "invalid_client" {
		t.Fatalf("error %v, want a 401 invalid_client TokenError", err)
	}
}

func TestConnectorErrorsAreTyped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	ann := h.fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Installed: true})
	bob := h.fake.AddPerson(teamsfake.Person{Email: "bob@example.com"})
	conv, err := h.connector.CreateConversation(ctx, "", ann.AADObjectID)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := h.connector.CreateConversation(ctx, "", ann.UserID); again != conv {
		t.Errorf("the 29: id gave conversation %q, the Entra id %q; want the same", again, conv)
	}

	t.Run("403 not installed", func(t *testing.T) {
		_, err := h.connector.CreateConversation(ctx, "", bob.AADObjectID)
		if !errors.Is(err, teams.ErrNotInstalled) {
			t.Errorf("error %v, want ErrNotInstalled", err)
		}
	})
	t.Run("429 with Retry-After", func(t *testing.T) {
		h.fake.SetRateLimit(1, 3*time.Second)
		defer h.fake.SetRateLimit(0, 0)
		_, err := h.connector.SendActivity(ctx, "", conv, textMessage("hi"))
		var retry *engine.RetryError
		if !errors.As(err, &retry) || retry.After != 3*time.Second {
			t.Fatalf("error %v, want engine.RetryAfter(3s)", err)
		}
		var apiErr *teams.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusTooManyRequests {
			t.Errorf("error %v does not carry the 429", err)
		}
	})
	t.Run("429 without Retry-After", func(t *testing.T) {
		h.fake.SetRateLimit(1, 0)
		defer h.fake.SetRateLimit(0, 0)
		_, err := h.connector.SendActivity(ctx, "", conv, textMessage("hi"))
		// Left to the job queue's backoff, which counts attempts: no
		// RetryError, whose wait would not count.
		var retry *engine.RetryError
		var transient *teams.TransientError
		if errors.As(err, &retry) || !errors.As(err, &transient) {
			t.Fatalf("error %v, want a TransientError and no engine.RetryError", err)
		}
	})
	for _, status := range []int{http.StatusPreconditionFailed, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			h.fake.FailNext(status, 1)
			_, err := h.connector.SendActivity(ctx, "", conv, textMessage("hi"))
			var transient *teams.TransientError
			var retry *engine.RetryError
			if !errors.As(err, &transient) || !teams.IsRetryable(err) || errors.As(err, &retry) {
				t.Fatalf("error %v, want a TransientError (and no engine.RetryError)", err)
			}
			if _, err := h.connector.SendActivity(ctx, "", conv, textMessage("hi")); err != nil {
				t.Errorf("the retry failed: %v", err)
			}
		})
	}
	t.Run("404 conversation gone", func(t *testing.T) {
		_, err := h.connector.SendActivity(ctx, "", "a:gone", textMessage("hi"))
		if !errors.Is(err, teams.ErrConversationNotFound) || teams.IsRetryable(err) {
			t.Errorf("error %v, want ErrConversationNotFound, not retryable", err)
		}
		err = h.connector.UpdateActivity(ctx, "", conv, "404404", textMessage("hi"))
		if !errors.Is(err, teams.ErrConversationNotFound) {
			t.Errorf("update of an unknown activity: %v, want ErrConversationNotFound", err)
		}
	})
	t.Run("uninstalled: 403 on send", func(t *testing.T) {
		if _, err := h.fake.Uninstall(ctx, ann.Email); err != nil {
			t.Fatal(err)
		}
		_, err := h.connector.SendActivity(ctx, "", conv, textMessage("hi"))
		if !errors.Is(err, teams.ErrNotInstalled) {
			t.Errorf("error %v, want ErrNotInstalled", err)
		}
	})
}

func TestSendUpdateAndChannels(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	ann := h.fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Installed: true})
	team := h.fake.AddTeam("Sales", "Escalations", "Reports")
	if _, err := h.connector.TeamChannels(ctx, "", team.ID); !errors.Is(err, teams.ErrNotInstalled) {
		t.Errorf("channels of a team without the bot: %v, want ErrNotInstalled", err)
	}
	resp, err := h.fake.AddBotToTeam(ctx, team.ID, ann.Email)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("add bot to team: %v %+v", err, resp)
	}
	added := h.activities()[0]
	if !added.BotAdded() || added.ChannelData.Team.ID != team.ID || added.ChannelData.Team.Name != "Sales" {
		t.Errorf("conversationUpdate %+v", added)
	}
	channels, err := h.connector.TeamChannels(ctx, added.ServiceURL, added.ChannelData.Team.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(channels) != 3 || channels[0].ID != team.ID || channels[0].Name != "" || channels[1].Name != "Escalations" {
		t.Errorf("channels %+v", channels)
	}

	escalations := team.ChannelID("Escalations")
	id, err := h.connector.SendActivity(ctx, "", escalations, textMessage("first"))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.connector.UpdateActivity(ctx, "", escalations, id, textMessage("second")); err != nil {
		t.Fatal(err)
	}
	recs := h.fake.Activities(escalations)
	if len(recs) != 1 || recs[0].Activity.Text != "second" || len(recs[0].Updates) != 1 {
		t.Errorf("channel holds %+v, want one message updated to %q", recs, "second")
	}
}

func TestServiceURLFromTheActivityIsUsed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	ann := h.fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Installed: true})
	moved := h.fake.MoveServiceURL()
	if _, err := h.fake.Type(ctx, ann.Email, "help"); err != nil {
		t.Fatal(err)
	}
	ref := h.activities()[0].Reference()
	if ref.ServiceURL != moved {
		t.Fatalf("activity service URL %q, want %q", ref.ServiceURL, moved)
	}
	if _, err := h.connector.SendActivity(ctx, ref.ServiceURL, ref.ConversationID, textMessage("hi")); err != nil {
		t.Fatal(err)
	}
	calls := h.fake.Calls()
	if last := calls[len(calls)-1]; last.ServiceURL != moved {
		t.Errorf("the send went to %q, want the moved %q", last.ServiceURL, moved)
	}
}

// TestPacingUnderRateLimits sends to three conversations at once while 30%
// of connector calls answer 429, retrying as a job queue would, and checks
// on the fake's clock that every message arrived once and no conversation
// got two writes less than a second apart.
func TestPacingUnderRateLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	h.fake.SetRateLimit(0.3, 0)
	connector := h.newConnector(nil) // the Teams limits
	var convs []string
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		p := h.fake.AddPerson(teamsfake.Person{Email: email, Installed: true})
		conv, err := sendWithRetry(ctx, func() (string, error) { return connector.CreateConversation(ctx, "", p.AADObjectID) })
		if err != nil {
			t.Fatal(err)
		}
		convs = append(convs, conv)
	}
	const perConversation = 3
	var wg sync.WaitGroup
	errs := make(chan error, len(convs)*perConversation)
	for _, conv := range convs {
		for i := range perConversation {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := sendWithRetry(ctx, func() (string, error) {
					return connector.SendActivity(ctx, "", conv, textMessage(string(rune('a'+i))))
				})
				if err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rateLimited := 0
	for _, c := range h.fake.Calls() {
		if c.Status == http.StatusTooManyRequests {
			rateLimited++
		}
	}
	if rateLimited == 0 {
		t.Error("no call was rate limited; the test proves nothing")
	}
	for _, conv := range convs {
		if n := len(h.fake.Activities(conv)); n != perConversation {
			t.Errorf("%s holds %d messages, want %d", conv, n, perConversation)
		}
		// Paced writes leave 1 s apart; the fake stamps them on arrival,
		// late by however long a loaded machine takes. Unpaced ones arrive
		// milliseconds apart, so half the interval separates the two
		// (bot/pace's tests check the exact spacing on an injected clock).
		if gap := h.fake.MinGap(conv); gap < 500*time.Millisecond {
			t.Errorf("%s got two messages %v apart, want them paced about 1 s apart", conv, gap)
		}
	}
}

// sendWithRetry retries as the job queue does: after RetryError.After
// (shortened for the test) or at once for a transient failure.
func sendWithRetry(ctx context.Context, send func() (string, error)) (string, error) {
	for attempt := 0; ; attempt++ {
		id, err := send()
		if err == nil || !teams.IsRetryable(err) || attempt > 20 {
			return id, err
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}
