package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slabot/slabot/engine"
)

// HubSpot in: POST /v1/hubspot/handoffs takes what a HubSpot workflow's
// "Send a webhook" action sends, a flat object of contact properties or
// the nested {"properties": {"email": {"value": …}}} form, turns it into
// the intake's own hand-off JSON and hands it to the same decoder, so it
// answers exactly as /v1/handoffs does (201, 200 for a repeat, 400 only
// for a lead nobody can work, warnings for the rest).

// HubSpotOwners finds a HubSpot owner's email (crm/hubspot.Client does,
// with HUBSPOT_TOKEN).
type HubSpotOwners interface {
	OwnerEmail(ctx context.Context, ownerID string) (string, error)
}

// HubSpotIntake serves HubSpot's workflow webhooks.
type HubSpotIntake struct {
	intake *Intake
	// Policy is the agreement in force (its crm.hubspot.map).
	Policy func() *engine.Policy
	// Owners reads owner ids as emails; nil without HUBSPOT_TOKEN.
	Owners HubSpotOwners
	// ClientSecret, when set, lets a request signed with HubSpot's v3
	// signature in without the bearer token.
	ClientSecret string
	Now          func() time.Time
	Logger       *slog.Logger
}

// NewHubSpotIntake serves HubSpot beside intake, with its token and metrics.
func NewHubSpotIntake(intake *Intake, policy func() *engine.Policy, owners HubSpotOwners, clientSecret string, logger *slog.Logger) *HubSpotIntake {
	return &HubSpotIntake{intake: intake, Policy: policy, Owners: owners, ClientSecret: clientSecret, Now: time.Now, Logger: logger}
}

// Register adds the route to s.
func (hs *HubSpotIntake) Register(s *Server) {
	inner := hs.intake.endpoint("hubspot_handoffs", hs.handoff)
	s.Handle("POST /v1/hubspot/handoffs", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hs.ClientSecret != "" && r.Header.Get("X-HubSpot-Signature-v3") != "" {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
			if err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					err = &apiError{status: http.StatusRequestEntityTooLarge,
						message: "the body is larger than 1 MiB: send one contact per request, with fewer properties"}
				} else {
					err = bodyError("the body could not be read in full; send it again")
				}
				hs.intake.writeError(w, r, err)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if hs.signedByHubSpot(r, body) {
				r = r.WithContext(context.WithValue(r.Context(), signedKey{}, true))
			}
		}
		inner.ServeHTTP(w, r)
	}))
}

// signedKey marks a request whose HubSpot signature was verified.
type signedKey struct{}

func signedRequest(ctx context.Context) bool { v, _ := ctx.Value(signedKey{}).(bool); return v }

// signedByHubSpot checks X-HubSpot-Signature-v3: base64 HMAC-SHA256, keyed
// by the app's client secret, of method + URI + body + timestamp, with a
// timestamp (X-HubSpot-Request-Timestamp, milliseconds) at most five
// minutes old. The URI is the one HubSpot called, so behind a proxy it is
// rebuilt from X-Forwarded-Proto and X-Forwarded-Host.
func (hs *HubSpotIntake) signedByHubSpot(r *http.Request, body []byte) bool {
	ms, err := strconv.ParseInt(r.Header.Get("X-HubSpot-Request-Timestamp"), 10, 64)
	if err != nil {
		return false
	}
	if age := hs.Now().Sub(time.UnixMilli(ms)); age > 5*time.Minute || age < -5*time.Minute {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(r.Header.Get("X-HubSpot-Signature-v3"))
	if err != nil {
		return false
	}
	host := r.Host
	if h := r.Header.Get("X-Forwarded-Host"); h != "" {
		host = strings.TrimSpace(strings.Split(h, ",")[0])
	}
	schemes := []string{"https", "http"}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		schemes = []string{strings.TrimSpace(strings.Split(p, ",")[0])}
	}
	for _, scheme := range schemes {
		uri := scheme + "://" + host + r.URL.RequestURI()
		if decoded, err := url.PathUnescape(uri); err == nil {
			uri = decoded
		}
		mac := hmac.New(sha256.New, []byte(hs.ClientSecret))
		mac.Write([]byte(r.Method + uri))
		mac.Write(body)
		mac.Write([]byte(r.Header.Get("X-HubSpot-Request-Timestamp")))
		if hmac.Equal(mac.Sum(nil), got) {
			return true
		}
	}
	return false
}

// HubSpotStockMap is how a stock HubSpot portal's contact properties fill
// a hand-off: hand-off field → property. crm.hubspot.map overrides it.
var HubSpotStockMap = map[string]string{
	"external_id": "hs_object_id", "email": "email", "first_name": "firstname", "last_name": "lastname",
	"title": "jobtitle", "phone": "phone", "company": "company", "domain": "website", "employees": "numemployees",
	"industry": "industry", "country": "country", "score": "hubspotscore", "source": "hs_analytics_source",
	"owner": "hubspot_owner_id",
}

// hubSpotPortalKeys name the portal in the bodies HubSpot sends, which
// makes a link to the contact's record.
var hubSpotPortalKeys = []string{"portal-id", "portalid", "portal_id", "hs_portal_id"}

func (hs *HubSpotIntake) handoff(r *http.Request, body []byte) (int, any, error) {
	props, portal, warnings, errs := hubSpotProperties(body)
	if len(errs) > 0 {
		return 0, nil, invalid(errs, warnings)
	}
	var overrides map[string]string
	if p := hs.Policy(); p != nil {
		overrides = p.CRM.HubSpot.Map
	}
	// The owner lookup waits on HubSpot, not the database: it must not eat
	// the store's deadline, which starts again after it.
	native, more := hs.toHandOff(context.WithoutCancel(r.Context()), props, portal, overrides)
	encoded, err := json.Marshal(native)
	if err != nil {
		return 0, nil, bodyError("the HubSpot properties could not be read")
	}
	h, decoded, errs := DecodeHandOff(encoded)
	warnings = append(append(warnings, more...), decoded...)
	if len(errs) > 0 {
		return 0, nil, invalid(hubSpotFieldNames(errs, overrides), warnings)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), hs.intake.StoreDeadline)
	defer cancel()
	return hs.intake.handOff(ctx, h, warnings, "lead handed off from HubSpot")
}

// hubSpotProperties reads either shape into property → text, in the order
// sent. The nested form's "properties" wins over its other top-level keys
// (vid, portal-id…), which give the record id when no hs_object_id is sent.
func hubSpotProperties(body []byte) (props []member, portal string, warnings []string, errs engine.FieldErrors) {
	var d decoder
	if !utf8.Valid(body) {
		d.warn("(body)", "bytes that are not UTF-8 were replaced with �")
	}
	top, ok := members(body)
	if !ok {
		d.fail("(body)", "must be a JSON object of HubSpot properties {…}, not %s", kind(body))
		return nil, "", d.result(), d.errs
	}
	var nested json.RawMessage
	for _, m := range top {
		if m.key == "properties" {
			nested = m.raw
		}
	}
	var topLevel []member
	if nested != nil {
		inner, ok := members(nested)
		if !ok {
			d.fail("properties", "must be an object of HubSpot properties, like {\"email\": {\"value\": \"dana@acme.test\"}}, not %s", kind(nested))
			return nil, "", d.result(), d.errs
		}
		for _, m := range inner {
			v := m.raw
			if obj, ok := members(v); ok {
				v = nil
				for _, f := range obj {
					if f.key == "value" {
						v = f.raw
					}
				}
			}
			props = append(props, member{key: strings.ToLower(m.key), raw: v})
		}
		topLevel = top
	} else {
		for _, m := range top {
			props = append(props, member{key: strings.ToLower(m.key), raw: m.raw})
		}
	}
	id := ""
	for _, m := range props {
		if m.key == "hs_object_id" {
			id, _ = readText(m.raw)
		}
	}
	for _, m := range topLevel {
		if slices.Contains([]string{"vid", "canonical-vid", "objectid"}, strings.ToLower(m.key)) && id == "" {
			if s, ok := readText(m.raw); ok && s != "" {
				id = s
				props = append(props, member{key: "hs_object_id", raw: m.raw})
			}
		}
	}
	for _, m := range append(append([]member(nil), topLevel...), props...) {
		if slices.Contains(hubSpotPortalKeys, strings.ToLower(m.key)) {
			if s, ok := readText(m.raw); ok && digits.MatchString(s) {
				portal = s
			}
		}
	}
	return props, portal, d.result(), d.errs
}

var digits = regexp.MustCompile(`^\d{1,20}$`)

// toHandOff builds the intake's JSON from HubSpot properties.
func (hs *HubSpotIntake) toHandOff(ctx context.Context, props []member, portal string, overrides map[string]string) (map[string]any, []string) {
	fieldProp := map[string]string{}
	for f, p := range HubSpotStockMap {
		fieldProp[f] = p
	}
	for f, p := range overrides {
		fieldProp[f] = p
	}
	values := map[string]json.RawMessage{}
	for _, m := range props {
		values[m.key] = m.raw
	}
	used := map[string]bool{}
	get := func(field string) json.RawMessage {
		p, ok := fieldProp[field]
		if !ok {
			return nil
		}
		used[p] = true
		return values[p]
	}
	text := func(field string) string { s, _ := readText(get(field)); return strings.TrimSpace(s) }
	var warnings []string

	name := text("name")
	if name == "" {
		name = strings.TrimSpace(text("first_name") + " " + text("last_name"))
	} else {
		text("first_name")
		text("last_name")
	}
	out := map[string]any{
		"external_id": get("external_id"),
		"source":      strings.ToLower(text("source")),
		"segment":     text("segment"),
		"score":       get("score"),
		"contact":     map[string]any{"name": name, "email": get("email"), "title": get("title"), "phone": get("phone")},
		"company": map[string]any{"name": get("company"), "domain": hubSpotDomain(text("domain")), "employees": get("employees"),
			"industry": get("industry"), "country": get("country")},
		"value": get("value"),
	}
	if u := text("crm_url"); u != "" {
		out["crm_url"] = u
	} else if id := text("external_id"); portal != "" && digits.MatchString(id) {
		out["crm_url"] = "https://app.hubspot.com/contacts/" + portal + "/record/0-1/" + id
	}
	owner := text("owner")
	switch {
	case owner == "":
	case strings.Contains(owner, "@"):
		out["owner_email"] = owner
	case hs.Owners == nil:
		warnings = append(warnings, fieldProp["owner"]+": "+engine.Quote(owner)+
			" is a HubSpot owner id and slabot cannot look it up without HUBSPOT_TOKEN; the lead goes round robin")
	default:
		lookup, cancel := context.WithTimeout(ctx, 3*time.Second)
		email, err := hs.Owners.OwnerEmail(lookup, owner)
		cancel()
		if err != nil || email == "" {
			hs.Logger.Warn("HubSpot owner lookup failed; the lead goes round robin", "owner_id", owner, "err", err)
			warnings = append(warnings, fieldProp["owner"]+": HubSpot owner "+engine.Quote(owner)+
				" could not be looked up; the lead goes round robin")
		} else {
			out["owner_email"] = email
		}
	}
	form := map[string]json.RawMessage{}
	var order []string
	for _, m := range props {
		if used[m.key] || absent(m.raw) || slices.Contains(hubSpotPortalKeys, m.key) {
			continue
		}
		if s, ok := readText(m.raw); ok && strings.TrimSpace(s) == "" {
			continue
		}
		if _, dup := form[m.key]; !dup {
			order = append(order, m.key)
		}
		form[m.key] = m.raw
	}
	if len(order) > 0 {
		// Keep HubSpot's order: the decoder reads form answers as sent.
		var b bytes.Buffer
		b.WriteByte('{')
		for i, k := range order {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			b.Write(form[k])
		}
		b.WriteByte('}')
		out["context"] = map[string]any{"form": json.RawMessage(b.Bytes())}
	}
	for k, v := range out {
		if raw, ok := v.(json.RawMessage); ok && raw == nil {
			delete(out, k)
		}
	}
	for _, part := range []string{"contact", "company"} {
		m := out[part].(map[string]any)
		for k, v := range m {
			if raw, ok := v.(json.RawMessage); ok && raw == nil {
				delete(m, k)
			}
		}
	}
	return out, warnings
}

// hubSpotDomain turns HubSpot's website property into a domain.
func hubSpotDomain(website string) string {
	if website == "" {
		return ""
	}
	if !strings.Contains(website, "://") {
		website = "https://" + website
	}
	u, err := url.Parse(website)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}

// hubSpotFieldNames names HubSpot properties in the errors of a refused
// hand-off, so the workflow's author knows which property to send.
func hubSpotFieldNames(errs engine.FieldErrors, overrides map[string]string) engine.FieldErrors {
	prop := func(field string) string {
		if p, ok := overrides[field]; ok {
			return p
		}
		return HubSpotStockMap[field]
	}
	out := make(engine.FieldErrors, len(errs))
	for i, e := range errs {
		switch e.Field {
		case "external_id":
			e.Field, e.Message = prop("external_id"), e.Message+" (send the contact's Record ID as "+prop("external_id")+")"
		case "contact.email":
			e.Field = prop("email")
		case "company.name":
			e.Field = prop("company")
		}
		out[i] = e
	}
	return out
}
