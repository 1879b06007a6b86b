package teamsfake

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func token(t *testing.T, s *Server, scope string) string {
	t.Helper()
	resp, err := http.PostForm(s.LoginURL()+s.TenantID()+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {s.AppID()}, "client_secret": {s.AppPassword()}, "scope": {scope},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token for %q: %d %s", scope, resp.StatusCode, body.Error)
	}
	return body.AccessToken
}

func call(t *testing.T, method, url, bearer, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestFakeIsStrict(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	p := s.AddPerson(Person{Email: "p@example.com", Installed: true})
	graphToken := token(t, s, ScopeGraph)
	botToken := token(t, s, ScopeBotFramework)
	create := s.ServiceURL() + "v3/conversations"
	good := `{"members":[{"id":"` + p.AADObjectID + `"}],"tenantId":"` + s.TenantID() + `","channelData":{"tenant":{"id":"` + s.TenantID() + `"}}}`

	if got := call(t, http.MethodPost, create, graphToken, good); got != http.StatusUnauthorized {
		t.Errorf("connector with a Graph token: %d, want 401", got)
	}
	if got := call(t, http.MethodPost, create, botToken, `{"members":[{"id":"`+p.AADObjectID+`"}]}`); got != http.StatusBadRequest {
		t.Errorf("conversation without tenant: %d, want 400", got)
	}
	if got := call(t, http.MethodPost, create, botToken, good); got != http.StatusCreated {
		t.Errorf("good conversation: %d, want 201", got)
	}
	if got := call(t, http.MethodGet, s.GraphURL()+"users/"+p.Email, botToken, ""); got != http.StatusUnauthorized {
		t.Errorf("Graph with a connector token: %d, want 401", got)
	}
	resp, _ := http.PostForm(s.LoginURL()+s.TenantID()+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {s.AppID()}, "client_secret": {s.AppPassword()}, "scope": {"https://management.azure.com/.default"},
	})
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown scope: %d, want 400", resp.StatusCode)
	}
}

func TestFakePublishesEndorsedKeys(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	resp, err := http.Get(s.OpenIDMetadataURL())
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	resp, err = http.Get(meta.JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks struct {
		Keys []struct {
			Kid          string   `json:"kid"`
			Endorsements []string `json:"endorsements"`
		} `json:"keys"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&jwks)
	if len(jwks.Keys) != 1 || len(jwks.Keys[0].Endorsements) != 1 || jwks.Keys[0].Endorsements[0] != "msteams" {
		t.Errorf("keys %+v", jwks.Keys)
	}
	kid := s.RotateKey(true)
	if s.KeyFetches() != 1 || kid == jwks.Keys[0].Kid {
		t.Errorf("fetches %d, new kid %q", s.KeyFetches(), kid)
	}
}

func TestWaitActivitiesGivesUp(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.WaitActivities(ctx, "a:none", 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the deadline", err)
	}
}

func TestACardWithRepeatedInputIDsIsRefused(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	p := s.AddPerson(Person{Email: "p@example.com", Installed: true})
	botToken := token(t, s, ScopeBotFramework)
	conv := s.PersonalConversation(p.Email)
	send := func(card string) int {
		return call(t, http.MethodPost, s.ServiceURL()+"v3/conversations/"+conv+"/activities", botToken,
			`{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":`+card+`}]}`)
	}
	form := func(id string) string {
		return `{"type":"Action.ShowCard","title":"Snooze","card":{"type":"AdaptiveCard","body":[{"type":"Input.Text","id":"` + id + `"}]}}`
	}
	repeated := `{"type":"AdaptiveCard","version":"1.5","body":[{"type":"ActionSet","actions":[` + form("reason") + `]},` +
		`{"type":"ActionSet","actions":[` + form("reason") + `]}]}`
	if got := send(repeated); got != http.StatusBadRequest {
		t.Errorf("a card with two inputs named reason: %d, want 400", got)
	}
	unique := strings.Replace(repeated, `"reason"}]}}]}]}`, `"reason@2"}]}}]}]}`, 1)
	if got := send(unique); got != http.StatusCreated {
		t.Errorf("the same card with unique ids: %d, want 201", got)
	}
	if n := len(s.Activities(conv)); n != 1 {
		t.Errorf("%d activities recorded, want the valid one", n)
	}
}

func TestTheConnectorCountsAMessageInUTF16WithoutItsPictures(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	defer s.Close()
	p := s.AddPerson(Person{Email: "p@example.com", Installed: true})
	botToken := token(t, s, ScopeBotFramework)
	conv := s.PersonalConversation(p.Email)
	send := func(text, picture string) int {
		body, _ := json.Marshal(map[string]any{"type": "message", "text": text, "attachments": []map[string]string{
			{"contentType": "image/png", "contentUrl": "data:image/png;base64," + picture}}})
		return call(t, http.MethodPost, s.ServiceURL()+"v3/conversations/"+conv+"/activities", botToken, string(body))
	}
	for _, tc := range []struct {
		name, text, picture string
		want                int
	}{
		// 60 KB in UTF-8, 120 KB in UTF-16: refused.
		{"ASCII", strings.Repeat("x", 60*1000), "", http.StatusRequestEntityTooLarge},
		// 105 KB in UTF-8, 70 KB in UTF-16: taken.
		{"CJK", strings.Repeat("日", 35*1000), "", http.StatusCreated},
		// 4 bytes a character either way: 112 KB refused.
		{"emoji", strings.Repeat("😀", 28*1000), "", http.StatusRequestEntityTooLarge},
		// A 300 KB picture as base64 does not count.
		{"picture", "chart", strings.Repeat("A", 300*1000), http.StatusCreated},
	} {
		if got := send(tc.text, tc.picture); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	var refused Call
	for _, c := range s.Calls() {
		if c.Status == http.StatusRequestEntityTooLarge {
			refused = c
			break
		}
	}
	if refused.Size < DefaultMessageLimit {
		t.Errorf("the refused write is recorded as %d bytes", refused.Size)
	}
}
