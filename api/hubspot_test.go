package api_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slabot/slabot/api"
	"github.com/slabot/slabot/crm/hubspot"
	"github.com/slabot/slabot/crm/hubspot/hubspotfake"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/storagetest"
)

const hubSpotSecret = "hs-client-secret-0000"

// newHubSpotEnv serves /v1/handoffs and /v1/hubspot/handoffs on one
// database. owners is nil for a deployment without HUBSPOT_TOKEN.
func newHubSpotEnv(t testing.TB, policyExtra string, owners api.HubSpotOwners) *intakeEnv {
	t.Helper()
	return newHubSpotEnvWith(t, policyExtra, owners, "fit_score", slog.New(slog.DiscardHandler))
}

// newHubSpotEnvWith is newHubSpotEnv with HUBSPOT_SCORE_PROPERTY set to
// scoreProperty and the HubSpot intake logging to logger.
func newHubSpotEnvWith(t testing.TB, policyExtra string, owners api.HubSpotOwners, scoreProperty string, hsLogger *slog.Logger) *intakeEnv {
	t.Helper()
	db := storagetest.NewDB(t)
	policy, problems := engine.ParsePolicy([]byte(testPolicy+policyExtra), time.Now())
	if err := problems.Errors(); len(err) > 0 {
		t.Fatal(err)
	}
	if err := db.SyncTeams(context.Background(), policy.Teams); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	svc := engine.NewService(db, policy, time.Now, logger)
	server := api.NewServer(logger, nil)
	intake := api.NewIntake(svc, testToken, logger, api.NewRegistry())
	intake.StoreDeadline = 30 * time.Second
	intake.Register(server)
	hs := api.NewHubSpotIntake(intake, svc.Policy, owners, hubSpotSecret, hsLogger)
	hs.ScoreProperty = scoreProperty
	hs.Register(server)
	srv := httptest.NewServer(server)
	t.Cleanup(srv.Close)
	return &intakeEnv{db: db, srv: srv}
}

// The same lead three ways: the intake's own JSON, a HubSpot workflow's
// customised flat body, and its default nested body.
const (
	nativeForHubSpot = `{"external_id": "5101", "source": "demo_request", "score": 87, "owner_email": "bo@example.com",
 "contact": {"name": "Dana Ruiz", "email": "dana@acme.test", "title": "VP Ops", "phone": "+1 555 0100"},
 "company": {"name": "Acme Corp", "domain": "acme.test", "employees": 1200, "industry": "Manufacturing", "country": "US"},
 "context": {"form": {"budget": "$50k"}}}`
	flatHubSpot = `{"hs_object_id": "5101", "email": "dana@acme.test", "firstname": "Dana", "lastname": "Ruiz",
 "jobtitle": "VP Ops", "phone": "+1 555 0100", "company": "Acme Corp", "website": "https://www.acme.test/",
 "numemployees": "1200", "industry": "Manufacturing", "country": "US", "fit_score": "87",
 "hs_analytics_source": "DEMO_REQUEST", "hubspot_owner_id": "bo@example.com", "budget": "$50k", "lifecyclestage": ""}`
	nestedHubSpot = `{"vid": 5101, "canonical-vid": 5101, "portal-id": 62515, "is-contact": true,
 "properties": {"email": {"value": "dana@acme.test", "versions": []}, "firstname": {"value": "Dana"},
  "lastname": {"value": "Ruiz"}, "jobtitle": {"value": "VP Ops"}, "phone": {"value": "+1 555 0100"},
  "company": {"value": "Acme Corp"}, "website": {"value": "acme.test"}, "numemployees": {"value": "1200"},
  "industry": {"value": "Manufacturing"}, "country": {"value": "US"}, "fit_score": {"value": "87"},
  "hs_analytics_source": {"value": "demo_request"}, "hubspot_owner_id": {"value": "bo@example.com"},
  "budget": {"value": "$50k"}}}`
)

func TestHubSpotBodiesMakeTheLeadANativeHandOffMakes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	native := newHubSpotEnv(t, "", nil)
	r := native.post(t, "/v1/handoffs", nativeForHubSpot)
	if r.Status != http.StatusCreated {
		t.Fatalf("native: %d %s", r.Status, r.Raw)
	}
	want, err := native.db.LeadByExternalID(ctx, "5101")
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"flat": flatHubSpot, "nested": nestedHubSpot} {
		t.Run(name, func(t *testing.T) {
			e := newHubSpotEnv(t, "", nil)
			r := e.post(t, "/v1/hubspot/handoffs", body)
			if r.Status != http.StatusCreated {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			got, err := e.db.LeadByExternalID(ctx, "5101")
			if err != nil {
				t.Fatal(err)
			}
			same := func(what string, g, w any) {
				if g != w {
					t.Errorf("%s: %v, the native hand-off has %v", what, g, w)
				}
			}
			same("owner", got.OwnerEmail, want.OwnerEmail)
			same("source", got.Source, want.Source)
			same("score", got.Score, want.Score)
			same("rule", got.Rule, want.Rule)
			same("contact", got.Contact, want.Contact)
			same("company", got.Company, want.Company)
			same("budget answer", got.Context.Form["budget"], want.Context.Form["budget"])
			if name == "nested" && got.CRMURL != "https://app.hubspot.com/contacts/62515/record/0-1/5101" {
				t.Errorf("crm_url %q: want the contact's record in portal 62515", got.CRMURL)
			}
			// A workflow that fires twice does not make a second lead.
			again := e.post(t, "/v1/hubspot/handoffs", body)
			if again.Status != http.StatusOK || again.id(t) != r.id(t) {
				t.Errorf("a repeat: %d %s; want 200 with id %d", again.Status, again.Raw, r.id(t))
			}
		})
	}
}

func TestHubSpotOwnerIDsAreLookedUpAndAnUnknownOwnerMeansRoundRobin(t *testing.T) {
	t.Parallel()
	fake := hubspotfake.New()
	defer fake.Close()
	fake.AddToken("pat-test", hubspotfake.AllScopes...)
	fake.AddOwner("77", "Bo@Example.com")
	fake.AddOwner("78", "someone.gone@example.com")
	owners := &hubspot.Client{BaseURL: fake.APIURL(), Token: "pat-test"}
	e := newHubSpotEnv(t, "", owners)
	r := e.post(t, "/v1/hubspot/handoffs", `{"hs_object_id": "1", "email": "a@acme.test", "hubspot_owner_id": "77"}`)
	if r.Status != http.StatusCreated || r.Body["owner"] != "bo@example.com" {
		t.Errorf("owner 77: %d %s; want bo@example.com", r.Status, r.Raw)
	}
	for _, body := range []string{
		`{"hs_object_id": "2", "email": "b@acme.test", "hubspot_owner_id": "78"}`,
		`{"hs_object_id": "3", "email": "c@acme.test", "hubspot_owner_id": "999"}`,
	} {
		r := e.post(t, "/v1/hubspot/handoffs", body)
		owner, _ := r.Body["owner"].(string)
		if r.Status != http.StatusCreated || (owner != "ana@example.com" && owner != "bo@example.com") {
			t.Errorf("%s: %d %s; want round robin to a rep of the team", body, r.Status, r.Raw)
		}
	}
	if !strings.Contains(e.post(t, "/v1/hubspot/handoffs", `{"hs_object_id": "4", "email": "d@acme.test", "hubspot_owner_id": "999"}`).Raw, "could not be looked up") {
		t.Errorf("an owner id HubSpot does not know must be named in a warning")
	}

	without := newHubSpotEnv(t, "", nil)
	r = without.post(t, "/v1/hubspot/handoffs", `{"hs_object_id": "1", "email": "a@acme.test", "hubspot_owner_id": "77"}`)
	if r.Status != http.StatusCreated || !strings.Contains(r.Raw, "HUBSPOT_TOKEN") {
		t.Errorf("without a token: %d %s; want the lead, round robin, and a warning naming HUBSPOT_TOKEN", r.Status, r.Raw)
	}
}

func TestHubSpotMapInThePolicyOverridesTheStockNames(t *testing.T) {
	t.Parallel()
	e := newHubSpotEnv(t, "crm:\n  hubspot:\n    map: {owner: sales_rep, score: lead_grade, external_id: crm_id}\n", nil)
	r := e.post(t, "/v1/hubspot/handoffs", `{"crm_id": "X-9", "hs_object_id": "9", "email": "e@acme.test",
		"sales_rep": "ana@example.com", "lead_grade": 42, "hubspotscore": 3}`)
	if r.Status != http.StatusCreated {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	l, err := e.db.LeadByExternalID(context.Background(), "X-9")
	if err != nil {
		t.Fatal(err)
	}
	if l.OwnerEmail != "ana@example.com" || l.Score != 42 {
		t.Errorf("owner %q score %d; want ana@example.com and 42 from the mapped properties", l.OwnerEmail, l.Score)
	}
}

func TestHubSpotRefusesOnlyALeadNobodyCanWork(t *testing.T) {
	t.Parallel()
	e := newHubSpotEnv(t, "", nil)
	r := e.post(t, "/v1/hubspot/handoffs", `{"email": "a@acme.test", "firstname": "A"}`)
	if r.Status != http.StatusBadRequest || r.fieldErrors()["hs_object_id"] == "" {
		t.Errorf("no record id: %d %s; want 400 naming hs_object_id", r.Status, r.Raw)
	}
	r = e.post(t, "/v1/hubspot/handoffs", `{"hs_object_id": "5"}`)
	if r.Status != http.StatusBadRequest {
		t.Errorf("nobody to contact: %d %s; want 400", r.Status, r.Raw)
	}
	r = e.post(t, "/v1/hubspot/handoffs", `{"hs_object_id": "6", "email": "f@acme.test", "numemployees": "lots", "hubspotscore": [1]}`)
	if r.Status != http.StatusCreated || !strings.Contains(r.Raw, "warnings") {
		t.Errorf("bad optional values: %d %s; want 201 with warnings", r.Status, r.Raw)
	}
	if r := e.post(t, "/v1/hubspot/handoffs", `[1, 2]`); r.Status != http.StatusBadRequest {
		t.Errorf("a list: %d %s", r.Status, r.Raw)
	}
	if r := e.post(t, "/v1/hubspot/handoffs", flatHubSpot, "Authorization", "Bearer wrong"); r.Status != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d", r.Status)
	}
}

// signV3 signs a request as HubSpot's v3 signature is specified: base64
// HMAC-SHA256 keyed by the client secret of method, URI, body, timestamp.
func signV3(secret, method, uri, body, timestamp string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(method + uri + body + timestamp))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestHubSpotV3SignatureStandsInForTheBearerToken(t *testing.T) {
	t.Parallel()
	e := newHubSpotEnv(t, "", nil)
	send := func(body, signature, ts string) int {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/hubspot/handoffs", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-HubSpot-Signature-v3", signature)
		req.Header.Set("X-HubSpot-Request-Timestamp", ts)
		req.Header.Set("X-Forwarded-Proto", "https")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	uri := "https://" + strings.TrimPrefix(e.srv.URL, "http://") + "/v1/hubspot/handoffs"
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	if got := send(flatHubSpot, signV3(hubSpotSecret, "POST", uri, flatHubSpot, now), now); got != http.StatusCreated {
		t.Errorf("signed: %d, want 201", got)
	}
	tampered := strings.Replace(flatHubSpot, "bo@example.com", "ana@example.com", 1)
	if got := send(tampered, signV3(hubSpotSecret, "POST", uri, flatHubSpot, now), now); got != http.StatusUnauthorized {
		t.Errorf("a tampered body: %d, want 401", got)
	}
	old := strconv.FormatInt(time.Now().Add(-10*time.Minute).UnixMilli(), 10)
	if got := send(flatHubSpot, signV3(hubSpotSecret, "POST", uri, flatHubSpot, old), old); got != http.StatusUnauthorized {
		t.Errorf("a ten-minute-old signature: %d, want 401", got)
	}
	if got := send(flatHubSpot, signV3("another secret", "POST", uri, flatHubSpot, now), now); got != http.StatusUnauthorized {
		t.Errorf("the wrong secret: %d, want 401", got)
	}
}

// FuzzHubSpotHandOff sends anything to /v1/hubspot/handoffs: never a 5xx,
// a 400 names a field, and what is stored is clean.
func FuzzHubSpotHandOff(f *testing.F) {
	for _, s := range []string{
		flatHubSpot, nestedHubSpot, `{}`, `[]`, `null`, `"x"`, `{"properties": 5}`, `{"properties": []}`,
		`{"properties": {"email": {"value": {"a": 1}}, "hs_object_id": {"value": ["1"]}}}`,
		`{"properties": {"email": "plain", "hs_object_id": {"value": "7"}, "company": {"versions": []}}}`,
		`{"hs_object_id": "\u0000", "email": "\u0000@x.test", "firstname": "\u0007", "company": "\u0000"}`,
		"{\"hs_object_id\": \"8\xff\", \"email\": \"a@b.c\", \"\xfe\": \"\xff\"}",
		`{"hs_object_id": 1e400, "email": "a@b.c", "hubspotscore": 1e400, "numemployees": -1e300}`,
		`{"hs_object_id": "9", "company": "Acme", "website": "http://[::1", "hubspot_owner_id": {"a": 1}}`,
		`{"hs_object_id": "10", "company": "Acme", "hs_object_id": "11", "HS_OBJECT_ID": "12"}`,
		`{"vid": 13, "portal-id": "1; DROP TABLE", "properties": {"email": {"value": "x@y.z"}}}`,
		`{"hs_object_id": "14", "email": "q@x.test", "` + strings.Repeat("p", 3000) + `": "` + strings.Repeat("v", 70000) + `"}`,
		strings.Repeat(`{"properties":`, 3000) + `1` + strings.Repeat(`}`, 3000),
	} {
		f.Add([]byte(s))
	}
	e := newHubSpotEnv(f, "", nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/hubspot/handoffs", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%q answered %d: %s", body, resp.StatusCode, raw)
		}
		var reply struct {
			ExternalID string `json:"external_id"`
			Errors     engine.FieldErrors
		}
		if err := json.Unmarshal(raw, &reply); err != nil {
			t.Fatalf("%q answered with non-JSON %q", body, raw)
		}
		switch {
		case resp.StatusCode == http.StatusBadRequest:
			if len(reply.Errors) == 0 {
				t.Fatalf("%q: a 400 that names no field: %s", body, raw)
			}
		case resp.StatusCode < 300:
			checkStored(t, e, "handoffs", reply.ExternalID, "")
		}
	})
}

func TestHubSpotSignedBodyOverOneMiBIs413(t *testing.T) {
	t.Parallel()
	e := newHubSpotEnv(t, "", nil)
	big := `{"hs_object_id": "1", "email": "a@acme.test", "notes": "` + strings.Repeat("x", api.MaxBodyBytes) + `"}`
	r := e.post(t, "/v1/hubspot/handoffs", big, "X-HubSpot-Signature-v3", "c2ln", "X-HubSpot-Request-Timestamp", "1")
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("%d %s; want 413", r.Status, r.Raw)
	}
}

// slowOwners answers owner lookups after a delay, as a slow HubSpot would.
type slowOwners struct{ delay time.Duration }

func (s slowOwners) OwnerEmail(ctx context.Context, id string) (string, error) {
	select {
	case <-time.After(s.delay):
		return "bo@example.com", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func TestASlowOwnerLookupDoesNotEatTheDatabasesDeadline(t *testing.T) {
	t.Parallel()
	db := storagetest.NewDB(t)
	policy, _ := engine.ParsePolicy([]byte(testPolicy), time.Now())
	if err := db.SyncTeams(context.Background(), policy.Teams); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	svc := engine.NewService(db, policy, time.Now, logger)
	server := api.NewServer(logger, nil)
	intake := api.NewIntake(svc, testToken, logger, api.NewRegistry())
	intake.StoreDeadline = 800 * time.Millisecond
	api.NewHubSpotIntake(intake, svc.Policy, slowOwners{delay: time.Second}, "", logger).Register(server)
	srv := httptest.NewServer(server)
	defer srv.Close()
	e := &intakeEnv{db: db, srv: srv}
	r := e.post(t, "/v1/hubspot/handoffs", `{"hs_object_id": "1", "email": "a@acme.test", "hubspot_owner_id": "77"}`)
	if r.Status != http.StatusCreated || r.Body["owner"] != "bo@example.com" || strings.Contains(r.Raw, "looked up") {
		t.Errorf("%d %s; want 201 with the looked-up owner, bo", r.Status, r.Raw)
	}
}

// hubSpotV3URI is the URI as HubSpot's v3 instructions have it signed:
// the escapes of : / ? @ ! $ ' ( ) * , ; decoded, every other escape kept.
func hubSpotV3URI(u string) string {
	for esc, c := range map[string]string{"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
		"%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"} {
		u = strings.ReplaceAll(u, esc, c)
	}
	return u
}

// signV2 signs as HubSpot's v2 signature is specified: hex SHA-256 of
// client secret + method + URI + body.
func signV2(secret, method, uri, body string) string {
	sum := sha256.Sum256([]byte(secret + method + uri + body))
	return hex.EncodeToString(sum[:])
}

// syncBuffer is a log sink tests can read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestHubSpotWorkflowSignaturesV3AndV2AreAccepted: a workflow's "Send a
// webhook" action with a request signature sends v3 and v2 together; each
// alone lets the request in, v1 does not, and a refusal is logged with
// the check that failed and no secret.
func TestHubSpotWorkflowSignaturesV3AndV2AreAccepted(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e := newHubSpotEnvWith(t, "", nil, "fit_score", slog.New(slog.NewTextHandler(&logs, nil)))
	// The workflow's URL carries a query HubSpot escapes: %3A is decoded
	// for v3, %25 and %20 are not.
	path := "/v1/hubspot/handoffs?source=hubspot%3Aworkflow&note=100%25%20sure"
	calledURI := "https://" + strings.TrimPrefix(e.srv.URL, "http://") + path
	send := func(body string, headers ...string) int {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-Proto", "https")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	body := func(id string) string {
		return strings.Replace(strings.Replace(flatHubSpot, `"5101"`, `"`+id+`"`, 1), "dana@acme.test", "dana"+id+"@acme.test", 1)
	}
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	v3 := func(b string) []string {
		return []string{"X-HubSpot-Signature-v3", signV3(hubSpotSecret, "POST", hubSpotV3URI(calledURI), b, now),
			"X-HubSpot-Request-Timestamp", now}
	}
	v2 := func(b string) []string {
		return []string{"X-HubSpot-Signature-Version", "v2", "X-HubSpot-Signature", signV2(hubSpotSecret, "POST", calledURI, b)}
	}
	if got := send(body("7001"), append(v3(body("7001")), v2(body("7001"))...)...); got != http.StatusCreated {
		t.Errorf("v3 and v2 together, as a workflow sends them: %d, want 201", got)
	}
	if got := send(body("7002"), v3(body("7002"))...); got != http.StatusCreated {
		t.Errorf("v3 alone: %d, want 201", got)
	}
	if got := send(body("7003"), v2(body("7003"))...); got != http.StatusCreated {
		t.Errorf("v2 alone: %d, want 201", got)
	}
	if got := send(body("7004"), v2(body("7003"))...); got != http.StatusUnauthorized {
		t.Errorf("v2 of another body: %d, want 401", got)
	}
	v1 := sha256.Sum256([]byte(hubSpotSecret + body("7005")))
	if got := send(body("7005"), "X-HubSpot-Signature-Version", "v1", "X-HubSpot-Signature", hex.EncodeToString(v1[:])); got != http.StatusUnauthorized {
		t.Errorf("v1 (not covering the address): %d, want 401", got)
	}
	// Decoding every escape, as a generic URL decoder does, is not what
	// HubSpot signs: such a signature must not pass.
	every, _ := url.PathUnescape(calledURI)
	if got := send(body("7006"), "X-HubSpot-Signature-v3", signV3(hubSpotSecret, "POST", every, body("7006"), now),
		"X-HubSpot-Request-Timestamp", now); got != http.StatusUnauthorized {
		t.Errorf("v3 over a URI with every escape decoded: %d, want 401", got)
	}
	old := strconv.FormatInt(time.Now().Add(-10*time.Minute).UnixMilli(), 10)
	if got := send(body("7007"), "X-HubSpot-Signature-v3", signV3(hubSpotSecret, "POST", hubSpotV3URI(calledURI), body("7007"), old),
		"X-HubSpot-Request-Timestamp", old); got != http.StatusUnauthorized {
		t.Errorf("an old v3: %d, want 401", got)
	}
	out := logs.String()
	for _, want := range []string{"check=\"the v2 signature does not match", "version=v1", "check=\"the timestamp is more than five minutes",
		"check=\"the signature does not match"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, hubSpotSecret) || strings.Contains(out, signV2(hubSpotSecret, "POST", calledURI, body("7003"))) {
		t.Errorf("the log shows the secret or a signature:\n%s", out)
	}
}

// hubSpotDefaultBody is what a workflow's "Send a webhook" sends when its
// body is not customised: every contact property, HubSpot's own included.
const hubSpotDefaultBody = `{"objectId": 8101, "properties": {
 "hs_object_id": {"value": "8101"}, "email": {"value": "lee@acme.test"}, "firstname": {"value": "Lee"},
 "company": {"value": "Acme Corp"}, "numemployees": {"value": "25-50"}, "fit_score": {"value": "61"},
 "hubspotscore": {"value": "12"}, "budget": {"value": "$20k"}, "timeline": {"value": "Q3"},
 "hs_analytics_source": {"value": "ORGANIC_SEARCH"}, "hs_analytics_num_page_views": {"value": "14"},
 "hs_email_domain": {"value": "acme.test"}, "hs_lifecyclestage_lead_date": {"value": "1733500000000"},
 "hs_latest_source_data_1": {"value": "google"}, "createdate": {"value": "1733500000000"},
 "lastmodifieddate": {"value": "1733500000000"}, "lifecyclestage": {"value": "salesqualifiedlead"},
 "num_notes": {"value": "0"}, "ip_city": {"value": "Lyon"}}}`

func TestHubSpotDefaultBodyGivesOnlyMappedAndListedAnswersAndKeepsTheRange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, c := range map[string]struct {
		policy string
		want   []string
	}{
		"the policy lists the answers":           {"crm:\n  hubspot:\n    form: [budget]\n", []string{"budget"}},
		"no list: HubSpot's own fields left out": {"", []string{"budget", "timeline"}},
	} {
		t.Run(name, func(t *testing.T) {
			e := newHubSpotEnv(t, c.policy, nil)
			r := e.post(t, "/v1/hubspot/handoffs", hubSpotDefaultBody)
			if r.Status != http.StatusCreated {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			l, err := e.db.LeadByExternalID(ctx, "8101")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for k := range l.Context.Form {
				got = append(got, k)
			}
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("form answers %v, want %v", got, c.want)
			}
			if l.Company.EmployeesRange != "25-50" || l.Company.Employees != 25 {
				t.Errorf("employees %d, range %q; want the range 25-50 kept and counted as 25", l.Company.Employees, l.Company.EmployeesRange)
			}
			if l.Score != 61 || l.Source != "organic_search" {
				t.Errorf("score %d source %q; want 61 from HUBSPOT_SCORE_PROPERTY and organic_search", l.Score, l.Source)
			}
		})
	}
}

func TestHubSpotScorePropertyIsASettingAndTheLegacyScoreIsNotRead(t *testing.T) {
	t.Parallel()
	e := newHubSpotEnvWith(t, "", nil, "", slog.New(slog.DiscardHandler))
	r := e.post(t, "/v1/hubspot/handoffs", hubSpotDefaultBody)
	if r.Status != http.StatusCreated || !strings.Contains(r.Raw, "HUBSPOT_SCORE_PROPERTY") {
		t.Fatalf("%d %s; want the lead and a warning naming HUBSPOT_SCORE_PROPERTY", r.Status, r.Raw)
	}
	l, err := e.db.LeadByExternalID(context.Background(), "8101")
	if err != nil {
		t.Fatal(err)
	}
	if l.Score != 0 {
		t.Errorf("score %d: the retired hubspotscore was read", l.Score)
	}
	for _, range_ := range []struct{ in, want string }{{`"1,000-5,000"`, "1000-5000"}, {`"10000+"`, "10000+"}, {`"1200"`, ""}} {
		body := `{"hs_object_id": "90` + strconv.Itoa(len(range_.in)) + `", "email": "r` + strconv.Itoa(len(range_.in)) +
			`@acme.test", "numemployees": ` + range_.in + `}`
		if r := e.post(t, "/v1/hubspot/handoffs", body); r.Status != http.StatusCreated {
			t.Fatalf("%s: %d %s", range_.in, r.Status, r.Raw)
		}
		l, err := e.db.LeadByExternalID(context.Background(), "90"+strconv.Itoa(len(range_.in)))
		if err != nil {
			t.Fatal(err)
		}
		if l.Company.EmployeesRange != range_.want || l.Company.Employees == 0 {
			t.Errorf("numemployees %s: %d, range %q; want range %q", range_.in, l.Company.Employees, l.Company.EmployeesRange, range_.want)
		}
	}
}
