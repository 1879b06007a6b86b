package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/api"
	"github.com/slabot/slabot/api/apitest"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/storagetest"
)

// testLimits are small, so that a slow body is cut off quickly; the
// assertions are on what happens, never on how long it took.
var testLimits = api.Limits{Body: 300 * time.Millisecond, Reply: 5 * time.Second}

func TestASlowBodyIsCutOffByTheServer(t *testing.T) {
	t.Parallel()
	const declared = 4000 // at a byte per 25 ms: 100 s to send in full

	t.Run("AnyRouteWithinItsLimits", func(t *testing.T) {
		readErr := make(chan error, 1)
		server := api.NewServer(slog.New(slog.DiscardHandler), nil)
		server.HandleWithin("POST /slow", testLimits, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// As bot/teams decodes an activity before it checks the token.
			var v map[string]any
			err := json.NewDecoder(r.Body).Decode(&v)
			readErr <- err
			if err != nil {
				http.Error(w, "the body could not be read", http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		srv := httptest.NewServer(server)
		defer srv.Close()
		status, sent := apitest.SlowBody(t, srv.Listener.Addr().String(), "/slow", nil, declared)
		if sent >= declared {
			t.Fatalf("the whole body was sent before the server answered (%q)", status)
		}
		select {
		case err := <-readErr:
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("the handler's read ended with %v, want a timeout", err)
			}
		default:
			t.Error("the handler never saw its read end")
		}
		if status != "" && !strings.Contains(status, "400") {
			t.Errorf("the server answered %q to a body it could not read, want 400 or a closed connection", status)
		}
	})

	t.Run("TheIntakeAndHubSpotRoutes", func(t *testing.T) {
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
		server := api.NewServer(logger, nil)
		server.SetLimits(testLimits)
		intake := api.NewIntake(svc, testToken, logger, api.NewRegistry())
		intake.StoreDeadline = 30 * time.Second
		intake.Register(server)
		api.NewHubSpotIntake(intake, svc.Policy, nil, "hubspot-client-secret", logger).Register(server)
		srv := httptest.NewServer(server)
		defer srv.Close()
		addr := srv.Listener.Addr().String()

		for _, c := range []struct {
			name, path string
			headers    map[string]string
		}{
			{"Handoffs", "/v1/handoffs", map[string]string{"Authorization": "Bearer " + testToken}},
			// HubSpot's signature is checked over the body, so the body is
			// read before anything is authenticated.
			{"HubSpotSigned", "/v1/hubspot/handoffs", map[string]string{
				"X-HubSpot-Signature-v3": "c2lnbmF0dXJl", "X-HubSpot-Request-Timestamp": fmt.Sprint(time.Now().UnixMilli())}},
		} {
			t.Run(c.name, func(t *testing.T) {
				status, sent := apitest.SlowBody(t, addr, c.path, c.headers, declared)
				if sent >= declared {
					t.Fatalf("the whole body was sent before the server answered (%q)", status)
				}
				if status != "" && !strings.Contains(status, "400") {
					t.Errorf("%s answered %q to a body that never arrived, want 400 or a closed connection", c.path, status)
				}
			})
		}

		t.Run("AHandOffSentAtOnceStillWorks", func(t *testing.T) {
			body := `{"external_id": "limits-1", "contact": {"email": "dana@acme.test"}}`
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/handoffs", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Errorf("a hand-off sent at once under the limits got %d %s, want 201", resp.StatusCode, raw)
			}
		})
	})
}

// A handler that takes longer than the body's limit once it has the whole
// body keeps its request's context: the body limit is for the body only.
func TestTheBodyLimitDoesNotCancelAnAnswerInProgress(t *testing.T) {
	t.Parallel()
	limits := api.Limits{Body: 100 * time.Millisecond, Reply: 5 * time.Second}
	ctxErr := make(chan error, 1)
	server := api.NewServer(slog.New(slog.DiscardHandler), nil)
	server.HandleWithin("POST /work", limits, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-r.Context().Done():
		case <-time.After(3 * limits.Body):
		}
		ctxErr <- r.Context().Err()
		w.WriteHeader(http.StatusOK)
	}))
	srv := httptest.NewServer(server)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/work", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-ctxErr; err != nil {
		t.Errorf("the request's context ended while the handler worked: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d, want 200", resp.StatusCode)
	}
}
