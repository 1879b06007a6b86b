package main

import (
	"context"
	"encoding/base64"
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
	if err != nil || got.State != storage.DeliveryPending || got.Attempts != 0 {
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
