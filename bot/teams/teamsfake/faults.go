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
	failNextIn     map[string][]int // by conversation id
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

// FailNextIn answers the next count connector calls on one conversation
// with status, leaving the others alone.
func (s *Server) FailNextIn(conversationID string, status, count int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.failNextIn == nil {
		s.faults.failNextIn = map[string][]int{}
	}
	for range count {
		s.faults.failNextIn[conversationID] = append(s.faults.failNextIn[conversationID], status)
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
func (s *Server) injectConnectorFault(w http.ResponseWriter, conversationID string) int {
	s.mu.Lock()
	status := 0
	retryAfter := time.Duration(0)
	if queued := s.faults.failNextIn[conversationID]; conversationID != "" && len(queued) > 0 {
		status = queued[0]
		s.faults.failNextIn[conversationID] = queued[1:]
	} else if len(s.faults.failNext) > 0 {
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

// writeFault answers an injected failure with the code and message
// Microsoft lists for it (conversation-messages#status-codes-from-bot-conversational-apis):
// 429 Throttled, 412 PreconditionFailed, 500 and 502 ServiceError; 503 and
// 504 come without a code.
func writeFault(w http.ResponseWriter, status int, retryAfter time.Duration) {
	if status == http.StatusTooManyRequests && retryAfter > 0 {
		secs := max(int(retryAfter.Round(time.Second)/time.Second), 1)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	switch status {
	case http.StatusTooManyRequests:
		writeError(w, status, "Throttled", "Too many requests.")
	case http.StatusPreconditionFailed:
		writeError(w, status, "PreconditionFailed", "Precondition failed, please try again.")
	case http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		w.WriteHeader(status)
	default:
		writeError(w, status, "ServiceError", "injected by teamsfake")
	}
}
