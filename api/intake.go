package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	// StoreDeadline bounds the database work of one request; NewIntake
	// sets DefaultStoreDeadline.
	StoreDeadline time.Duration
}

// NewIntake builds the intake handlers. token is the shared bearer secret;
// metrics are registered on reg.
func NewIntake(service LeadService, token string, logger *slog.Logger, reg prometheus.Registerer) *Intake {
	in := &Intake{
		service: service, tokenSum: sha256.Sum256([]byte(token)), logger: logger, StoreDeadline: DefaultStoreDeadline,
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

// DefaultStoreDeadline bounds the database work of one intake request. A
// database that does not answer within it gets the caller a 503 with
// Retry-After well within two seconds, rather than a request that hangs
// until the CRM gives up.
const DefaultStoreDeadline = 1500 * time.Millisecond

// retryAfter is what a 503 asks the caller to wait, in seconds.
const retryAfter = "5"

// unavailableMessage answers a request the database did not answer in
// time. Whether or not it was stored, sending it again is safe: every
// endpoint recognises a repeat.
const unavailableMessage = "slabot's database is not answering right now. Please send this again in a few seconds; a repeat is recognised, so nothing is done twice."

// apiError is an error with the HTTP status to answer.
type apiError struct {
	status   int
	message  string
	fields   engine.FieldErrors
	warnings []string
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

// bodyError is a 400 about the body as a whole.
func bodyError(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &apiError{status: http.StatusBadRequest, message: msg,
		fields: engine.FieldErrors{{Field: "(body)", Message: msg}}}
}

func (in *Intake) serve(w http.ResponseWriter, r *http.Request, h handlerFunc) (int, any, error) {
	if !in.authorized(r) && !signedRequest(r.Context()) {
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
		return 0, nil, bodyError("the body could not be read in full; send it again")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return 0, nil, bodyError("the body is empty: send a JSON object")
	}
	if !json.Valid(body) {
		return 0, nil, bodyError("the body is not valid JSON: %s", describeSyntaxError(body))
	}
	ctx, cancel := context.WithTimeout(r.Context(), in.StoreDeadline)
	defer cancel()
	return h(r.WithContext(ctx), body)
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
		msg, _ := engine.CleanLine(syn.Error())
		return msg + " (line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col) + ")"
	}
	if err != nil {
		msg, _ := engine.CleanLine(err.Error())
		return msg
	}
	return "unexpected content"
}

type errorBody struct {
	Error    string             `json:"error"`
	Errors   engine.FieldErrors `json:"errors,omitempty"`
	Warnings []string           `json:"warnings,omitempty"`
}

// writeError is the one place that decides what a caller sees of a failure.
func (in *Intake) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if errors.As(err, &ae) {
		writeJSON(w, ae.status, errorBody{Error: ae.message, Errors: ae.fields, Warnings: ae.warnings})
		return
	}
	if fe, ok := engine.IsFieldErrors(err); ok {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "the request has problems; see errors", Errors: fe})
		return
	}
	code := engine.ErrorCode(err)
	if code == engine.EINTERNAL && errors.Is(err, context.DeadlineExceeded) {
		// Whatever ran out of time was waiting for the database.
		code = engine.EUNAVAILABLE
	}
	status := http.StatusInternalServerError
	message := engine.ErrorMessage(err)
	switch code {
	case engine.EINVALID:
		status = http.StatusBadRequest
	case engine.ENOTFOUND:
		status = http.StatusNotFound
	case engine.ECONFLICT:
		status = http.StatusConflict
	case engine.EFORBIDDEN:
		status = http.StatusForbidden
	case engine.EUNAVAILABLE:
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", retryAfter)
		message = unavailableMessage
		in.logger.Warn("intake: the database is unavailable", "method", r.Method, "endpoint", r.Pattern, "err", err)
	default:
		in.logger.Error("intake request failed", "method", r.Method, "endpoint", r.Pattern, "err", err)
	}
	writeJSON(w, status, errorBody{Error: message})
}

func invalid(fields engine.FieldErrors, warnings []string) error {
	return &apiError{status: http.StatusBadRequest, message: "the request has problems; see errors", fields: fields, warnings: warnings}
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
		return 0, nil, invalid(errs, warnings)
	}
	return in.handOff(r.Context(), h, warnings, "lead handed off")
}

// handOff records a decoded hand-off and answers as /v1/handoffs does:
// 201 for a new lead, 200 for a repeat, with the warnings; logged says
// where it came from.
func (in *Intake) handOff(ctx context.Context, h engine.HandOff, warnings []string, logged string) (int, any, error) {
	res, err := in.service.HandOff(ctx, h)
	if err != nil {
		return 0, nil, err
	}
	in.handoffs.WithLabelValues(res.Outcome).Inc()
	l := res.Lead
	resp := handoffResponse{ID: l.ID, ExternalID: l.ExternalID, Status: res.Outcome, Owner: l.OwnerEmail, Rule: l.Rule,
		State: string(l.State), FirstTouchDue: l.FirstTouchDue, Changed: res.Changed, Message: res.Message, Warnings: warnings}
	if res.Outcome == engine.HandOffCreated {
		in.logger.Info(logged, "lead_id", l.ID, "rule", l.Rule, "routing", res.Routing.Reason, "warnings", len(warnings))
		return http.StatusCreated, resp, nil
	}
	return http.StatusOK, resp, nil
}

// pathID reads the lead's external id from the path, cleaned as hand-offs
// clean it, so that a lead handed off with a hostile id is found again.
func pathID(r *http.Request, d *decoder) string {
	id, notes := engine.CleanExternalID(r.PathValue("external_id"))
	d.cleaned("external_id", notes...)
	if id == "" {
		d.fail("external_id", "is missing from the path: POST /v1/leads/{external_id}/…")
	}
	return id
}

type leadResponse struct {
	ID         int64    `json:"id"`
	ExternalID string   `json:"external_id"`
	Status     string   `json:"status"`
	State      string   `json:"state"`
	Message    string   `json:"message"`
	Warnings   []string `json:"warnings,omitempty"`
}

// touchKey makes an idempotency key fit for storage: a long or unclean
// key is replaced by its checksum, which keeps keys apart as they were.
func touchKey(key string, d *decoder, field string) string {
	if key == "" {
		return ""
	}
	clean, note := engine.CleanLine(key)
	if note == "" && clean == key && len(key) <= 200 {
		return key
	}
	if note != "" {
		d.warn(field, "%s; its checksum is used as the key", note)
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (in *Intake) touch(r *http.Request, body []byte) (int, any, error) {
	var d decoder
	m, ok := d.body(body, "kind", "at", "by_email", "note", "key")
	id := pathID(r, &d)
	if !ok {
		return 0, nil, invalid(dedupe(d.errs), d.result())
	}
	kindText, note := engine.CleanLine(d.required("kind", m["kind"], `"call"`))
	d.cleaned("kind", note)
	kind := engine.TouchKind(strings.ToLower(kindText))
	switch {
	case kindText == "":
		d.fail("kind", "is required: call, email, meeting, linkedin or other")
	case !kind.Valid():
		d.warn("kind", "%s is not a kind of touch slabot knows (call, email, meeting, linkedin, other); it was logged as other", engine.Quote(kindText))
		kind = engine.TouchOther
	}
	at := d.timestamp("at", m["at"], "the time slabot received it is used")
	by, note := engine.CleanEmail(d.text("by_email", m["by_email"]))
	if by == "" && note != "" {
		d.warn("by_email", "%s; it was left out", note)
	} else {
		d.cleaned("by_email", note)
	}
	text, note := engine.CleanText(d.text("note", m["note"]))
	d.cleaned("note", note)
	if n := utf8.RuneCountInString(text); n > engine.MaxNoteLen {
		text, _ = engine.Clip(text, engine.MaxNoteLen)
		d.warn("note", "%d characters; cut to the first %d", n, engine.MaxNoteLen)
	}
	key := touchKey(d.text("key", m["key"]), &d, "key")
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		key = touchKey(k, &d, "Idempotency-Key")
	}
	if len(d.errs) > 0 {
		return 0, nil, invalid(dedupe(d.errs), d.result())
	}
	l, err := in.service.LeadByExternalID(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	if key == "" {
		// Derived from the lead and the body: a retried webhook is a repeat.
		sum := sha256.Sum256(append([]byte(l.ExternalID+"\x00"), body...))
		key = hex.EncodeToString(sum[:16])
	}
	l, added, err := in.service.LogTouch(r.Context(), l.ID, engine.Actor{System: "crm"},
		engine.TouchInput{Kind: kind, At: at, ByEmail: strings.ToLower(by), Note: text, Origin: "crm", Key: "crm:" + key})
	if err != nil {
		return 0, nil, err
	}
	resp := leadResponse{ID: l.ID, ExternalID: l.ExternalID, Status: "created", State: string(l.State),
		Message: "Touch logged.", Warnings: d.result()}
	if !added {
		resp.Status, resp.Message = "repeated", "This touch was logged before; nothing changed."
		return http.StatusOK, resp, nil
	}
	return http.StatusCreated, resp, nil
}

// outcomes are what a lead can end as, in the API's words.
var outcomes = []string{"opportunity", "won", "lost", "disqualified"}

func (in *Intake) outcome(r *http.Request, body []byte) (int, any, error) {
	var d decoder
	m, ok := d.body(body, "outcome", "amount", "at")
	id := pathID(r, &d)
	if !ok {
		return 0, nil, invalid(dedupe(d.errs), d.result())
	}
	outcome, note := engine.CleanLine(d.required("outcome", m["outcome"], `"won"`))
	d.cleaned("outcome", note)
	outcome = strings.ToLower(outcome)
	switch {
	case outcome == "":
		d.fail("outcome", "is required: opportunity, won, lost or disqualified")
	case !slices.Contains(outcomes, outcome):
		d.fail("outcome", "%s is not an outcome: use opportunity, won, lost or disqualified", engine.Quote(outcome))
	}
	amount := d.number("amount", m["amount"])
	switch {
	case amount < 0:
		d.warn("amount", "%v is negative; it was left out", amount)
		amount = 0
	case amount > engine.MaxAmount:
		d.warn("amount", "%v is more than slabot can keep (at most 999,999,999,999.99); it was left out", amount)
		amount = 0
	}
	at := d.timestamp("at", m["at"], "the time slabot received it is used")
	if len(d.errs) > 0 {
		return 0, nil, invalid(dedupe(d.errs), d.result())
	}
	l, err := in.service.LeadByExternalID(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	before := l.State
	l, err = in.service.SetOutcome(r.Context(), l.ID, engine.Actor{System: "crm"}, outcome, amount, at)
	if engine.ErrorCode(err) == engine.EINVALID {
		// An impossible change (a won lead becoming an opportunity).
		return 0, nil, invalid(engine.FieldErrors{{Field: "outcome", Message: engine.ErrorMessage(err)}}, d.result())
	}
	if err != nil {
		return 0, nil, err
	}
	resp := leadResponse{ID: l.ID, ExternalID: l.ExternalID, Status: "updated", State: string(l.State),
		Message: "The lead is now " + l.State.Label() + ".", Warnings: d.result()}
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
	var d decoder
	m, ok := d.body(body, "external_id", "source", "segment", "at")
	if !ok {
		return 0, nil, invalid(dedupe(d.errs), d.result())
	}
	id, notes := engine.CleanExternalID(d.required("external_id", m["external_id"], `"mql-123"`))
	d.cleaned("external_id", notes...)
	label := func(field string) string {
		s, note := engine.CleanLine(d.text(field, m[field]))
		d.cleaned(field, note)
		if n := utf8.RuneCountInString(s); n > engine.MaxLabelLen {
			s, _ = engine.Clip(s, engine.MaxLabelLen)
			d.warn(field, "%d characters; cut to the first %d", n, engine.MaxLabelLen)
		}
		return s
	}
	mql := engine.MQL{ExternalID: id, Source: label("source"), Segment: label("segment"),
		At: d.timestamp("at", m["at"], "the time slabot received it is used")}
	if mql.ExternalID == "" {
		d.fail("external_id", "is required: the lead's id in your marketing tool, so a repeat is recognised")
	}
	if len(d.errs) > 0 {
		return 0, nil, invalid(dedupe(d.errs), d.result())
	}
	added, err := in.service.AddMQL(r.Context(), mql)
	if err != nil {
		return 0, nil, err
	}
	if !added {
		return http.StatusOK, mqlResponse{ExternalID: mql.ExternalID, Status: "repeated", Warnings: d.result()}, nil
	}
	return http.StatusCreated, mqlResponse{ExternalID: mql.ExternalID, Status: "created", Warnings: d.result()}, nil
}
