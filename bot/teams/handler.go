package teams

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// ActivityHandler is what the bot does with a verified inbound activity.
// For an invoke it returns the synchronous answer (nil: 200 with no body,
// which Teams shows as a failure for an adaptiveCard/action: answer those
// with CardResponse, MessageResponse or ErrorResponse); for other
// activities the response is ignored. An error answers 500 (for a click:
// an ErrorResponse without the error's text). It should record what it
// must and return quickly: the Handler answers Teams after SoftTimeout
// even if OnActivity is still running, and lets it finish in the
// background on a context that outlives the request.
type ActivityHandler interface {
	OnActivity(ctx context.Context, activity *Activity) (*InvokeResponse, error)
}

// ActivityHandlerFunc adapts a function to ActivityHandler.
type ActivityHandlerFunc func(ctx context.Context, activity *Activity) (*InvokeResponse, error)

// OnActivity calls f.
func (f ActivityHandlerFunc) OnActivity(ctx context.Context, a *Activity) (*InvokeResponse, error) {
	return f(ctx, a)
}

// HandlerOptions configure a Handler.
type HandlerOptions struct {
	// MaxBodyBytes limits a request body (0: 1 MiB).
	MaxBodyBytes int64
	// SoftTimeout is how long the Handler waits for OnActivity before it
	// answers without it (0: 4 s; Teams gives an invoke about 15 s).
	SoftTimeout time.Duration
	// HardTimeout bounds OnActivity once it runs on (0: 60 s).
	HardTimeout time.Duration
	// SlowInvoke is the answer to an invoke whose OnActivity overran
	// SoftTimeout (nil: a "working on it" message).
	SlowInvoke func(*Activity) *InvokeResponse
	Logger     *slog.Logger
}

// Handler serves POST /api/messages: it decodes the activity, verifies its
// token and hands it to an ActivityHandler.
type Handler struct {
	verifier *Verifier
	next     ActivityHandler
	opts     HandlerOptions
	log      *slog.Logger
	running  sync.WaitGroup
}

// NewHandler returns the inbound endpoint.
func NewHandler(verifier *Verifier, next ActivityHandler, opts HandlerOptions) *Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.SoftTimeout <= 0 {
		opts.SoftTimeout = 4 * time.Second
	}
	if opts.HardTimeout <= 0 {
		opts.HardTimeout = time.Minute
	}
	if opts.SlowInvoke == nil {
		opts.SlowInvoke = func(*Activity) *InvokeResponse {
			return MessageResponse("Working on it: the card will update in a moment.")
		}
	}
	return &Handler{verifier: verifier, next: next, opts: opts, log: loggerOrDiscard(opts.Logger)}
}

// Wait blocks until every OnActivity that outlived its request has
// returned (for a clean shutdown and for tests).
func (h *Handler) Wait() { h.running.Wait() }

type activityResult struct {
	resp *InvokeResponse
	err  error
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "POST an activity")
		return
	}
	activity, status, msg := h.decode(w, r)
	if activity == nil {
		writeError(w, status, msg)
		return
	}
	if _, err := h.verifier.Verify(r.Context(), r.Header.Get("Authorization"), activity); err != nil {
		status := StatusOf(err)
		// What the token claims, never the token: enough for an admin to
		// see a wrong app id, tenant or metadata URL on a real tenant.
		attrs := []any{"status", status, "reason", authReason(err)}
		var ae *AuthError
		if errors.As(err, &ae) {
			attrs = append(attrs, "iss", ae.Issuer, "aud", ae.Audience, "kid", ae.KeyID)
		}
		h.log.Info("teams: refused an inbound request", attrs...)
		h.log.Debug("teams: token verification failed", "err", err)
		if status == http.StatusForbidden {
			writeError(w, status, "forbidden")
			return
		}
		writeError(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	h.log.Debug("teams: activity", "type", activity.Type, "name", activity.Name, "id", activity.ID)

	// OnActivity runs on a context that survives the request so that slow
	// work can finish after Teams has been answered.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.opts.HardTimeout)
	done := make(chan activityResult, 1)
	h.running.Add(1)
	go func() {
		defer h.running.Done()
		defer cancel()
		resp, err := h.next.OnActivity(ctx, activity)
		done <- activityResult{resp, err}
	}()

	timer := time.NewTimer(h.opts.SoftTimeout)
	defer timer.Stop()
	select {
	case res := <-done:
		h.answer(w, activity, res)
	case <-timer.C:
		h.log.Warn("teams: activity still being handled; answered without waiting", "type", activity.Type, "name", activity.Name)
		if activity.Type == ActivityInvoke {
			writeInvoke(w, h.opts.SlowInvoke(activity))
			return
		}
		w.WriteHeader(http.StatusAccepted)
	case <-r.Context().Done():
		// Teams went away; OnActivity finishes on its own context.
	}
}

func (h *Handler) decode(w http.ResponseWriter, r *http.Request) (*Activity, int, string) {
	body := http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes)
	var activity Activity
	dec := json.NewDecoder(body)
	if err := dec.Decode(&activity); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, http.StatusRequestEntityTooLarge, "activity larger than the limit"
		}
		return nil, http.StatusBadRequest, "body is not a JSON activity: " + err.Error()
	}
	if activity.Type == "" {
		return nil, http.StatusBadRequest, "activity has no type"
	}
	return &activity, 0, ""
}

func (h *Handler) answer(w http.ResponseWriter, activity *Activity, res activityResult) {
	if res.err != nil {
		h.log.Error("teams: handling an activity failed", "type", activity.Type, "name", activity.Name, "err", res.err)
		if activity.IsAdaptiveCardAction() {
			// Teams shows this on the card instead of a generic failure.
			writeInvoke(w, ErrorResponse(http.StatusInternalServerError, "InternalError", "slabot could not do that just now. Please try again."))
			return
		}
		writeError(w, http.StatusInternalServerError, "the bot could not handle the activity")
		return
	}
	if activity.Type == ActivityInvoke {
		writeInvoke(w, res.resp)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func writeInvoke(w http.ResponseWriter, resp *InvokeResponse) {
	if resp == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	if resp.Body == nil {
		w.WriteHeader(status)
		return
	}
	body, err := json.Marshal(resp.Body)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "invoke response could not be encoded")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": message}})
}

func authReason(err error) string {
	var ae *AuthError
	if errors.As(err, &ae) {
		return ae.Reason
	}
	return "unauthorized"
}
