package teams_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/api"
	"github.com/slabot/slabot/engine"
)

// percentile is the p-th percentile (0…1) of sorted durations, in ms.
func percentile(sorted []time.Duration, p float64) float64 {
	i := min(len(sorted)-1, int(float64(len(sorted))*p))
	return float64(sorted[i].Microseconds()) / 1000
}

// BenchmarkInvokeToResponse measures a rep's acknowledge click: from the
// invoke leaving Teams (the fake, which signs it with RS256 first) to the
// redrawn card in the HTTP answer. Goal: p99 under 100 ms.
func BenchmarkInvokeToResponse(b *testing.B) {
	e := newTeamsEnv(b)
	var waits []time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		h := demoLead(fmt.Sprintf("bench-click-%d-%d", time.Now().UnixNano(), i))
		h.Contact.Name = fmt.Sprintf("Bench %d", i)
		post := e.card(ana, e.handOff(h))
		b.StartTimer()
		start := time.Now()
		res, err := e.fake.Click(context.Background(), ana, post.ConversationID, post.Activity.ID, "lead.ack", nil)
		waits = append(waits, time.Since(start))
		if err != nil || res.Type != "application/vnd.microsoft.card.adaptive" {
			b.Fatalf("the click was answered %+v, %v", res, err)
		}
	}
	slices.Sort(waits)
	b.ReportMetric(percentile(waits, 0.5), "ms-p50-invoke")
	b.ReportMetric(percentile(waits, 0.99), "ms-p99-invoke")
}

// BenchmarkIntakeToConnectorPost measures how long a rep waits: from the
// intake API's reply to the hand-off card's POST reaching the connector.
// The harness paces a conversation at a message a millisecond, so the
// figure is slabot's own latency, not Teams' 1 s pace of one chat.
// Goal: p50 under 100 ms.
func BenchmarkIntakeToConnectorPost(b *testing.B) {
	e := newTeamsEnv(b)
	logger := slog.New(slog.DiscardHandler)
	server := api.NewServer(logger, nil)
	api.NewIntake(e.service, "bench-token", logger, api.NewRegistry()).Register(server)
	srv := httptest.NewServer(server)
	defer srv.Close()

	var waits []time.Duration
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("bench-post-%d-%d", time.Now().UnixNano(), i)
		body := fmt.Sprintf(`{"external_id": %q, "source": "demo_request", "owner_email": "ana@example.com", "contact": {"name": "Bench %s", "email": "%s@x.test"}}`, id, id, id)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/handoffs", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer bench-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			b.Fatalf("hand-off failed: %v %v", resp, err)
		}
		var created struct {
			ID int64 `json:"id"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&created)
		resp.Body.Close()
		replied := time.Now()
		post := e.card(ana, &engine.Lead{ID: created.ID, Contact: engine.Contact{Name: "Bench " + id}})
		waits = append(waits, max(0, post.At.Sub(replied)))
	}
	slices.Sort(waits)
	b.ReportMetric(percentile(waits, 0.5), "ms-p50-to-post")
	b.ReportMetric(percentile(waits, 0.9), "ms-p90-to-post")
}
