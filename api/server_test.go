package api_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slabot/slabot/api"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	var dbErr error = errors.New(`failed to connect to host=db.internal user=slabot: password authentication failed`)
	reg := api.NewRegistry()
	probe := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "slabot", Name: "probe_total", Help: "test"})
	reg.MustRegister(probe)
	probe.Inc()
	var logs syncBuffer
	srv := httptest.NewServer(api.NewServer(slog.New(slog.NewTextHandler(&logs, nil)), map[string]api.ReadyCheck{
		"database": func(context.Context) error { return dbErr },
		"slack":    func(context.Context) error { return nil },
	}))
	defer srv.Close()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}

	t.Run("LivenessIsOKEvenWhenTheDatabaseIsDown", func(t *testing.T) {
		if code, _ := get("/healthz"); code != http.StatusOK {
			t.Errorf("/healthz = %d, want 200", code)
		}
	})
	t.Run("NotReadyWhileADependencyFails", func(t *testing.T) {
		code, body := get("/readyz")
		if code != http.StatusServiceUnavailable || !strings.Contains(body, `"database":"failing"`) || !strings.Contains(body, `"slack":"ok"`) {
			t.Errorf("/readyz = %d %s, want 503 naming the database", code, body)
		}
	})
	t.Run("WhyGoesToTheLogNotToTheCaller", func(t *testing.T) {
		_, body := get("/readyz")
		for _, secret := range []string{"db.internal", "slabot", "password"} {
			if strings.Contains(body, secret) {
				t.Errorf("/readyz tells the caller %q: %s", secret, body)
			}
		}
		if log := logs.String(); !strings.Contains(log, "check=database") || !strings.Contains(log, "host=db.internal") {
			t.Errorf("the log does not say why the database check fails:\n%s", log)
		}
		if n := strings.Count(logs.String(), "readiness check fails"); n != 1 {
			t.Errorf("the same failure was logged %d times over two probes, want once", n)
		}
	})
	t.Run("ReadyWhenEveryCheckPasses", func(t *testing.T) {
		dbErr = nil
		if code, body := get("/readyz"); code != http.StatusOK {
			t.Errorf("/readyz = %d %s, want 200", code, body)
		}
		if !strings.Contains(logs.String(), "readiness check passes again") {
			t.Errorf("the recovery is not logged:\n%s", logs.String())
		}
	})
	t.Run("MetricsAreNotOnThePublicAddress", func(t *testing.T) {
		if code, _ := get("/metrics"); code != http.StatusNotFound {
			t.Errorf("/metrics on the public server = %d, want 404", code)
		}
	})
	t.Run("MetricsUseThePrivateRegistry", func(t *testing.T) {
		metrics := httptest.NewServer(api.Metrics(reg))
		defer metrics.Close()
		resp, err := http.Get(metrics.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		body := string(raw)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "slabot_probe_total 1") || !strings.Contains(body, "go_goroutines") {
			t.Errorf("/metrics = %d, missing slabot_probe_total or go runtime metrics:\n%.500s", resp.StatusCode, body)
		}
	})
}
