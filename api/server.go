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
	limits Limits

	mu      sync.Mutex
	failing map[string]string // check → the error last logged for it
}

// NewServer builds the public router. checks decide readiness: /readyz
// answers 503 naming every check that fails, and only "failing": why goes
// to the log. Metrics are not served here: see Metrics.
func NewServer(logger *slog.Logger, checks map[string]ReadyCheck) *Server {
	s := &Server{logger: logger, checks: checks, mux: http.NewServeMux(), limits: BodyLimits, failing: map[string]string{}}
	s.HandleWithin("GET /healthz", ProbeLimits, http.HandlerFunc(s.healthz))
	s.HandleWithin("GET /readyz", ProbeLimits, http.HandlerFunc(s.readyz))
	return s
}

// Limits bound one request on a route, counted from when its handler
// starts (the headers are read by then, within the listener's
// ReadHeaderTimeout).
type Limits struct {
	// Body is how long the client has to send the whole body. A client
	// that sends its headers and then trickles the body is cut off then:
	// its read fails, the handler answers 400 and the connection closes.
	Body time.Duration
	// Reply is how long the handler has to write its answer in full.
	Reply time.Duration
}

var (
	// BodyLimits fit a webhook: the intake routes, the HubSpot route and
	// Teams' POST /api/messages. Their bodies are at most 1 MiB, sent by
	// servers (a CRM, HubSpot, Microsoft) in well under a second; 10 s
	// leaves room for a slow network and nothing for a client that holds
	// a connection open unauthenticated (the HubSpot route and Teams read
	// the body before they can check a signature). The answer comes
	// within the database's deadline, and Teams is answered within 4 s.
	BodyLimits = Limits{Body: 10 * time.Second, Reply: 30 * time.Second}
	// ProbeLimits fit /healthz and /readyz: no body, and the checks are
	// bounded at 2 s.
	ProbeLimits = Limits{Body: 5 * time.Second, Reply: 10 * time.Second}
)

// SetLimits sets the limits of the routes Handle adds from now on
// (BodyLimits unless set).
func (s *Server) SetLimits(l Limits) { s.limits = l }

// HTTPServer returns the listener's settings for s: headers within 10 s,
// a connection idle between requests closed after 60 s, and read and
// write timeouts as a backstop for a route without limits of its own
// (each route's Limits replace them while its handler runs).
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 60 * time.Second,
		// net/http reports a handler's panic and a failing accept here.
		ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)}
}

// Metrics serves the registry at GET /metrics, for the private listener
// (SLABOT_METRICS_ADDR), so the public address exposes only the intake
// and health.
func Metrics(registry *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}))
	return mux
}

// Handle adds a route, for the intake handlers, within the server's
// limits (SetLimits).
func (s *Server) Handle(pattern string, h http.Handler) { s.HandleWithin(pattern, s.limits, h) }

// HandleWithin adds a route within limits of its own.
func (s *Server) HandleWithin(pattern string, l Limits, h http.Handler) {
	s.mux.Handle(pattern, Within(l, h))
}

// Within runs h with l's deadlines on the connection. The read deadline
// covers the body only: when the body has been read to its end, net/http
// clears it to watch the connection for the client going away (a request
// without a body is watched from the start, so it gets no read deadline
// here), and a deadline passing there would cancel the request's context
// while the handler still works on its answer.
func Within(l Limits, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		start := time.Now()
		// An HTTP/2 stream or a test's recorder may not support
		// deadlines; the listener's timeouts still apply then.
		if l.Reply > 0 {
			_ = rc.SetWriteDeadline(start.Add(l.Reply))
		}
		if l.Body > 0 && r.Body != nil && r.Body != http.NoBody {
			_ = rc.SetReadDeadline(start.Add(l.Body))
		}
		h.ServeHTTP(w, r)
	})
}

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
