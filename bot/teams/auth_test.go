package teams_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/bot/teams/teamsfake"
)

func TestInboundTokenIsCheckedAsMicrosoftSpecifies(t *testing.T) {
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
	cases := []struct {
		name   string
		opts   []teamsfake.TokenOption
		modify func(*teamsfake.Activity)
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
		{name: "channel not endorsed", modify: func(a *teamsfake.Activity) { a.ChannelID = "webchat" }},
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
			resp, err := h.fake.Send(ctx, a, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != http.StatusUnauthorized {
				t.Errorf("status %d, want 401 (body %s)", resp.Status, resp.Body)
			}
			if got := len(h.activities()); got != before {
				t.Errorf("the activity reached the bot (%d handled, want %d)", got, before)
			}
		})
	}
}

func TestTokenWithinLeewayIsAccepted(t *testing.T) {
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
	h := newHarness(t)
	ctx := testContext(t)
	verifier := teams.NewVerifier(teams.VerifierOptions{AppID: h.cfg.AppID, OpenIDMetadataURL: h.cfg.OpenIDMetadataURL})
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
