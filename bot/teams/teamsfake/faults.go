package teamsfake

import (
	"net/http"
	"strconv"
	"time"
)

type faults struct {
	rateLimitRatio float64
	retryAfter     time.Duration
	failNext       []int
	graphFailNext  []int
}

// SetRateLimit answers ratio (0…1) of connector calls with 429 and
// Retry-After (whole seconds, at least 1; 0 leaves the header out).
// The draw is pseudo-random with a fixed seed, so runs repeat.
func (s *Server) SetRateLimit(ratio float64, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.rateLimitRatio, s.faults.retryAfter = ratio, retryAfter
}

// FailNext answers the next count connector calls with status (412, 502,
// 504…), then behaves again.
func (s *Server) FailNext(status, count int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range count {
		s.faults.failNext = append(s.faults.failNext, status)
	}
}

// FailNextGraph answers the next count Graph calls with status.
func (s *Server) FailNextGraph(status, count int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range count {
		s.faults.graphFailNext = append(s.faults.graphFailNext, status)
	}
}

// injectConnectorFault answers the request with an injected failure and
// returns its status, or returns 0.
func (s *Server) injectConnectorFault(w http.ResponseWriter) int {
	s.mu.Lock()
	status := 0
	retryAfter := time.Duration(0)
	if len(s.faults.failNext) > 0 {
		status = s.faults.failNext[0]
		s.faults.failNext = s.faults.failNext[1:]
	} else if s.faults.rateLimitRatio > 0 && s.rng.Float64() < s.faults.rateLimitRatio {
		status, retryAfter = http.StatusTooManyRequests, s.faults.retryAfter
	}
	s.mu.Unlock()
	if status == 0 {
		return 0
	}
	writeFault(w, status, retryAfter)
	return status
}

func (s *Server) injectGraphFault(w http.ResponseWriter) int {
	s.mu.Lock()
	status := 0
	if len(s.faults.graphFailNext) > 0 {
		status = s.faults.graphFailNext[0]
		s.faults.graphFailNext = s.faults.graphFailNext[1:]
	}
	s.mu.Unlock()
	if status != 0 {
		writeFault(w, status, 0)
	}
	return status
}

func writeFault(w http.ResponseWriter, status int, retryAfter time.Duration) {
	if status == http.StatusTooManyRequests && retryAfter > 0 {
		secs := max(int(retryAfter.Round(time.Second)/time.Second), 1)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	codes := map[int]string{
		http.StatusTooManyRequests:    "TooManyRequests",
		http.StatusPreconditionFailed: "PreconditionFailed",
		http.StatusBadGateway:         "BadGateway",
		http.StatusGatewayTimeout:     "GatewayTimeout",
	}
	code := codes[status]
	if code == "" {
		code = "ServiceError"
	}
	writeError(w, status, code, "injected by teamsfake")
}
