package teams_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/bot/teams/teamsfake"
)

func TestMessageReachesTheBotWithItsReference(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	ann := h.fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Name: "Ann", Installed: true, TimeZone: "Europe/Berlin"})
	resp, err := h.fake.Type(ctx, ann.Email, "<at>slabot</at> /sla status team week")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.Status)
	}
	got := h.activities()
	if len(got) != 1 {
		t.Fatalf("%d activities handled, want 1", len(got))
	}
	a := got[0]
	if cmd := teams.CommandText(a.Text); cmd != "status team week" {
		t.Errorf("command text %q, want %q", cmd, "status team week")
	}
	ref := a.Reference()
	want := teams.ConversationReference{
		ConversationID: h.fake.PersonalConversation(ann.Email), ConversationType: teams.ConversationPersonal,
		ServiceURL: h.fake.ServiceURL(), TenantID: h.fake.TenantID(), BotID: h.fake.BotID(),
		UserID: ann.UserID, AADObjectID: ann.AADObjectID, UserName: "Ann",
	}
	if ref != want {
		t.Errorf("reference\n got %+v\nwant %+v", ref, want)
	}
	if a.SenderID() != ann.AADObjectID || a.LocalTimezone != "Europe/Berlin" {
		t.Errorf("sender %q tz %q", a.SenderID(), a.LocalTimezone)
	}
	id := ref.ChatIdentity(ann.Email, a.LocalTimezone)
	if id.UserID != ann.AADObjectID || id.ConversationID != ref.ConversationID || id.Platform != "teams" {
		t.Errorf("chat identity %+v", id)
	}
}

func TestClickIsAnsweredWithTheRedrawnCard(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := testContext(t)
	ann := h.fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Installed: true})
	conv := h.fake.PersonalConversation(ann.Email)

	card := teams.Card{
		Body: []teams.Element{teams.TextBlock{Text: "New lead: Acme", Wrap: true}},
		Actions: []teams.Action{
			teams.ActionExecute{Title: "Acknowledge", Verb: "ack", Data: map[string]string{"lead": "42"}},
			teams.ActionShowCard{Title: "Return", Card: teams.Card{
				Body:    []teams.Element{teams.InputText{ID: "reason", Label: "Why", IsRequired: true, ErrorMessage: "Say why"}},
				Actions: []teams.Action{teams.ActionExecute{Title: "Return", Verb: "return", Data: map[string]string{"lead": "42"}}},
			}},
		},
	}
	msg, err := teams.CardMessage(card, "New lead")
	if err != nil {
		t.Fatal(err)
	}
	activityID, err := h.connector.SendActivity(ctx, "", conv, msg)
	if err != nil {
		t.Fatal(err)
	}
	h.setReply(func(*teams.Activity) (*teams.InvokeResponse, error) {
		return teams.MessageResponse("Only the owner can do that."), nil
	})
	res, err := h.fake.ClickLast(ctx, ann.Email, "ack", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Type != teams.InvokeResponseMessage || res.Message != "Only the owner can do that." {
		t.Errorf("message answer %q %q", res.Type, res.Message)
	}
	var (
		mu        sync.Mutex
		gotAction *teams.CardAction
		gotData   map[string]string
	)
	h.setReply(func(a *teams.Activity) (*teams.InvokeResponse, error) {
		action, err := a.CardAction()
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		gotAction = action
		gotData, _ = action.Strings()
		if a.SenderID() != ann.AADObjectID || a.ReplyToID != activityID {
			return teams.MessageResponse("wrong clicker"), nil
		}
		return teams.CardResponse(teams.Card{Body: []teams.Element{teams.TextBlock{Text: "Returned: " + gotData["reason"]}}}), nil
	})
	res, err = h.fake.Click(ctx, ann.Email, conv, activityID, "return", map[string]any{"reason": "not a fit"})
	if err != nil {
		t.Fatal(err)
	}
	if res.HTTPStatus != http.StatusOK || res.StatusCode != http.StatusOK || res.Type != teams.InvokeResponseCard {
		t.Fatalf("invoke answer %d/%d %q, want 200/200 card (body %s)", res.HTTPStatus, res.StatusCode, res.Type, res.Body)
	}
	if texts := teamsfake.CardTexts(res.Card); len(texts) != 1 || texts[0] != "Returned: not a fit" {
		t.Errorf("redrawn card texts %q", texts)
	}
	seen, _ := h.fake.CardFor(ann.Email, conv, activityID)
	if texts := teamsfake.CardTexts(seen); len(texts) != 1 || texts[0] != "Returned: not a fit" {
		t.Errorf("the clicker sees %q", texts)
	}
	mu.Lock()
	if gotAction.Verb != "return" || gotData["lead"] != "42" || gotData["reason"] != "not a fit" {
		t.Errorf("action %+v data %v", gotAction, gotData)
	}
	mu.Unlock()

	// An update in place replaces what everyone sees, the clicker too.
	if err := h.connector.UpdateActivity(ctx, "", conv, activityID, msg); err != nil {
		t.Fatal(err)
	}
	if seen, _ = h.fake.CardFor(ann.Email, conv, activityID); !slices.Contains(teamsfake.CardVerbs(seen), "return") {
		t.Errorf("after the update the clicker sees verbs %v", teamsfake.CardVerbs(seen))
	}

	// A failure of the bot is an error Teams can show on the card.
	h.setReply(func(*teams.Activity) (*teams.InvokeResponse, error) { return nil, errors.New("database down") })
	res, err = h.fake.Click(ctx, ann.Email, conv, activityID, "return", map[string]any{"reason": "again"})
	if err != nil {
		t.Fatal(err)
	}
	if res.HTTPStatus != http.StatusOK || res.StatusCode != http.StatusInternalServerError || res.Type != teams.InvokeResponseError {
		t.Errorf("failed invoke answered %d/%d %q, want 200/500 error", res.HTTPStatus, res.StatusCode, res.Type)
	}
	if strings.Contains(string(res.Body), "database") {
		t.Errorf("the internal error leaks to Teams: %s", res.Body)
	}
	seen, _ = h.fake.CardFor(ann.Email, conv, activityID)
	if texts := teamsfake.CardTexts(seen); len(texts) != 1 || texts[0] != "New lead: Acme" {
		t.Errorf("after a failed click the clicker sees %q, want the card unchanged", texts)
	}
}

func TestHandlerRefusesBadRequestsWithoutCallingTheBot(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	srv := httptest.NewServer(h.handler)
	defer srv.Close()
	cases := []struct {
		name, method, body string
		want               int
	}{
		{"not JSON", http.MethodPost, "{nope", http.StatusBadRequest},
		{"no type", http.MethodPost, `{"text":"hi"}`, http.StatusBadRequest},
		{"too large", http.MethodPost, `{"type":"message","text":"` + strings.Repeat("x", 2<<20) + `"}`, http.StatusRequestEntityTooLarge},
		{"GET", http.MethodGet, "", http.StatusMethodNotAllowed},
		{"valid JSON, no token", http.MethodPost, `{"type":"message","serviceUrl":"x","channelId":"msteams"}`, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL, strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Error struct{ Message string } `json:"error"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tc.want || body.Error.Message == "" {
				t.Errorf("status %d message %q, want %d with a message", resp.StatusCode, body.Error.Message, tc.want)
			}
		})
	}
	if n := len(h.activities()); n != 0 {
		t.Errorf("%d activities reached the bot", n)
	}
}

func TestSlowInvokeIsAnsweredInTimeAndFinishesAfter(t *testing.T) {
	t.Parallel()
	fake := teamsfake.New(teamsfake.Options{})
	defer fake.Close()
	finished := make(chan error, 1)
	// The work goes on until the test has its answer: the answer cannot
	// have waited for it.
	release := make(chan struct{})
	verifier := teams.NewVerifier(teams.VerifierOptions{AppID: fake.AppID(), OpenIDMetadataURL: fake.OpenIDMetadataURL(),
		ServiceURLHosts: fake.ServiceURLHosts()})
	handler := teams.NewHandler(verifier, teams.ActivityHandlerFunc(func(ctx context.Context, a *teams.Activity) (*teams.InvokeResponse, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		finished <- ctx.Err() // the request is over by now; the context is not
		return teams.MessageResponse("done"), nil
	}), teams.HandlerOptions{SoftTimeout: 50 * time.Millisecond})
	bot := httptest.NewServer(handler)
	defer bot.Close()
	fake.SetBotEndpoint(bot.URL)
	ann := fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Installed: true})
	ctx := testContext(t)
	a, _ := fake.MessageActivity(ann.Email, "")
	a.Type, a.Name, a.Text = "invoke", teams.InvokeAdaptiveCardAction, ""
	a.Value = json.RawMessage(`{"action":{"type":"Action.Execute","verb":"ack"},"trigger":"manual"}`)
	resp, err := fake.Send(ctx, a)
	close(release)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), "Working on it") {
		t.Errorf("slow invoke answer %d %s", resp.Status, resp.Body)
	}
	if err := <-finished; err != nil {
		t.Errorf("the work was cancelled with the request: %v", err)
	}
	handler.Wait()
}
