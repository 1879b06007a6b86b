package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slabot/slabot/api"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

const testToken = "s3cret-intake-token"

const testPolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "#sales-ops"
    reps: [ana@example.com, bo@example.com]
rules:
  - name: demo-request
    match: {source: demo_request}
    first_touch: 15m
    touches: {count: 8, within: 15d}
    remind_before: [10m, 2m]
    on_breach: [notify_manager, reassign]
  - name: default
    first_touch: 4h
    touches: {count: 6, within: 14d}
    remind_before: [1h, 15m]
    on_breach: [notify_manager, return_to_marketing]
`

type intakeEnv struct {
	db  *storage.DB
	srv *httptest.Server
}

func newIntakeEnv(t testing.TB) *intakeEnv {
	t.Helper()
	db := storagetest.NewDB(t)
	policy, problems := engine.ParsePolicy([]byte(testPolicy), time.Now())
	if err := problems.Errors(); len(err) > 0 {
		t.Fatal(err)
	}
	if err := db.SyncTeams(context.Background(), policy.Teams); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	svc := engine.NewService(db, policy, time.Now, logger)
	reg := api.NewRegistry()
	server := api.NewServer(logger, nil)
	intake := api.NewIntake(svc, testToken, logger, reg)
	// A busy test machine must not turn a slow answer into a 503: the
	// deadline itself is tested with a database that never answers.
	intake.StoreDeadline = 30 * time.Second
	intake.Register(server)
	srv := httptest.NewServer(server)
	t.Cleanup(srv.Close)
	return &intakeEnv{db: db, srv: srv}
}

type reply struct {
	Status int
	Body   map[string]any
	Raw    string
}

func (e *intakeEnv) post(t testing.TB, path, body string, headers ...string) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{Status: resp.StatusCode, Raw: string(raw)}
	if err := json.Unmarshal(raw, &r.Body); err != nil {
		t.Fatalf("%s answered %d with a body that is not JSON: %q", path, resp.StatusCode, raw)
	}
	return r
}

func (r reply) id(t testing.TB) int64 {
	t.Helper()
	id, ok := r.Body["id"].(float64)
	if !ok {
		t.Fatalf("reply has no id: %s", r.Raw)
	}
	return int64(id)
}

func (r reply) fieldErrors() map[string]string {
	out := map[string]string{}
	list, _ := r.Body["errors"].([]any)
	for _, item := range list {
		m := item.(map[string]any)
		out[m["field"].(string)] = m["message"].(string)
	}
	return out
}

func (e *intakeEnv) jobKinds(t testing.TB, leadID int64) map[string]int {
	t.Helper()
	jobs, err := e.db.JobsOfLead(context.Background(), leadID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, j := range jobs {
		switch j.State {
		case "available", "scheduled", "retryable": // waiting to run
			kinds[j.Kind]++
		}
	}
	return kinds
}

const fullHandOff = `{"external_id": "crm-123", "source": "demo_request", "segment": "enterprise",
 "score": 87, "owner_email": "ana@example.com",
 "contact": {"name": "Dana Ruiz", "email": "dana@acme.test", "title": "VP Ops", "phone": "+1 555 0100"},
 "company": {"name": "Acme Corp", "domain": "acme.test", "employees": 1200, "industry": "Manufacturing", "country": "US"},
 "context": {"form": {"Budget": "$50k", "Timeline": "Q1"},
             "activity": {"visits": 7, "pages": ["/pricing", "/case-studies/x"], "downloads": ["ROI guide"]}},
 "crm_url": "https://crm.example/leads/123", "value": 25000, "handed_off_at": "2026-11-22T14:05:00Z"}`

func TestHandOff(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	ctx := context.Background()

	first := e.post(t, "/v1/handoffs", fullHandOff)
	t.Run("ANewLeadIsCreatedForItsNamedOwner", func(t *testing.T) {
		if first.Status != http.StatusCreated {
			t.Fatalf("status %d, want 201: %s", first.Status, first.Raw)
		}
		if first.Body["owner"] != "ana@example.com" || first.Body["rule"] != "demo-request" || first.Body["status"] != "created" {
			t.Errorf("reply = %s", first.Raw)
		}
		l, err := e.db.LeadByID(ctx, first.id(t))
		if err != nil {
			t.Fatal(err)
		}
		if l.Context.Form["Budget"] != "$50k" || l.Company.Employees != 1200 || l.Context.Activity.Visits != 7 {
			t.Errorf("stored lead lost context: %+v", l)
		}
		want := map[string]int{engine.JobHandOff: 1, engine.JobReminder: 2, engine.JobFirstTouchDue: 1, engine.JobCadenceDue: 1}
		if got := e.jobKinds(t, l.ID); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("queued jobs = %v, want %v", got, want)
		}
		if got := l.FirstTouchDue.Sub(l.AssignedAt); got != 15*time.Minute {
			t.Errorf("first touch due %v after assignment, want 15m on a 24×7 clock", got)
		}
	})

	t.Run("ARepeatAnswers200WithTheSameIDAndSendsNothingNew", func(t *testing.T) {
		changed := strings.Replace(fullHandOff, `"visits": 7`, `"visits": 9`, 1)
		again := e.post(t, "/v1/handoffs", changed)
		if again.Status != http.StatusOK || again.id(t) != first.id(t) || again.Body["status"] != "repeated" {
			t.Fatalf("repeat = %d %s; want 200 with id %d", again.Status, again.Raw, first.id(t))
		}
		if got := e.jobKinds(t, first.id(t)); got[engine.JobHandOff] != 1 {
			t.Errorf("a repeat queued another hand-off DM: %v", got)
		}
		l, _ := e.db.LeadByID(ctx, first.id(t))
		if l.Context.Activity.Visits != 9 {
			t.Errorf("visits = %d, want the repeat's 9 merged in", l.Context.Activity.Visits)
		}
		events, _ := e.db.Events(ctx, l.ID)
		if last := events[len(events)-1]; last.Kind != "updated" {
			t.Errorf("last event = %q, want updated", last.Kind)
		}
	})

	t.Run("ANewIDForAnOpenLeadsContactIsLinkedWithNoSecondSLA", func(t *testing.T) {
		dup := strings.Replace(fullHandOff, `"crm-123"`, `"crm-999"`, 1)
		r := e.post(t, "/v1/handoffs", dup)
		if r.Status != http.StatusOK || r.id(t) != first.id(t) || r.Body["status"] != "linked" {
			t.Fatalf("linked = %d %s; want 200 linked to %d", r.Status, r.Raw, first.id(t))
		}
		if !strings.Contains(r.Body["message"].(string), "linked") {
			t.Errorf("message does not say it was linked: %s", r.Raw)
		}
		again := e.post(t, "/v1/handoffs", dup)
		if again.id(t) != first.id(t) || again.Body["status"] != "repeated" {
			t.Errorf("a repeat of the linked id = %s; want a repeat of lead %d", again.Raw, first.id(t))
		}
	})

	t.Run("WithoutOwnerLeadsTakeTurns", func(t *testing.T) {
		var owners []string
		for i := range 4 {
			r := e.post(t, "/v1/handoffs", fmt.Sprintf(`{"external_id": "rr-%d", "company": {"name": "Co %d"}}`, i, i))
			if r.Status != http.StatusCreated {
				t.Fatalf("status %d: %s", r.Status, r.Raw)
			}
			owners = append(owners, r.Body["owner"].(string))
		}
		if owners[0] == owners[1] || owners[0] != owners[2] || owners[1] != owners[3] {
			t.Errorf("owners = %v, want alternating turns", owners)
		}
	})

	t.Run("AnUnknownSourceFallsToTheCatchAllRule", func(t *testing.T) {
		r := e.post(t, "/v1/handoffs", `{"external_id": "src-1", "source": "carrier_pigeon", "contact": {"email": "p@x.test"}}`)
		if r.Status != http.StatusCreated || r.Body["rule"] != "default" {
			t.Errorf("reply = %d %s, want 201 under rule default", r.Status, r.Raw)
		}
	})

	t.Run("AnAwayOwnersLeadGoesToTheTeamAndOpsAreTold", func(t *testing.T) {
		if err := e.db.UpdateRep(ctx, &engine.Rep{Email: "bo@example.com", Status: engine.RepAway}); err != nil {
			t.Fatal(err)
		}
		defer e.db.UpdateRep(ctx, &engine.Rep{Email: "bo@example.com", Status: engine.RepActive})
		r := e.post(t, "/v1/handoffs", `{"external_id": "away-1", "owner_email": "bo@example.com", "contact": {"email": "q@x.test"}}`)
		if r.Status != http.StatusCreated || r.Body["owner"] != "ana@example.com" {
			t.Fatalf("reply = %d %s, want 201 owned by ana", r.Status, r.Raw)
		}
		if got := e.jobKinds(t, r.id(t)); got[engine.JobOpsAlert] != 1 {
			t.Errorf("jobs = %v, want an ops alert", got)
		}
	})

	t.Run("UnknownFieldsAreIgnoredWithAWarning", func(t *testing.T) {
		r := e.post(t, "/v1/handoffs", `{"external_id": "warn-1", "company": {"name": "W"}, "owner_mail": "x@y.z"}`)
		if r.Status != http.StatusCreated || !strings.Contains(r.Raw, "owner_mail is not a field") {
			t.Errorf("reply = %d %s, want 201 with a warning about owner_mail", r.Status, r.Raw)
		}
	})
}

func TestHandOffErrors(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)

	t.Run("OnlyAnUnworkableHandOffIsRefusedWithEveryProblemAtOnce", func(t *testing.T) {
		r := e.post(t, "/v1/handoffs", `{"score": "high", "contact": {"email": "not-an-email"}, "owner_email": 12, "crm_url": "crm/1", "handed_off_at": "yesterday"}`)
		if r.Status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400: %s", r.Status, r.Raw)
		}
		got := r.fieldErrors()
		if len(got) != 2 || got["external_id"] == "" || !strings.Contains(got["contact.email"], `"not-an-email" is not an email address`) {
			t.Errorf("errors %v; want external_id and contact.email, the two that make the lead unworkable", got)
		}
		warnings := fmt.Sprint(r.Body["warnings"])
		for _, field := range []string{"score:", "contact.email:", "owner_email:", "crm_url:", "handed_off_at:"} {
			if !strings.Contains(warnings, field) {
				t.Errorf("no warning for %s in %s", field, r.Raw)
			}
		}
	})

	cases := []struct {
		name, body string
		headers    []string
		want       int
	}{
		{"NoTokenIs401", fullHandOff, []string{"Authorization", ""}, http.StatusUnauthorized},
		{"AWrongTokenIs401", fullHandOff, []string{"Authorization", "Bearer guess"}, http.StatusUnauthorized},
		{"ABasicAuthHeaderIs401", fullHandOff, []string{"Authorization", "Basic " + testToken}, http.StatusUnauthorized},
		{"ANonJSONBodyIs415", fullHandOff, []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType},
		{"MalformedJSONIs400", `{"external_id": "x",`, nil, http.StatusBadRequest},
		{"AnEmptyBodyIs400", ``, nil, http.StatusBadRequest},
		{"AJSONArrayIs400", `[1, 2]`, nil, http.StatusBadRequest},
		{"OverOneMebibyteIs413", `{"external_id": "big", "note": "` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, nil, http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.post(t, "/v1/handoffs", c.body, c.headers...)
			if r.Status != c.want {
				t.Errorf("status %d, want %d: %s", r.Status, c.want, r.Raw)
			}
			if msg, _ := r.Body["error"].(string); msg == "" {
				t.Errorf("no error message in %s", r.Raw)
			}
		})
	}
}

func TestConcurrentBurstOfOneHandOffMakesOneLeadAndOneDM(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	var wg sync.WaitGroup
	ids := make([]int64, 20)
	statuses := make([]int, 20)
	for i := range 20 {
		wg.Go(func() {
			r := e.post(t, "/v1/handoffs", fullHandOff)
			statuses[i] = r.Status
			if r.Status < 300 {
				ids[i] = r.id(t)
			}
		})
	}
	wg.Wait()
	created := 0
	for i, s := range statuses {
		if s == http.StatusCreated {
			created++
		} else if s != http.StatusOK {
			t.Errorf("request %d answered %d", i, s)
		}
		if ids[i] != ids[0] {
			t.Errorf("request %d got lead %d, request 0 got %d", i, ids[i], ids[0])
		}
	}
	if created != 1 {
		t.Errorf("%d requests answered 201, want exactly 1", created)
	}
	var leads int
	if err := e.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM leads`).Scan(&leads); err != nil {
		t.Fatal(err)
	}
	if leads != 1 {
		t.Errorf("%d leads stored, want 1", leads)
	}
	if got := e.jobKinds(t, ids[0]); got[engine.JobHandOff] != 1 {
		t.Errorf("hand-off DMs queued = %d, want 1", got[engine.JobHandOff])
	}
}

func TestTouchesOutcomesAndMQLs(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	ctx := context.Background()
	lead := e.post(t, "/v1/handoffs", fullHandOff)

	t.Run("ATouchIsLoggedOnceAndStopsTheFirstTouchClock", func(t *testing.T) {
		body := `{"kind": "call", "at": "2026-11-22T14:20:00Z", "by_email": "ana@example.com", "note": "left voicemail"}`
		r := e.post(t, "/v1/leads/crm-123/touches", body)
		if r.Status != http.StatusCreated || r.Body["state"] != "working" {
			t.Fatalf("touch = %d %s, want 201 and state working", r.Status, r.Raw)
		}
		again := e.post(t, "/v1/leads/crm-123/touches", body)
		if again.Status != http.StatusOK || again.Body["status"] != "repeated" {
			t.Errorf("retried touch = %d %s, want 200 repeated", again.Status, again.Raw)
		}
		touches, _ := e.db.Touches(ctx, lead.id(t))
		if len(touches) != 1 {
			t.Errorf("%d touches stored, want 1", len(touches))
		}
		kinds := e.jobKinds(t, lead.id(t))
		if kinds[engine.JobReminder] != 0 || kinds[engine.JobFirstTouchDue] != 0 || kinds[engine.JobCadenceDue] != 1 {
			t.Errorf("pending jobs after the first touch = %v; want reminders and the first-touch check cancelled, the cadence kept", kinds)
		}
	})

	t.Run("ATouchWithAnIdempotencyKeyHeader", func(t *testing.T) {
		r1 := e.post(t, "/v1/leads/crm-123/touches", `{"kind": "email"}`, "Idempotency-Key", "k-1")
		r2 := e.post(t, "/v1/leads/crm-123/touches", `{"kind": "email"}`, "Idempotency-Key", "k-1")
		if r1.Status != http.StatusCreated || r2.Status != http.StatusOK {
			t.Errorf("statuses %d, %d; want 201 then 200", r1.Status, r2.Status)
		}
	})

	for _, c := range []struct {
		name, path, body string
		want             int
	}{
		{"ATouchOnAnUnknownLeadIs404", "/v1/leads/nope/touches", `{"kind": "call"}`, http.StatusNotFound},
		{"ATouchWithoutKindIs400", "/v1/leads/crm-123/touches", `{"note": "something happened"}`, http.StatusBadRequest},
		{"AnUnknownOutcomeIs400", "/v1/leads/crm-123/outcome", `{"outcome": "maybe"}`, http.StatusBadRequest},
		{"AnOutcomeOnAnUnknownLeadIs404", "/v1/leads/nope/outcome", `{"outcome": "won"}`, http.StatusNotFound},
		{"AnMQLWithoutIDIs400", "/v1/mqls", `{"source": "webinar"}`, http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := e.post(t, c.path, c.body); r.Status != c.want {
				t.Errorf("status %d, want %d: %s", r.Status, c.want, r.Raw)
			}
		})
	}

	t.Run("AnUnknownTouchKindIsLoggedAsOtherWithAWarning", func(t *testing.T) {
		r := e.post(t, "/v1/leads/crm-123/touches", `{"kind": "smoke signal", "key": "smoke-1"}`)
		if r.Status != http.StatusCreated || !strings.Contains(r.Raw, `kind: \"smoke signal\" is not a kind of touch slabot knows`) {
			t.Fatalf("touch = %d %s, want 201 with a warning", r.Status, r.Raw)
		}
		touches, _ := e.db.Touches(ctx, lead.id(t))
		if last := touches[len(touches)-1]; last.Kind != engine.TouchOther {
			t.Errorf("logged as %s, want other", last.Kind)
		}
	})

	t.Run("OutcomesMoveTheLeadAndImpossibleOnesAreRefused", func(t *testing.T) {
		r := e.post(t, "/v1/leads/crm-123/outcome", `{"outcome": "won", "amount": 30000}`)
		if r.Status != http.StatusOK || r.Body["state"] != "won" {
			t.Fatalf("won = %d %s", r.Status, r.Raw)
		}
		again := e.post(t, "/v1/leads/crm-123/outcome", `{"outcome": "won", "amount": 30000}`)
		if again.Status != http.StatusOK || again.Body["status"] != "repeated" {
			t.Errorf("repeated won = %d %s, want 200 repeated", again.Status, again.Raw)
		}
		bad := e.post(t, "/v1/leads/crm-123/outcome", `{"outcome": "opportunity"}`)
		if bad.Status != http.StatusBadRequest || !strings.Contains(bad.fieldErrors()["outcome"], "already won") {
			t.Errorf("won → opportunity = %d %s, want 400 explaining it is already won", bad.Status, bad.Raw)
		}
		l, _ := e.db.LeadByID(ctx, lead.id(t))
		if l.Amount != 30000 || l.ClosedAt.IsZero() {
			t.Errorf("lead amount %v closed %v", l.Amount, l.ClosedAt)
		}
		if kinds := e.jobKinds(t, l.ID); kinds[engine.JobCadenceDue] != 0 {
			t.Errorf("a won lead still has timers: %v", kinds)
		}
	})

	t.Run("MQLsAreCountedOnce", func(t *testing.T) {
		body := `{"external_id": "mql-1", "source": "webinar", "segment": "smb", "at": "2026-11-20T10:00:00Z"}`
		if r := e.post(t, "/v1/mqls", body); r.Status != http.StatusCreated {
			t.Errorf("first = %d %s", r.Status, r.Raw)
		}
		if r := e.post(t, "/v1/mqls", body); r.Status != http.StatusOK || r.Body["status"] != "repeated" {
			t.Errorf("repeat = %d %s", r.Status, r.Raw)
		}
	})
}
