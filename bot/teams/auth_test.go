package teams_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/bot/teams/teamsfake"
)

func TestInboundTokenIsCheckedAsMicrosoftSpecifies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	ann := h.fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Name: "Ann", Installed: true})

	// A good token first, so the keys are cached as in production.
	good, err := h.fake.MessageActivity(ann.Email, "help")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.fake.Send(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK || len(h.activities()) != 1 {
		t.Fatalf("a good token: status %d, %d activities handled; want 200 and 1", resp.Status, len(h.activities()))
	}

	now := time.Now()
	tenant := func(channelData, conversation string) func(*teamsfake.Activity) {
		return func(a *teamsfake.Activity) {
			a.ChannelData = json.RawMessage(`{"tenant":{"id":"` + channelData + `"}}`)
			if channelData == "" {
				a.ChannelData = json.RawMessage(`{}`)
			}
			a.Conversation.TenantID = conversation
		}
	}
	other := teamsfake.NewGUID()
	cases := []struct {
		name   string
		opts   []teamsfake.TokenOption
		modify func(*teamsfake.Activity)
		want   int // 0: 401
		keys   []string
	}{
		{name: "missing token", opts: []teamsfake.TokenOption{teamsfake.WithoutToken()}},
		{name: "wrong aud", opts: []teamsfake.TokenOption{teamsfake.WithClaims(func(c jwt.MapClaims) { c["aud"] = teamsfake.NewGUID() })}},
		{name: "no aud", opts: []teamsfake.TokenOption{teamsfake.WithClaims(func(c jwt.MapClaims) { delete(c, "aud") })}},
		{name: "wrong iss", opts: []teamsfake.TokenOption{teamsfake.WithClaims(func(c jwt.MapClaims) { c["iss"] = "https://sts.windows.net/evil/" })}},
		{name: "expired beyond the leeway", opts: []teamsfake.TokenOption{teamsfake.WithClaims(func(c jwt.MapClaims) {
			c["exp"] = now.Add(-6 * time.Minute).Unix()
		})}},
		{name: "not yet valid beyond the leeway", opts: []teamsfake.TokenOption{teamsfake.WithClaims(func(c jwt.MapClaims) {
			c["nbf"] = now.Add(6 * time.Minute).Unix()
		})}},
		{name: "no exp", opts: []teamsfake.TokenOption{teamsfake.WithClaims(func(c jwt.MapClaims) { delete(c, "exp") })}},
		{name: "alg none", opts: []teamsfake.TokenOption{teamsfake.WithAlgNone()}},
		{name: "HS256 signed with the public key", opts: []teamsfake.TokenOption{teamsfake.WithHS256PublicKey()}},
		{name: "unknown kid", opts: []teamsfake.TokenOption{teamsfake.WithKid("unpublished")}},
		{name: "known kid, foreign key", opts: []teamsfake.TokenOption{teamsfake.WithForeignKey()}},
		{name: "serviceurl mismatch", opts: []teamsfake.TokenOption{teamsfake.WithClaims(func(c jwt.MapClaims) {
			c["serviceurl"] = "https://smba.evil.example/teams/"
		})}},
		{name: "no serviceurl claim", opts: []teamsfake.TokenOption{teamsfake.WithClaims(func(c jwt.MapClaims) { delete(c, "serviceurl") })}},
		// The Bot Framework's authentication guide answers a key without
		// the channel's endorsement 403; a genuine token on an activity
		// from another channel or tenant is forbidden too.
		{name: "channel not endorsed", modify: func(a *teamsfake.Activity) { a.ChannelID = "webchat" }, want: http.StatusForbidden},
		{name: "endorsed channel other than Teams", modify: func(a *teamsfake.Activity) { a.ChannelID = "webchat" },
			keys: []string{"msteams", "webchat"}, want: http.StatusForbidden},
		{name: "no channelId", modify: func(a *teamsfake.Activity) { a.ChannelID = "" }, want: http.StatusForbidden},
		{name: "another tenant", modify: tenant(other, other), want: http.StatusForbidden},
		{name: "another tenant in channelData only", modify: tenant(other, h.cfg.TenantID), want: http.StatusForbidden},
		{name: "another tenant in the conversation only", modify: tenant(h.cfg.TenantID, other), want: http.StatusForbidden},
		{name: "no tenant", modify: tenant("", ""), want: http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.activities())
			a, err := h.fake.MessageActivity(ann.Email, "status")
			if err != nil {
				t.Fatal(err)
			}
			if tc.modify != nil {
				tc.modify(&a)
			}
			if tc.keys != nil {
				h.fake.RotateKey(true) // a new kid, so that the new endorsements are fetched
				h.fake.SetEndorsements(tc.keys...)
				defer h.fake.SetEndorsements("msteams")
			}
			resp, err := h.fake.Send(ctx, a, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == 0 {
				want = http.StatusUnauthorized
			}
			if resp.Status != want {
				t.Errorf("status %d, want %d (body %s)", resp.Status, want, resp.Body)
			}
			if got := len(h.activities()); got != before {
				t.Errorf("the activity reached the bot (%d handled, want %d)", got, before)
			}
		})
	}
}

func TestTokenWithinLeewayIsAccepted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	ann := h.fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Installed: true})
	a, _ := h.fake.MessageActivity(ann.Email, "help")
	now := time.Now()
	resp, err := h.fake.Send(ctx, a, teamsfake.WithClaims(func(c jwt.MapClaims) {
		c["exp"] = now.Add(-4 * time.Minute).Unix()
		c["nbf"] = now.Add(4 * time.Minute).Unix()
	}))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK || len(h.activities()) != 1 {
		t.Fatalf("status %d and %d handled; want 200 and 1 (4 minutes is within the leeway)", resp.Status, len(h.activities()))
	}
}

func TestUnknownKidRefetchesKeysOnceThenRejects(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	ann := h.fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Installed: true})
	if resp, _ := h.fake.Type(ctx, ann.Email, "help"); resp == nil || resp.Status != http.StatusOK {
		t.Fatalf("first message: %+v", resp)
	}
	fetches := h.fake.KeyFetches()
	a, _ := h.fake.MessageActivity(ann.Email, "help")
	resp, err := h.fake.Send(ctx, a, teamsfake.WithKid("unpublished"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.Status)
	}
	if got := h.fake.KeyFetches(); got != fetches+1 {
		t.Errorf("key fetches %d → %d, want one refetch for the unknown kid", fetches, got)
	}
}

func TestKeyRefetchOnUnknownKidIsRateLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	verifier := teams.NewVerifier(teams.VerifierOptions{AppID: h.cfg.AppID, OpenIDMetadataURL: h.cfg.OpenIDMetadataURL,
		ServiceURLHosts: h.cfg.ServiceURLHosts})
	ann := h.fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Installed: true})
	a, _ := h.fake.MessageActivity(ann.Email, "help")
	activity := &teams.Activity{ServiceURL: a.ServiceURL, ChannelID: a.ChannelID}
	for range 5 {
		// Tokens under kids nobody published: one fetch, then the limit.
		_, err := verifier.Verify(ctx, "Bearer "+mustToken(t, h, a, teamsfake.WithKid("unpublished")), activity)
		if err == nil {
			t.Fatal("a token under an unpublished kid was accepted")
		}
	}
	if got := h.fake.KeyFetches(); got != 1 {
		t.Errorf("%d key fetches for 5 unknown kids within a minute, want 1", got)
	}
}

// mustToken returns the bearer token the fake would put on a.
func mustToken(t *testing.T, h *harness, a teamsfake.Activity, opts ...teamsfake.TokenOption) string {
	t.Helper()
	rec := &tokenCatcher{}
	srv := newCatcherServer(t, rec)
	h.fake.SetBotEndpoint(srv)
	defer h.fake.SetBotEndpoint("")
	if _, err := h.fake.Send(testContext(t), a, opts...); err != nil {
		t.Fatal(err)
	}
	return rec.token()
}

func TestKeyRotationIsFollowed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	ann := h.fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Installed: true})
	if resp, err := h.fake.Type(ctx, ann.Email, "help"); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("before rotation: %v %+v", err, resp)
	}
	h.fake.RotateKey(false)
	resp, err := h.fake.Type(ctx, ann.Email, "help")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK || len(h.activities()) != 2 {
		t.Fatalf("after rotation: status %d, %d handled; want 200 and 2", resp.Status, len(h.activities()))
	}
	if h.fake.KeyFetches() != 2 {
		t.Errorf("%d key fetches, want 2 (first use, then the new kid)", h.fake.KeyFetches())
	}
}

func TestARefusedTokenIsDescribedInTheLogWithoutTheToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	handler := teams.NewHandler(h.verifier, teams.ActivityHandlerFunc(h.onActivity), teams.HandlerOptions{Logger: logger})
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	h.fake.SetBotEndpoint(srv.URL)
	ann := h.fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Installed: true})
	a, _ := h.fake.MessageActivity(ann.Email, "help")
	wrongAud := teamsfake.NewGUID()
	token := mustToken(t, h, a, teamsfake.WithClaims(func(c jwt.MapClaims) { c["aud"] = wrongAud }))
	h.fake.SetBotEndpoint(srv.URL)
	resp, err := h.fake.Send(ctx, a, teamsfake.WithClaims(func(c jwt.MapClaims) { c["aud"] = wrongAud }))
	if err != nil || resp.Status != http.StatusUnauthorized {
		t.Fatalf("a token for another app: %v %+v, want 401", err, resp)
	}
	mu.Lock()
	got := logs.String()
	mu.Unlock()
	for _, want := range []string{"level=INFO", "iss=https://api.botframework.com", "aud=" + wrongAud, "kid=fake-"} {
		if !strings.Contains(got, want) {
			t.Errorf("the log of the refusal does not say %q:\n%s", want, got)
		}
	}
	// The signature part of any token the fake signs never shows.
	if sig := token[strings.LastIndex(token, ".")+1:]; strings.Contains(got, sig) || strings.Contains(got, "eyJ") {
		t.Errorf("the log holds a token:\n%s", got)
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestAKeyRefetchDoesNotHoldUpRequestsWithKnownKeys(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	ann := h.fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Installed: true})
	if resp, err := h.fake.Type(ctx, ann.Email, "help"); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("first message: %v %+v", err, resp)
	}
	fetches := h.fake.KeyFetches()
	release := h.fake.HoldKeyFetches()
	t.Cleanup(release)
	// A token under a kid slabot has not seen makes it refetch the keys,
	// and the key endpoint does not answer.
	unknown := make(chan *teamsfake.BotResponse, 1)
	go func() {
		a, _ := h.fake.MessageActivity(ann.Email, "help")
		resp, _ := h.fake.Send(ctx, a, teamsfake.WithKid("unpublished"))
		unknown <- resp
	}()
	if err := h.fake.WaitFor(ctx, func() bool { return h.fake.KeyFetchesWaiting() == 1 }); err != nil {
		t.Fatalf("the refetch never started: %v", err)
	}
	// Meanwhile a request under the known key is answered.
	if resp, err := h.fake.Type(ctx, ann.Email, "status"); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("a request with a known key while a refetch is held: %v %+v", err, resp)
	}
	select {
	case resp := <-unknown:
		t.Fatalf("the request with the unknown kid was answered before its keys came: %+v", resp)
	default:
	}
	release()
	if resp := <-unknown; resp == nil || resp.Status != http.StatusUnauthorized {
		t.Errorf("the unknown kid after the refetch: %+v, want 401", resp)
	}
	if got := h.fake.KeyFetches(); got != fetches+1 {
		t.Errorf("%d key fetches after the held one, want %d", got, fetches+1)
	}
}
