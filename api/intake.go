package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slabot/slabot/engine"
)

// MaxBodyBytes is the largest request body the intake accepts.
const MaxBodyBytes = 1 << 20

// LeadService is what the intake needs of the engine.
type LeadService interface {
	HandOff(ctx context.Context, h engine.HandOff) (*engine.HandOffResult, error)
	LeadByExternalID(ctx context.Context, externalID string) (*engine.Lead, error)
	LogTouch(ctx context.Context, leadID int64, a engine.Actor, in engine.TouchInput) (*engine.Lead, bool, error)
	SetOutcome(ctx context.Context, leadID int64, a engine.Actor, outcome string, amount float64, at time.Time) (*engine.Lead, error)
	AddMQL(ctx context.Context, m engine.MQL) (bool, error)
}

// Intake serves the webhooks CRMs and automation tools call.
type Intake struct {
	service  LeadService
	tokenSum [32]byte
	logger   *slog.Logger
	handoffs *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewIntake builds the intake handlers. token is the shared bearer secret;
// metrics are registered on reg.
func NewIntake(service LeadService, token string, logger *slog.Logger, reg prometheus.Registerer) *Intake {
	in := &Intake{
		service: service, tokenSum: sha256.Sum256([]byte(token)), logger: logger,
		handoffs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "slabot", Name: "handoffs_total",
			Help: "Hand-offs received by the intake API, by outcome (created, repeated, linked, rejected)."}, []string{"outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "slabot", Name: "intake_duration_seconds",
			Help: "Time to answer an intake request.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"endpoint"}),
	}
	reg.MustRegister(in.handoffs, in.latency)
	return in
}

// Register adds the intake routes to s.
func (in *Intake) Register(s *Server) {
	s.Handle("POST /v1/handoffs", in.endpoint("handoffs", in.handoff))
	s.Handle("POST /v1/leads/{external_id}/touches", in.endpoint("touches", in.touch))
	s.Handle("POST /v1/leads/{external_id}/outcome", in.endpoint("outcome", in.outcome))
	s.Handle("POST /v1/mqls", in.endpoint("mqls", in.mql))
}

// apiError is an error with the HTTP status to answer.
type apiError struct {
	status  int
	message string
	fields  engine.FieldErrors
}

func (e *apiError) Error() string { return e.message }

type handlerFunc func(r *http.Request, body []byte) (status int, response any, err error)

// endpoint wraps a handler with the checks every intake call shares:
// the bearer token, the body's size and type, timing, and error replies.
func (in *Intake) endpoint(name string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		defer func() { in.latency.WithLabelValues(name).Observe(time.Since(start).Seconds()) }()
		status, resp, err := in.serve(w, r, h)
		if err != nil {
			if name == "handoffs" {
				in.handoffs.WithLabelValues("rejected").Inc()
			}
			in.writeError(w, r, err)
			return
		}
		writeJSON(w, status, resp)
	})
}

func (in *Intake) serve(w http.ResponseWriter, r *http.Request, h handlerFunc) (int, any, error) {
	if !in.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="slabot"`)
		return 0, nil, &apiError{status: http.StatusUnauthorized,
			message: "missing or wrong token: send the header `Authorization: Bearer <SLABOT_INTAKE_TOKEN>`"}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return 0, nil, &apiError{status: http.StatusUnsupportedMediaType,
				message: "the body must be JSON: send it with `Content-Type: application/json`"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return 0, nil, &apiError{status: http.StatusRequestEntityTooLarge,
				message: "the body is larger than 1 MiB: send one lead per request and trim long fields"}
		}
		return 0, nil, &apiError{status: http.StatusBadRequest, message: "the body could not be read: " + err.Error()}
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return 0, nil, &apiError{status: http.StatusBadRequest, message: "the body is empty: send a JSON object"}
	}
	if !json.Valid(body) {
		return 0, nil, &apiError{status: http.StatusBadRequest, message: "the body is not valid JSON: " + describeSyntaxError(body)}
	}
	return h(r, body)
}

// authorized compares hashes in constant time, so neither the token's
// content nor its length leaks through timing.
func (in *Intake) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(sum[:], in.tokenSum[:]) == 1
}

func describeSyntaxError(body []byte) string {
	var v any
	err := json.Unmarshal(body, &v)
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		line, col := 1, 1
		for _, b := range body[:min(int(syn.Offset), len(body))] {
			if b == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return syn.Error() + " (line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col) + ")"
	}
	if err != nil {
		return err.Error()
	}
	return "unexpected content"
}

type errorBody struct {
	Error  string             `json:"error"`
	Errors engine.FieldErrors `json:"errors,omitempty"`
}

// writeError is the one place that decides what a caller sees of a failure.
func (in *Intake) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		writeJSON(w, ae.status, errorBody{Error: ae.message, Errors: ae.fields})
		return
	}
	if fe, ok := engine.IsFieldErrors(err); ok {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "the request has problems; see errors", Errors: fe})
		return
	}
	status := http.StatusInternalServerError
	switch engine.ErrorCode(err) {
	case engine.EINVALID:
		status = http.StatusBadRequest
	case engine.ENOTFOUND:
		status = http.StatusNotFound
	case engine.ECONFLICT:
		status = http.StatusConflict
	case engine.EFORBIDDEN:
		status = http.StatusForbidden
	default:
		in.logger.Error("intake request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, errorBody{Error: engine.ErrorMessage(err)})
}

func invalid(fields engine.FieldErrors) error {
	return &apiError{status: http.StatusBadRequest, message: "the request has problems; see errors", fields: fields}
}

type handoffResponse struct {
	ID            int64     `json:"id"`
	ExternalID    string    `json:"external_id"`
	Status        string    `json:"status"`
	Owner         string    `json:"owner,omitempty"`
	Rule          string    `json:"rule,omitempty"`
	State         string    `json:"state"`
	FirstTouchDue time.Time `json:"first_touch_due,omitzero"`
	Changed       []string  `json:"changed,omitempty"`
	Message       string    `json:"message"`
	Warnings      []string  `json:"warnings,omitempty"`
}

func (in *Intake) handoff(r *http.Request, body []byte) (int, any, error) {
	h, warnings, errs := DecodeHandOff(body)
	if len(errs) > 0 {
		return 0, nil, invalid(errs)
	}
	res, err := in.service.HandOff(r.Context(), h)
	if err != nil {
		return 0, nil, err
	}
	in.handoffs.WithLabelValues(res.Outcome).Inc()
	l := res.Lead
	resp := handoffResponse{ID: l.ID, ExternalID: l.ExternalID, Status: res.Outcome, Owner: l.OwnerEmail, Rule: l.Rule,
		State: string(l.State), FirstTouchDue: l.FirstTouchDue, Changed: res.Changed, Message: res.Message, Warnings: warnings}
	if res.Outcome == engine.HandOffCreated {
		in.logger.Info("lead handed off", "lead_id", l.ID, "rule", l.Rule, "routing", res.Routing.Reason)
		return http.StatusCreated, resp, nil
	}
	return http.StatusOK, resp, nil
}

func (in *Intake) lead(r *http.Request) (*engine.Lead, error) {
	id := strings.TrimSpace(r.PathValue("external_id"))
	if id == "" {
		return nil, invalid(engine.FieldErrors{{Field: "external_id", Message: "is missing from the path"}})
	}
	return in.service.LeadByExternalID(r.Context(), id)
}

type leadResponse struct {
	ID         int64    `json:"id"`
	ExternalID string   `json:"external_id"`
	Status     string   `json:"status"`
	State      string   `json:"state"`
	Message    string   `json:"message"`
	Warnings   []string `json:"warnings,omitempty"`
}

func (in *Intake) touch(r *http.Request, body []byte) (int, any, error) {
	var f fields
	m := f.object("", body, "kind", "at", "by_email", "note", "key")
	kind := engine.TouchKind(strings.ToLower(f.str("kind", m["kind"])))
	at := f.timestamp("at", m["at"])
	by := strings.ToLower(f.str("by_email", m["by_email"]))
	note := f.str("note", m["note"])
	key := f.str("key", m["key"])
	if kind == "" {
		f.fail("kind", "is required: call, email, meeting, linkedin or other")
	} else if !kind.Valid() {
		f.fail("kind", "%q is not a kind of touch: use call, email, meeting, linkedin or other", kind)
	}
	if len(note) > 2000 {
		f.fail("note", "is longer than 2000 characters")
	}
	if len(f.errs) > 0 {
		return 0, nil, invalid(dedupe(f.errs))
	}
	l, err := in.lead(r)
	if err != nil {
		return 0, nil, err
	}
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		key = k
	}
	if key == "" {
		// Derived from the lead and the body: a retried webhook is a repeat.
		sum := sha256.Sum256(append([]byte(l.ExternalID+"\x00"), body...))
		key = hex.EncodeToString(sum[:16])
	}
	l, added, err := in.service.LogTouch(r.Context(), l.ID, engine.Actor{System: "crm"},
		engine.TouchInput{Kind: kind, At: at, ByEmail: by, Note: note, Origin: "crm", Key: "crm:" + key})
	if err != nil {
		return 0, nil, err
	}
	resp := leadResponse{ID: l.ID, ExternalID: l.ExternalID, Status: "created", State: string(l.State),
		Message: "Touch logged.", Warnings: f.warnings()}
	if !added {
		resp.Status, resp.Message = "repeated", "This touch was logged before; nothing changed."
		return http.StatusOK, resp, nil
	}
	return http.StatusCreated, resp, nil
}

func (in *Intake) outcome(r *http.Request, body []byte) (int, any, error) {
	var f fields
	m := f.object("", body, "outcome", "amount", "at")
	outcome := strings.ToLower(f.str("outcome", m["outcome"]))
	amount := f.number("amount", m["amount"])
	at := f.timestamp("at", m["at"])
	switch outcome {
	case "":
		f.fail("outcome", "is required: opportunity, won, lost or disqualified")
	case "opportunity", "won", "lost", "disqualified":
	default:
		f.fail("outcome", "%q is not an outcome: use opportunity, won, lost or disqualified", outcome)
	}
	if amount < 0 {
		f.fail("amount", "is negative")
	}
	if len(f.errs) > 0 {
		return 0, nil, invalid(dedupe(f.errs))
	}
	l, err := in.lead(r)
	if err != nil {
		return 0, nil, err
	}
	before := l.State
	l, err = in.service.SetOutcome(r.Context(), l.ID, engine.Actor{System: "crm"}, outcome, amount, at)
	if err != nil {
		return 0, nil, err
	}
	resp := leadResponse{ID: l.ID, ExternalID: l.ExternalID, Status: "updated", State: string(l.State),
		Message: "The lead is now " + l.State.Label() + ".", Warnings: f.warnings()}
	if before == l.State {
		resp.Status, resp.Message = "repeated", "The lead was already "+l.State.Label()+"; nothing changed."
	}
	return http.StatusOK, resp, nil
}

type mqlResponse struct {
	ExternalID string   `json:"external_id"`
	Status     string   `json:"status"`
	Warnings   []string `json:"warnings,omitempty"`
}

func (in *Intake) mql(r *http.Request, body []byte) (int, any, error) {
	var f fields
	m := f.object("", body, "external_id", "source", "segment", "at")
	mql := engine.MQL{ExternalID: f.str("external_id", m["external_id"]), Source: f.str("source", m["source"]),
		Segment: f.str("segment", m["segment"]), At: f.timestamp("at", m["at"])}
	if mql.ExternalID == "" {
		f.fail("external_id", "is required: the lead's id in your marketing tool, so a repeat is recognised")
	}
	if len(f.errs) > 0 {
		return 0, nil, invalid(dedupe(f.errs))
	}
	added, err := in.service.AddMQL(r.Context(), mql)
	if err != nil {
		return 0, nil, err
	}
	if !added {
		return http.StatusOK, mqlResponse{ExternalID: mql.ExternalID, Status: "repeated", Warnings: f.warnings()}, nil
	}
	return http.StatusCreated, mqlResponse{ExternalID: mql.ExternalID, Status: "created", Warnings: f.warnings()}, nil
}
