package slack_test

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
	"github.com/slabot/slabot/bot/slack/slackfake"
)

// BenchmarkIntakeToDM measures the time from the intake API's reply to the
// hand-off card's chat.postMessage reaching Slack: how long a rep waits.
func BenchmarkIntakeToDM(b *testing.B) {
	e := newEnv(b, withPace(time.Millisecond, 1000))
	logger := slog.New(slog.DiscardHandler)
	reg := api.NewRegistry()
	server := api.NewServer(logger, nil)
	api.NewIntake(e.service, "bench-token", logger, reg).Register(server)
	srv := httptest.NewServer(server)
	defer srv.Close()

	var waits []time.Duration
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("bench-dm-%d-%d", time.Now().UnixNano(), i)
		body := fmt.Sprintf(`{"external_id": %q, "source": "demo_request", "owner_email": "ana@example.com", "contact": {"name": "Bench", "email": "%s@x.test"}}`, id, id)
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
		leadID := fmt.Sprint(created.ID)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		msg, err := e.fake.WaitForMessage(ctx, func(m slackfake.Message) bool {
			return m.Metadata != nil && fmt.Sprint(m.Metadata.EventPayload["lead_id"]) == leadID
		})
		cancel()
		if err != nil {
			b.Fatal("the card never arrived")
		}
		waits = append(waits, max(0, msg.PostedAt.Sub(replied)))
	}
	b.StopTimer()
	slices.Sort(waits)
	b.ReportMetric(float64(waits[len(waits)/2].Microseconds())/1000, "ms-median-to-DM")
	b.ReportMetric(float64(waits[(len(waits)*9)/10].Microseconds())/1000, "ms-p90-to-DM")
}
