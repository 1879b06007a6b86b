package crm_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slabot/slabot/crm"
	"github.com/slabot/slabot/crm/webhook"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

const loopPolicy = `
timezone: UTC
teams:
  - name: east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: default
    first_touch: 4h
    touches: {count: 6, within: 14d}
    on_breach: [notify_manager]
`

// testSecret is a Standard Webhooks secret: whsec_ and base64 of 32 bytes.
var testKey = []byte("0123456789abcdef0123456789abcdef")
var testSecret = "whsec_" + base64.StdEncoding.EncodeToString(testKey)

// verifySignature checks a request the way the Standard Webhooks
// specification tells a receiver to, written from the spec rather than
// from the signer: strip whsec_, base64-decode the key, HMAC-SHA256 over
// "id.timestamp.body", compare in constant time with each space-separated
// "v1,<base64>" of webhook-signature, and refuse a timestamp more than
// five minutes away from now.
func verifySignature(secret string, h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing headers: id %q, timestamp %q, signature %q", id, ts, sigs)
	}
	var sec int64
	if _, err := fmt.Sscan(ts, &sec); err != nil {
		return fmt.Errorf("timestamp %q: %v", ts, err)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is %s away", ts, d)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no signature of %q matches", sigs)
}

type received struct {
	Header http.Header
	Body   []byte
	Type   string
	Data   map[string]any
	Status int
}

// endpoint is a webhook receiver that records every request and answers
// with answer(n), n counting the requests from 1.
type endpoint struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, r received) int
}

func newEndpoint(t *testing.T, answer func(n int, r received) int) *endpoint {
	e := &endpoint{answer: answer}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := received{Header: r.Header.Clone(), Body: body}
		var b webhook.Body
		_ = json.Unmarshal(body, &b)
		rec.Type, rec.Data = b.Type, b.Data
		e.mu.Lock()
		n := len(e.got) + 1
		rec.Status = http.StatusNoContent
		if e.answer != nil {
			rec.Status = e.answer(n, rec)
		}
		e.got = append(e.got, rec)
		e.mu.Unlock()
		w.WriteHeader(rec.Status)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) requests() []received {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]received(nil), e.got...)
}

// delivered lists the types of the requests answered 2xx, in order.
func (e *endpoint) delivered() []string {
	var out []string
	for _, r := range e.requests() {
		if r.Status/100 == 2 {
			out = append(out, r.Type)
		}
	}
	return out
}

// clock is a test clock that starts now and moves when told.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

type loop struct {
	db      *storage.DB
	svc     *engine.Service
	clock   *clock
	deliver *webhook.Deliverer
}

// newLoop starts slabot's CRM side on a fresh database: the policy with
// hooksYAML as its webhooks section, the engine, and a worker for the crm
// queue with the router and the deliverer. writers are extra CRM writers
// with their handlers.
func newLoop(t *testing.T, hooksYAML string, writers []func(engine.CRMEventArgs) []engine.Job, handlers ...engine.JobHandler) *loop {
	t.Helper()
	db := storagetest.NewDB(t)
	policy, problems := engine.ParsePolicy([]byte(loopPolicy+hooksYAML), time.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if err := db.SyncTeams(context.Background(), policy.Teams); err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	svc := engine.NewService(db, policy, clk.Now, logger)
	if len(writers) > 0 {
		svc.PublishToCRMWriter(func(engine.CRMEventArgs) bool { return true })
	}
	router := &crm.Router{Store: db, Policy: svc.Policy, Writers: writers, Now: clk.Now, Logger: logger}
	deliverer := &webhook.Deliverer{Store: db, Now: clk.Now, Logger: logger,
		Backoff: func(int) time.Duration { return 20 * time.Millisecond },
		Secret:  crm.WebhookSecrets(svc.Policy)}
	w, err := db.NewWorker(append([]engine.JobHandler{router.Handler(), deliverer.Handler()}, handlers...),
		storage.WorkerOptions{Poll: 50 * time.Millisecond, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Error(err)
		}
	})
	return &loop{db: db, svc: svc, clock: clk, deliver: deliverer}
}

func (l *loop) handOff(t *testing.T, extID, email string) *engine.Lead {
	t.Helper()
	res, err := l.svc.HandOff(context.Background(), engine.HandOff{ExternalID: extID, Source: "web",
		OwnerEmail: "ana@example.com", Contact: engine.Contact{Name: "Dana Ruiz", Email: email}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Lead
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	storagetest.WaitFor(t, 20*time.Second, what, cond)
}

// settled waits until the crm queue has nothing left to run: every event
// routed, every delivery made, retried or parked; nothing more is sent
// until something new happens.
func (l *loop) settled(t *testing.T) {
	t.Helper()
	eventually(t, "the crm queue to empty", func() bool {
		var n int
		err := l.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM river_job
			WHERE queue = 'crm' AND state IN ('available', 'running', 'retryable', 'scheduled', 'pending')`).Scan(&n)
		return err == nil && n == 0
	})
}

func hooksFor(url string, events ...string) string {
	s := "webhooks:\n  - url: " + url + "\n    secret_env: TEST_WEBHOOK_SECRET\n"
	if len(events) > 0 {
		s += "    events: [" + strings.Join(events, ", ") + "]\n"
	}
	return s
}

var ana = engine.Actor{Email: "ana@example.com"}

func TestWebhooksAreSignedPerStandardWebhooksAndCarryTheContractFields(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, nil)
	l := newLoop(t, hooksFor(ep.URL), nil)
	ctx := context.Background()
	lead := l.handOff(t, "crm-1", "dana@acme.test")
	if _, err := l.svc.Acknowledge(ctx, lead.ID, ana); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.svc.LogTouch(ctx, lead.ID, ana, engine.TouchInput{Kind: engine.TouchCall, Note: "left a voicemail"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.svc.LogTouch(ctx, lead.ID, engine.Actor{System: "crm"}, engine.TouchInput{Kind: engine.TouchEmail, Origin: "crm", ByEmail: "ana@example.com", Key: "crm:1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.svc.ReturnToMarketing(ctx, lead.ID, ana, "not a buyer yet"); err != nil {
		t.Fatal(err)
	}
	want := []string{"handoff.created", "lead.acknowledged", "lead.accepted", "touch.logged", "touch.logged", "lead.returned"}
	eventually(t, "six deliveries", func() bool { return len(ep.delivered()) == len(want) })
	got := ep.requests()
	if fmt.Sprint(ep.delivered()) != fmt.Sprint(want) {
		t.Fatalf("delivered %v, want %v in that order", ep.delivered(), want)
	}
	for i, r := range got {
		if err := verifySignature(testSecret, r.Header, r.Body, time.Now()); err != nil {
			t.Errorf("request %d (%s): the signature does not verify: %v", i, r.Type, err)
		}
		tampered := append([]byte(nil), r.Body...)
		tampered = []byte(strings.Replace(string(tampered), "ana@example.com", "eve@example.com", 1))
		if err := verifySignature(testSecret, r.Header, tampered, time.Now()); err == nil {
			t.Errorf("request %d (%s): a tampered body verifies", i, r.Type)
		}
		if err := verifySignature("whsec_"+base64.StdEncoding.EncodeToString([]byte("another key, another key, ab")), r.Header, r.Body, time.Now()); err == nil {
			t.Errorf("request %d: verifies with the wrong secret", i)
		}
		if r.Data["external_id"] != "crm-1" || r.Data["owner"] != "ana@example.com" {
			t.Errorf("request %d (%s): data %v lacks external_id crm-1 and owner", i, r.Type, r.Data)
		}
		var b map[string]any
		_ = json.Unmarshal(r.Body, &b)
		if _, err := time.Parse(time.RFC3339, fmt.Sprint(b["timestamp"])); err != nil {
			t.Errorf("request %d: timestamp %v is not RFC 3339", i, b["timestamp"])
		}
	}
	ids := map[string]bool{}
	for _, r := range got {
		ids[r.Header.Get("webhook-id")] = true
	}
	if len(ids) != len(got) {
		t.Errorf("webhook-ids %v are not one per event", ids)
	}
	checks := []struct {
		i         int
		key, want string
	}{
		{0, "origin", "api"}, {0, "by", ""},
		{1, "origin", "chat"}, {1, "by", "ana@example.com"},
		{2, "origin", "chat"}, {2, "by", "ana@example.com"},
		{3, "origin", "chat"}, {3, "kind", "call"}, {3, "by", "ana@example.com"}, {3, "note", "left a voicemail"},
		{4, "origin", "api"}, {4, "kind", "email"},
		{5, "reason", "not a buyer yet"}, {5, "origin", "chat"},
	}
	for _, c := range checks {
		if v := fmt.Sprint(got[c.i].Data[c.key]); v != c.want {
			t.Errorf("%s: data.%s = %q, want %q", got[c.i].Type, c.key, v, c.want)
		}
	}
}

func TestWebhookEventsFilterWhatAnEndpointReceives(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, nil)
	l := newLoop(t, hooksFor(ep.URL, "lead.returned"), nil)
	lead := l.handOff(t, "crm-2", "x@acme.test")
	if _, err := l.svc.ReturnToMarketing(context.Background(), lead.ID, ana, "wrong region"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the return's delivery", func() bool { return len(ep.delivered()) == 1 })
	l.settled(t)
	if got := ep.delivered(); fmt.Sprint(got) != "[lead.returned]" {
		t.Errorf("delivered %v, want only lead.returned", got)
	}
}

func TestWebhookOrderPerLeadHoldsWhileTheFirstDeliveryFails(t *testing.T) {
	t.Parallel()
	// The lead's first delivery fails for a while (several attempts, long
	// enough for the later events to be queued behind it), then succeeds.
	var firstFailures atomic.Int32
	var firstAttempt atomic.Int64
	ep := newEndpoint(t, func(n int, r received) int {
		if r.Type == "handoff.created" && r.Data["external_id"] == "crm-3" {
			firstAttempt.CompareAndSwap(0, time.Now().UnixNano())
			if time.Since(time.Unix(0, firstAttempt.Load())) < 700*time.Millisecond {
				firstFailures.Add(1)
				return http.StatusServiceUnavailable
			}
		}
		return http.StatusOK
	})
	l := newLoop(t, hooksFor(ep.URL), nil)
	ctx := context.Background()
	lead := l.handOff(t, "crm-3", "y@acme.test")
	other := l.handOff(t, "crm-4", "z@acme.test")
	if _, err := l.svc.Acknowledge(ctx, lead.ID, ana); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, _, err := l.svc.LogTouch(ctx, lead.ID, ana, engine.TouchInput{Kind: engine.TouchCall}); err != nil {
			t.Fatal(err)
		}
	}
	_ = other
	eventually(t, "every delivery", func() bool { return len(ep.delivered()) == 7 })
	var forLead []string
	for _, r := range ep.requests() {
		if r.Status/100 == 2 && r.Data["external_id"] == "crm-3" {
			forLead = append(forLead, r.Type)
		}
	}
	want := "[handoff.created lead.acknowledged lead.accepted touch.logged touch.logged touch.logged]"
	if fmt.Sprint(forLead) != want {
		t.Errorf("lead crm-3's events arrived as %v, want %s", forLead, want)
	}
	if n := firstFailures.Load(); n < 3 {
		t.Errorf("the hand-off failed %d times, want several failures before its success", n)
	}
	// The retries of one delivery keep its webhook-id and sign each attempt.
	ids := map[string]int{}
	for _, r := range ep.requests() {
		if r.Type == "handoff.created" && r.Data["external_id"] == "crm-3" {
			ids[r.Header.Get("webhook-id")]++
			if err := verifySignature(testSecret, r.Header, r.Body, time.Now()); err != nil {
				t.Error(err)
			}
		}
	}
	if len(ids) != 1 {
		t.Errorf("the retries carried webhook-ids %v, want one", ids)
	}
}

func TestDeadEndpointParksAfterTheRetryWindowAndGoneParksAtOnce(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, func(n int, r received) int {
		if r.Data["external_id"] == "gone-1" {
			return http.StatusGone
		}
		return http.StatusBadGateway
	})
	l := newLoop(t, hooksFor(ep.URL, "handoff.created"), nil)
	ctx := context.Background()
	l.handOff(t, "dead-1", "d@acme.test")
	eventually(t, "a few failed attempts", func() bool { return len(ep.requests()) >= 3 })
	list, err := l.db.ListWebhookDeliveries(ctx, storage.WebhookFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].State != engine.DeliveryPending || !strings.Contains(list[0].LastError, "502") {
		t.Fatalf("before the window is over: %+v, want one pending delivery with the 502", list)
	}
	l.clock.Advance(webhook.DefaultWindow + time.Minute)
	eventually(t, "the delivery to park", func() bool {
		list, _ = l.db.ListWebhookDeliveries(ctx, storage.WebhookFilter{States: []string{engine.DeliveryParked}})
		return len(list) == 1
	})
	if !strings.Contains(list[0].LastError, "parked") {
		t.Errorf("last error %q does not say it was parked", list[0].LastError)
	}
	n := len(ep.requests())
	l.settled(t) // a delivery still being attempted would never settle
	if len(ep.requests()) != n {
		t.Errorf("a parked delivery is still being attempted")
	}

	l.handOff(t, "gone-1", "g@acme.test")
	eventually(t, "410 to park", func() bool {
		list, _ = l.db.ListWebhookDeliveries(ctx, storage.WebhookFilter{States: []string{engine.DeliveryParked}})
		return len(list) == 2
	})
	if list[1].Attempts != 1 || list[1].LastStatus != http.StatusGone {
		t.Errorf("the 410 delivery: %d attempts, status %d; want parked after 1 attempt with 410", list[1].Attempts, list[1].LastStatus)
	}
}

func TestAParkedDeliveryNoLongerHoldsTheLineAndCanBeRedelivered(t *testing.T) {
	t.Parallel()
	var up atomic.Bool
	ep := newEndpoint(t, func(n int, r received) int {
		if r.Type == "handoff.created" && !up.Load() {
			return http.StatusGone
		}
		return http.StatusOK
	})
	// lead.accepted, sent beside lead.acknowledged, is left out: the test
	// counts deliveries.
	l := newLoop(t, hooksFor(ep.URL, "handoff.created", "lead.acknowledged"), nil)
	ctx := context.Background()
	lead := l.handOff(t, "crm-9", "p@acme.test")
	if _, err := l.svc.Acknowledge(ctx, lead.ID, ana); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the acknowledgement to pass the parked hand-off", func() bool {
		return fmt.Sprint(ep.delivered()) == "[lead.acknowledged]"
	})
	list, err := l.db.ListWebhookDeliveries(ctx, storage.WebhookFilter{States: []string{engine.DeliveryParked}})
	if err != nil || len(list) != 1 {
		t.Fatalf("parked: %v %v", list, err)
	}
	up.Store(true)
	if err := l.db.RedeliverWebhook(ctx, list[0].ID, l.clock.Now(), webhook.RedeliverJob); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the redelivery", func() bool { return len(ep.delivered()) == 2 })
	if got := ep.delivered(); got[1] != "handoff.created" {
		t.Errorf("delivered %v", got)
	}
}

// testWriter sends a logger's lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// TestARedirectIsAFailedDeliveryRetriedThenParked: a receiver that moved
// answers 302 to a page that answers 200. Following it would turn the POST
// into a GET and count the event as delivered; it must be retried, parked
// after the window, and its error must name the endpoint by scheme and
// host only (the path holds the hook's secret).
func TestARedirectIsAFailedDeliveryRetriedThenParked(t *testing.T) {
	t.Parallel()
	var landed atomic.Int32
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		landed.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(page.Close)
	moved := newEndpoint(t, func(n int, r received) int { return http.StatusFound })
	moved.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		moved.mu.Lock()
		moved.got = append(moved.got, received{Header: r.Header.Clone(), Body: body, Status: http.StatusFound})
		moved.mu.Unlock()
		http.Redirect(w, r, page.URL+"/welcome", http.StatusFound)
	})
	l := newLoop(t, hooksFor(moved.URL+"/hooks/catch/s3cr3t", "handoff.created"), nil)
	ctx := context.Background()
	l.handOff(t, "moved-1", "m@acme.test")
	eventually(t, "a few attempts at the moved endpoint", func() bool { return len(moved.requests()) >= 3 })
	if n := landed.Load(); n != 0 {
		t.Fatalf("the redirect was followed %d times", n)
	}
	list, err := l.db.ListWebhookDeliveries(ctx, storage.WebhookFilter{})
	if err != nil || len(list) != 1 || list[0].State != engine.DeliveryPending || list[0].LastStatus != http.StatusFound {
		t.Fatalf("after redirects: %+v (%v); want one pending delivery whose last answer was 302", list, err)
	}
	l.clock.Advance(webhook.DefaultWindow + time.Minute)
	eventually(t, "the redirected delivery to park", func() bool {
		list, _ = l.db.ListWebhookDeliveries(ctx, storage.WebhookFilter{States: []string{engine.DeliveryParked}})
		return len(list) == 1
	})
	if strings.Contains(list[0].LastError, "s3cr3t") || !strings.Contains(list[0].LastError, moved.URL) ||
		!strings.Contains(list[0].LastError, "302") {
		t.Errorf("stored error %q: want the 302 and %s, never the path", list[0].LastError, moved.URL)
	}
	if n := landed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

// TestA503RetryAfterIsHonoured: the next attempt waits what the endpoint
// asked for, not the first step of the backoff.
func TestA503RetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	busy := newEndpoint(t, nil)
	busy.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		busy.mu.Lock()
		busy.got = append(busy.got, received{Status: http.StatusServiceUnavailable})
		busy.mu.Unlock()
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	l := newLoop(t, hooksFor(busy.URL, "handoff.created"), nil)
	l.handOff(t, "busy-1", "b@acme.test")
	var d engine.WebhookDelivery
	eventually(t, "the first attempt", func() bool {
		list, _ := l.db.ListWebhookDeliveries(context.Background(), storage.WebhookFilter{})
		if len(list) == 1 && list[0].Attempts == 1 {
			d = list[0]
			return true
		}
		return false
	})
	if wait := d.NextAttemptAt.Sub(d.LastAttemptAt); wait != 2*time.Minute {
		t.Errorf("next attempt %s after the 503 with Retry-After: 120; want 2m (the loop's backoff is 20ms)", wait)
	}
	if n := len(busy.requests()); n != 1 {
		t.Errorf("%d attempts; the Retry-After should hold the second back", n)
	}
}

// TestParkedDeliveriesArePrunedAfterThePolicysRetention.
func TestParkedDeliveriesArePrunedAfterThePolicysRetention(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, func(int, received) int { return http.StatusGone })
	l := newLoop(t, hooksFor(ep.URL, "handoff.created")+"crm:\n  parked_webhook_retention: 7d\n", nil)
	ctx := context.Background()
	l.handOff(t, "gone-7", "g7@acme.test")
	eventually(t, "the delivery to park", func() bool {
		list, _ := l.db.ListWebhookDeliveries(ctx, storage.WebhookFilter{States: []string{engine.DeliveryParked}})
		return len(list) == 1
	})
	if got := l.svc.Policy().CRM.ParkedRetention(); got != 7*24*time.Hour {
		t.Fatalf("retention %s, want the policy's 7d", got)
	}
	now := l.clock.Now()
	if n, err := l.db.PruneCRM(ctx, now.Add(-crm.Retention), now.Add(-l.svc.Policy().CRM.ParkedRetention())); err != nil || n != 0 {
		t.Fatalf("pruning today removed %d (%v); the parked delivery is kept a week", n, err)
	}
	later := now.Add(8 * 24 * time.Hour)
	if n, err := l.db.PruneCRM(ctx, later.Add(-crm.Retention), later.Add(-l.svc.Policy().CRM.ParkedRetention())); err != nil || n != 1 {
		t.Fatalf("pruning after 8 days removed %d (%v); want the parked delivery", n, err)
	}
}
