package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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
	// ClientSecret, when set, lets a request signed by HubSpot (v3, or
	// v2 as workflows also send) in without the bearer token.
	ClientSecret string
	// ScoreProperty is the contact property read as the lead's score
	// (HUBSPOT_SCORE_PROPERTY); "" reads none. crm.hubspot.map's score
	// overrides it.
	ScoreProperty string
	Now           func() time.Time
	Logger        *slog.Logger
}

// NewHubSpotIntake serves HubSpot beside intake, with its token and metrics.
func NewHubSpotIntake(intake *Intake, policy func() *engine.Policy, owners HubSpotOwners, clientSecret string, logger *slog.Logger) *HubSpotIntake {
	return &HubSpotIntake{intake: intake, Policy: policy, Owners: owners, ClientSecret: clientSecret, Now: time.Now, Logger: logger}
}

// A HubSpot workflow's "Send a webhook" action, with "Include request
// signature in header", signs its request twice (HubSpot's guide to
// validating requests,
// https://developers.hubspot.com/docs/apps/legacy-apps/authentication/validating-requests):
//
//   - v3: X-HubSpot-Signature-v3, base64 HMAC-SHA256 keyed by the app's
//     client secret of method + URI + body + X-HubSpot-Request-Timestamp
//     (milliseconds; refused when more than five minutes old);
//   - v2 (X-HubSpot-Signature-Version: v2, which workflow webhook actions
//     send): X-HubSpot-Signature, hex SHA-256 of client secret + method +
//     URI + body. It carries no timestamp, so a v2 signature alone cannot
//     tell a replay: slabot takes it, and a replayed hand-off is a repeat
//     of the same hs_object_id, which answers 200 and changes nothing.
//
// v1 (secret + body, sent by the webhooks API, not by workflows) is not
// accepted: it does not cover the URL.

// hubSpotV3Decoded are the only escapes HubSpot's v3 instructions decode
// in the URI before signing (the table "Decode any URL-encoded characters
// listed in the table below"); any other escape stays as sent.
var hubSpotV3Decoded = strings.NewReplacer(
	"%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$", "%27", "'",
	"%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
	"%3a", ":", "%2f", "/", "%3f", "?", "%2a", "*", "%2c", ",", "%3b", ";")

// Register adds the route to s.
func (hs *HubSpotIntake) Register(s *Server) {
	inner := hs.intake.endpoint("hubspot_handoffs", hs.handoff)
	s.Handle("POST /v1/hubspot/handoffs", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hs.ClientSecret != "" && hasHubSpotSignature(r) {
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
			if version, refused := hs.signedByHubSpot(r, body); refused == "" {
				r = r.WithContext(context.WithValue(r.Context(), signedKey{}, true))
			} else {
				// Which check failed, never the secret or the signature: an
				// admin can tell a wrong secret from a proxy that changed the
				// address or a clock that drifted. The bearer token may still
				// let the request in.
				hs.Logger.Info("a HubSpot signature was refused", "version", version, "check", refused,
					"host", r.Host, "path", r.URL.Path)
			}
		}
		inner.ServeHTTP(w, r)
	}))
}

// signedKey marks a request whose HubSpot signature was verified.
type signedKey struct{}

func signedRequest(ctx context.Context) bool { v, _ := ctx.Value(signedKey{}).(bool); return v }

// hasHubSpotSignature reports whether r carries a signature slabot checks.
func hasHubSpotSignature(r *http.Request) bool {
	return r.Header.Get("X-HubSpot-Signature-v3") != "" || r.Header.Get("X-HubSpot-Signature") != ""
}

// signedByHubSpot checks r's v3 signature, else its v2 one; it returns the
// version checked and, when refused, which check failed ("" when it
// passed). The URI is the one HubSpot called, so behind a proxy it is
// rebuilt from X-Forwarded-Proto and X-Forwarded-Host.
func (hs *HubSpotIntake) signedByHubSpot(r *http.Request, body []byte) (version, refused string) {
	host := r.Host
	if h := r.Header.Get("X-Forwarded-Host"); h != "" {
		host = strings.TrimSpace(strings.Split(h, ",")[0])
	}
	schemes := []string{"https", "http"}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		schemes = []string{strings.TrimSpace(strings.Split(p, ",")[0])}
	}
	if sig := r.Header.Get("X-HubSpot-Signature-v3"); sig != "" {
		return "v3", hs.checkV3(r, body, sig, host, schemes)
	}
	switch v := strings.ToLower(r.Header.Get("X-HubSpot-Signature-Version")); v {
	case "v2":
		return "v2", hs.checkV2(r, body, host, schemes)
	case "":
		return "v2", "X-HubSpot-Signature-Version is missing"
	default:
		return v, "signature version " + v + " is not accepted (only v3 and v2 cover the address)"
	}
}

func (hs *HubSpotIntake) checkV3(r *http.Request, body []byte, sig, host string, schemes []string) string {
	ts := r.Header.Get("X-HubSpot-Request-Timestamp")
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "X-HubSpot-Request-Timestamp is missing or not a number"
	}
	if age := hs.Now().Sub(time.UnixMilli(ms)); age > 5*time.Minute || age < -5*time.Minute {
		return "the timestamp is more than five minutes from this server's clock"
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return "the signature is not base64"
	}
	for _, scheme := range schemes {
		uri := scheme + "://" + host + hubSpotV3Decoded.Replace(r.URL.RequestURI())
		mac := hmac.New(sha256.New, []byte(hs.ClientSecret))
		mac.Write([]byte(r.Method + uri))
		mac.Write(body)
		mac.Write([]byte(ts))
		if hmac.Equal(mac.Sum(nil), got) {
			return ""
		}
	}
	return "the signature does not match this body and address (check HUBSPOT_CLIENT_SECRET, and that a proxy sends X-Forwarded-Proto and X-Forwarded-Host)"
}

func (hs *HubSpotIntake) checkV2(r *http.Request, body []byte, host string, schemes []string) string {
	got, err := hex.DecodeString(strings.TrimSpace(r.Header.Get("X-HubSpot-Signature")))
	if err != nil || len(got) != sha256.Size {
		return "the v2 signature is not a hex SHA-256"
	}
	for _, scheme := range schemes {
		// v2 signs the URI exactly as HubSpot called it: no decoding.
		h := sha256.New()
		h.Write([]byte(hs.ClientSecret + r.Method + scheme + "://" + host + r.URL.RequestURI()))
		h.Write(body)
		if hmac.Equal(h.Sum(nil), got) {
			return ""
		}
	}
	return "the v2 signature does not match this body and address (check HUBSPOT_CLIENT_SECRET, and that a proxy sends X-Forwarded-Proto and X-Forwarded-Host)"
}

// HubSpotStockMap is how a stock HubSpot portal's contact properties fill
// a hand-off: hand-off field → property. The score has no stock property
// (HubSpotIntake.ScoreProperty); crm.hubspot.map overrides them all.
var HubSpotStockMap = map[string]string{
	"external_id": "hs_object_id", "email": "email", "first_name": "firstname", "last_name": "lastname",
	"title": "jobtitle", "phone": "phone", "company": "company", "domain": "website", "employees": "numemployees",
	"industry": "industry", "country": "country", "source": "hs_analytics_source",
	"owner": "hubspot_owner_id",
}

// HubSpotLegacyScore is HubSpot's retired "HubSpot score" property, which
// stopped updating on 31 August 2025 when score properties gave way to the
// lead scoring tool, whose scores each have a name of the portal's choosing
// (knowledge.hubspot.com/scoring/build-lead-scores). slabot
// reads no score unless told which property holds it.
const HubSpotLegacyScore = "hubspotscore"

// hubSpotDefaultProperties are contact properties HubSpot fills by itself
// (besides its hs_* ones), which a workflow's default body ("include all
// contact properties") carries: none is a form answer.
var hubSpotDefaultProperties = []string{
	"createdate", "lastmodifieddate", "lifecyclestage", "hubspotscore", "associatedcompanyid", "hubspot_owner_assigneddate",
	"hubspot_team_id", "closedate", "first_deal_created_date", "days_to_close", "recent_deal_amount", "recent_deal_close_date",
	"total_revenue", "currentlyinworkflow", "ip_city", "ip_country", "ip_country_code", "ip_state", "ip_state_code",
	"first_conversion_date", "first_conversion_event_name", "recent_conversion_date", "recent_conversion_event_name",
	"engagements_last_meeting_booked", "engagements_last_meeting_booked_campaign", "engagements_last_meeting_booked_medium",
	"engagements_last_meeting_booked_source", "notes_last_contacted", "notes_last_updated", "notes_next_activity_date",
	"num_contacted_notes", "num_notes", "num_associated_deals", "num_conversion_events", "num_unique_conversion_events",
	"associatedcompanylastupdated", "surveymonkeyeventlastupdated", "webinareventlastupdated", "followercount",
	"kloutscoregeneral", "linkedinconnections", "twitterprofilephoto", "vid", "canonical-vid", "is-contact", "objectid",
	"portal-id", "profile-url", "profile-token", "merged-vids", "form-submissions", "identity-profiles", "merge-audits",
}

// formAnswer reports whether an unmapped property becomes a form answer:
// those crm.hubspot.form lists when it lists any; otherwise anything but
// HubSpot's own fields (hs_* and the properties it fills itself).
func formAnswer(prop string, listed []string) bool {
	if len(listed) > 0 {
		return slices.Contains(listed, prop)
	}
	return !strings.HasPrefix(prop, "hs_") && !slices.Contains(hubSpotDefaultProperties, prop)
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
	var listed []string
	if p := hs.Policy(); p != nil {
		overrides, listed = p.CRM.HubSpot.Map, p.CRM.HubSpot.Form
	}
	// The owner lookup waits on HubSpot, not the database: it must not eat
	// the store's deadline, which starts again after it.
	native, more := hs.toHandOff(context.WithoutCancel(r.Context()), props, portal, overrides, listed)
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
func (hs *HubSpotIntake) toHandOff(ctx context.Context, props []member, portal string, overrides map[string]string, listed []string) (map[string]any, []string) {
	fieldProp := map[string]string{}
	for f, p := range HubSpotStockMap {
		fieldProp[f] = p
	}
	if hs.ScoreProperty != "" {
		fieldProp["score"] = strings.ToLower(hs.ScoreProperty)
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
	if _, mapped := fieldProp["score"]; !mapped {
		if s, _ := readText(values[HubSpotLegacyScore]); strings.TrimSpace(s) != "" {
			warnings = append(warnings, HubSpotLegacyScore+": HubSpot's retired score, not updated since 31 August 2025, "+
				"was not read; set HUBSPOT_SCORE_PROPERTY to the internal name of your lead score property")
		}
	}

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
		if used[m.key] || absent(m.raw) || slices.Contains(hubSpotPortalKeys, m.key) || !formAnswer(m.key, listed) {
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
