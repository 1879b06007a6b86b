package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/crm/webhook"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

func TestWebhooksShowsADeadEndpointsParkedDeliveryAndRedeliversIt(t *testing.T) {
	e := newImportEnv(t)
	ctx := context.Background()
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream timed out", http.StatusGatewayTimeout)
	}))
	defer dead.Close()
	ev := engine.CRMEventArgs{Type: engine.CRMLeadReturned, Subject: "lead:5", EventID: 42, LeadID: 5, At: time.Now(),
		Data: map[string]any{"external_id": "crm-5", "owner": "ana@example.com", "reason": "no budget"}}
	created := time.Now()
	deliveries, err := webhook.Deliveries([]engine.Webhook{{URL: dead.URL}}, ev, created)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.AddWebhookDeliveries(ctx, deliveries, webhook.DeliverJob, nil); err != nil {
		t.Fatal(err)
	}
	list, err := e.db.ListWebhookDeliveries(ctx, storage.WebhookFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("deliveries %v, %v", list, err)
	}
	id := list[0].ID
	now := created
	d := &webhook.Deliverer{Store: e.db, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler),
		Secret: func(string) ([]byte, error) {
			return base64.StdEncoding.DecodeString("c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0")
		}}
	// Within the day it is retried; past it, parked.
	if err := d.Deliver(ctx, id); err == nil {
		t.Fatal("a failed attempt within the window must ask for a retry")
	}
	now = created.Add(webhook.DefaultWindow + time.Second)
	if err := d.Deliver(ctx, id); err != nil {
		t.Fatalf("past the window the delivery parks without a retry: %v", err)
	}

	t.Setenv("DATABASE_URL", e.dbURL)
	t.Setenv("SLABOT_LOG_LEVEL", "error")
	code, out, errOut := runMain(t, "webhooks")
	if code != 0 {
		t.Fatalf("slabot webhooks exited %d: %s", code, errOut)
	}
	for _, want := range []string{strconv.FormatInt(id, 10), "parked", "lead.returned", "lead:5", dead.URL, "504", "upstream timed out"} {
		if !strings.Contains(out, want) {
			t.Errorf("slabot webhooks does not show %q:\n%s", want, out)
		}
	}
	code, out, errOut = runMain(t, "webhooks", "--redeliver", strconv.FormatInt(id, 10))
	if code != 0 || !strings.Contains(out, "sent again") {
		t.Fatalf("--redeliver exited %d: %s %s", code, out, errOut)
	}
	got, err := e.db.WebhookDeliveryByID(ctx, id)
	if err != nil || got.State != engine.DeliveryPending || got.Attempts != 0 {
		t.Errorf("after --redeliver: %+v, %v; want pending with a fresh count", got, err)
	}
	var queued int
	if err := e.db.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1`, webhook.JobDeliver).Scan(&queued); err != nil || queued != 2 {
		t.Errorf("%d delivery jobs queued (%v), want the first and the redelivery", queued, err)
	}
	if code, _, errOut = runMain(t, "webhooks", "--redeliver", strconv.FormatInt(id, 10)); code != 1 || !strings.Contains(errOut, "still being retried") {
		t.Errorf("redelivering a delivery still in line: exit %d, %q; want a refusal (it would go out twice)", code, errOut)
	}
	if code, _, errOut = runMain(t, "webhooks", "--redeliver", "999"); code != 1 || !strings.Contains(errOut, "no webhook delivery 999") {
		t.Errorf("redelivering an unknown id: exit %d, %q", code, errOut)
	}
}

// TestRedeliverParkedSendsEveryParkedDeliveryAgainInOrder: after an
// endpoint's outage, one command puts every parked delivery to it back in
// line, in the order of each lead's events; another endpoint's parked
// deliveries, and those parked before --since, stay parked.
func TestRedeliverParkedSendsEveryParkedDeliveryAgainInOrder(t *testing.T) {
	e := newImportEnv(t)
	ctx := context.Background()
	park := func(endpoint string, subject string, eventID int64, parkedAt time.Time) int64 {
		t.Helper()
		ev := engine.CRMEventArgs{Type: engine.CRMTouchLogged, Subject: subject, EventID: eventID, LeadID: 1, At: parkedAt,
			Data: map[string]any{"external_id": subject, "owner": "ana@example.com"}}
		ds, err := webhook.Deliveries([]engine.Webhook{{URL: endpoint}}, ev, parkedAt)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.AddWebhookDeliveries(ctx, ds, webhook.DeliverJob, nil); err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := e.db.Pool().QueryRow(ctx, `SELECT id FROM webhook_deliveries WHERE msg_id = $1 AND endpoint = $2`,
			ds[0].MsgID, endpoint).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if err := e.db.RecordWebhookAttempt(ctx, id, engine.WebhookAttempt{At: parkedAt, Status: 502,
			Error: "https://hooks.example.com answered 502 (retried for 24h0m0s: parked)", State: engine.DeliveryParked}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	outage := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	zap := "https://hooks.example.com/catch/s3cr3t"
	other := "https://crm.other.test/in"
	b2 := park(zap, "lead:2", 12, outage.Add(3*time.Hour))
	a1 := park(zap, "lead:1", 10, outage.Add(time.Hour))
	a2 := park(zap, "lead:1", 11, outage.Add(2*time.Hour))
	before := park(zap, "lead:3", 5, outage.Add(-48*time.Hour))
	elsewhere := park(other, "lead:1", 10, outage.Add(time.Hour))

	t.Setenv("DATABASE_URL", e.dbURL)
	t.Setenv("SLABOT_LOG_LEVEL", "error")
	if code, _, errOut := runMain(t, "webhooks", "--redeliver"); code != 2 || !strings.Contains(errOut, "--state parked") {
		t.Fatalf("--redeliver alone: exit %d, %q; want a pointer to --state parked", code, errOut)
	}
	code, out, errOut := runMain(t, "webhooks", "--redeliver", "--state", "parked", "--endpoint", "hooks.example.com",
		"--since", outage.Format(time.RFC3339))
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if !strings.Contains(out, "Sending 3 parked deliveries") || !strings.Contains(out, "3 of 3 deliveries will be sent again") {
		t.Errorf("progress:\n%s", out)
	}
	state := func(id int64) string {
		d, err := e.db.WebhookDeliveryByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return d.State
	}
	for _, id := range []int64{a1, a2, b2} {
		if s := state(id); s != engine.DeliveryPending {
			t.Errorf("delivery %d is %s after the redelivery, want pending", id, s)
		}
	}
	if s := state(before); s != engine.DeliveryParked {
		t.Errorf("the delivery parked before --since is %s, want still parked", s)
	}
	if s := state(elsewhere); s != engine.DeliveryParked {
		t.Errorf("the other endpoint's delivery is %s, want still parked", s)
	}
	// In order of events: the jobs were queued lead 1's event 10, then 11, then lead 2's 12.
	rows, err := e.db.Pool().Query(ctx, `SELECT (args->'args'->>'delivery_id')::bigint FROM river_job
		WHERE kind = $1 AND args->'args'->>'delivery_id' = ANY($2) ORDER BY id`, webhook.JobDeliver,
		[]string{strconv.FormatInt(a1, 10), strconv.FormatInt(a2, 10), strconv.FormatInt(b2, 10)})
	if err != nil {
		t.Fatal(err)
	}
	var order []int64
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		order = append(order, id)
	}
	rows.Close()
	// Each delivery has its first job (from AddWebhookDeliveries) and the redelivery's: keep the last three.
	if len(order) < 3 || fmt.Sprint(order[len(order)-3:]) != fmt.Sprint([]int64{a1, a2, b2}) {
		t.Errorf("jobs queued in order %v, want the redeliveries %v", order, []int64{a1, a2, b2})
	}
	if strings.Contains(out, "s3cr3t") {
		t.Errorf("the output shows the hook's path:\n%s", out)
	}
}
