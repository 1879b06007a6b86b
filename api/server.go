// Package api is slabot's HTTP side: the intake webhooks that CRMs and
// automation tools call and the /healthz and /readyz endpoints, on the
// public listener, and the /metrics handler that cmd/slabot serves on a
// listener of its own.
package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ReadyCheck reports whether one dependency is usable; nil means ready.
type ReadyCheck func(ctx context.Context) error

// Server routes slabot's HTTP endpoints.
type Server struct {
	logger *slog.Logger
	checks map[string]ReadyCheck
	mux    *http.ServeMux

	mu      sync.Mutex
	failing map[string]string // check → the error last logged for it
}

// NewServer builds the public router. checks decide readiness: /readyz
// answers 503 naming every check that fails, and only "failing": why goes
// to the log. Metrics are not served here: see Metrics.
func NewServer(logger *slog.Logger, checks map[string]ReadyCheck) *Server {
	s := &Server{logger: logger, checks: checks, mux: http.NewServeMux(), failing: map[string]string{}}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	return s
}

// Metrics serves the registry at GET /metrics, for the private listener
// (SLABOT_METRICS_ADDR), so the public address exposes only the intake
// and health.
func Metrics(registry *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}))
	return mux
}

// Handle adds a route, for the intake handlers.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// healthz answers 200 for as long as the process can serve HTTP at all:
// restarting slabot does not cure a slow database, so liveness ignores it.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	names := make([]string, 0, len(s.checks))
	for name := range s.checks {
		names = append(names, name)
	}
	sort.Strings(names)
	status := map[string]string{}
	ready := true
	for _, name := range names {
		err := s.checks[name](ctx)
		s.noteCheck(name, err)
		if err != nil {
			ready = false
			status[name] = "failing"
			continue
		}
		status[name] = "ok"
	}
	code := http.StatusOK
	if !ready {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"ready": ready, "checks": status})
}

// noteCheck logs a check's failure once per distinct error and its
// recovery once. The address is public: an error can carry a database's
// host and user or Microsoft's sign-in answer, which are for the operator
// reading the log, not for whoever asks /readyz.
func (s *Server) noteCheck(name string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	last, wasFailing := s.failing[name]
	switch {
	case err == nil && wasFailing:
		delete(s.failing, name)
		s.logger.Info("readiness check passes again", "check", name)
	case err != nil && (!wasFailing || last != err.Error()):
		s.failing[name] = err.Error()
		s.logger.Warn("readiness check fails: /readyz answers 503", "check", name, "err", err)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// NewRegistry returns a private Prometheus registry with the Go runtime and
// process collectors, so slabot's /metrics never mixes in another library's
// globals.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{Namespace: "slabot"}))
	return reg
}
