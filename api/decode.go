package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/slabot/slabot/engine"
)

// fields decodes a JSON object field by field, so that one request reports
// every problem at once rather than the first one json.Unmarshal meets.
type fields struct {
	errs    engine.FieldErrors
	unknown []string
}

func (f *fields) fail(field, format string, args ...any) {
	f.errs = append(f.errs, engine.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// members splits a JSON object into its members.
func (f *fields) members(prefix string, raw json.RawMessage) map[string]json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]json.RawMessage{}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		name := prefix
		if name == "" {
			name = "(body)"
		}
		f.fail(name, "must be a JSON object {…}")
		return map[string]json.RawMessage{}
	}
	return m
}

// object splits a JSON object into its members; known lists the members
// the endpoint reads, and any other is reported back as a warning.
func (f *fields) object(prefix string, raw json.RawMessage, known ...string) map[string]json.RawMessage {
	m := f.members(prefix, raw)
	for k := range m {
		if !slices.Contains(known, k) {
			f.unknown = append(f.unknown, join(prefix, k))
		}
	}
	return m
}

func (f *fields) str(field string, raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		// CRMs often send ids and phone numbers as numbers: accept them.
		var n json.Number
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if d.Decode(&n) == nil {
			return n.String()
		}
		f.fail(field, "must be a string")
		return ""
	}
	return strings.TrimSpace(s)
}

func (f *fields) number(field string, raw json.RawMessage) float64 {
	if len(raw) == 0 || string(raw) == "null" {
		return 0
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if _, err := fmt.Sscanf(strings.TrimSpace(s), "%g", &v); err == nil {
				return v
			}
		}
		f.fail(field, "must be a number, like 87")
		return 0
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		f.fail(field, "must be a finite number")
		return 0
	}
	return v
}

func (f *fields) integer(field string, raw json.RawMessage) int {
	v := f.number(field, raw)
	if v != math.Trunc(v) || math.Abs(v) > 1e9 {
		f.fail(field, "must be a whole number")
		return 0
	}
	return int(v)
}

func (f *fields) timestamp(field string, raw json.RawMessage) time.Time {
	s := f.str(field, raw)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	f.fail(field, "%q is not a time: use RFC 3339, like 2026-11-22T14:05:00Z", s)
	return time.Time{}
}

func (f *fields) strings(field string, raw json.RawMessage) []string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		f.fail(field, "must be a list of strings, like [\"/pricing\"]")
		return nil
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		if s := f.str(fmt.Sprintf("%s[%d]", field, i), item); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// stringMap reads form answers: any scalar value is kept as text.
func (f *fields) stringMap(field string, raw json.RawMessage) map[string]string {
	// Every key of a form is wanted: they are the buyer's answers.
	m := f.members(field, raw)
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[k] = s
			continue
		}
		var scalar any
		if json.Unmarshal(v, &scalar) == nil {
			switch scalar.(type) {
			case map[string]any, []any:
				out[k] = string(v)
			case nil:
				continue
			default:
				out[k] = fmt.Sprint(scalar)
			}
		}
	}
	return out
}

// warnings lists unknown members, sorted, for the response.
func (f *fields) warnings() []string {
	sort.Strings(f.unknown)
	var out []string
	for _, u := range f.unknown {
		out = append(out, fmt.Sprintf("%s is not a field slabot knows; it was ignored", u))
	}
	return out
}

// DecodeHandOff reads a hand-off in the intake API's JSON shape, returning
// warnings for unknown fields and every field error at once. The CSV import
// uses it too, so both report problems in the same words.
func DecodeHandOff(body []byte) (engine.HandOff, []string, engine.FieldErrors) {
	var f fields
	var h engine.HandOff
	top := f.object("", body, "external_id", "source", "segment", "score", "owner_email", "contact", "company",
		"context", "crm_url", "value", "handed_off_at")
	h.ExternalID = f.str("external_id", top["external_id"])
	h.Source = f.str("source", top["source"])
	h.Segment = f.str("segment", top["segment"])
	h.Score = f.integer("score", top["score"])
	h.OwnerEmail = f.str("owner_email", top["owner_email"])
	h.CRMURL = f.str("crm_url", top["crm_url"])
	h.Value = f.number("value", top["value"])
	h.HandedOffAt = f.timestamp("handed_off_at", top["handed_off_at"])

	c := f.object("contact", top["contact"], "name", "email", "title", "phone")
	h.Contact = engine.Contact{Name: f.str("contact.name", c["name"]), Email: f.str("contact.email", c["email"]),
		Title: f.str("contact.title", c["title"]), Phone: f.str("contact.phone", c["phone"])}
	co := f.object("company", top["company"], "name", "domain", "employees", "industry", "country")
	h.Company = engine.Company{Name: f.str("company.name", co["name"]), Domain: f.str("company.domain", co["domain"]),
		Employees: f.integer("company.employees", co["employees"]), Industry: f.str("company.industry", co["industry"]),
		Country: f.str("company.country", co["country"])}
	cx := f.object("context", top["context"], "form", "activity")
	h.Context.Form = f.stringMap("context.form", cx["form"])
	act := f.object("context.activity", cx["activity"], "visits", "pages", "downloads")
	h.Context.Activity = engine.Activity{Visits: f.integer("context.activity.visits", act["visits"]),
		Pages: f.strings("context.activity.pages", act["pages"]), Downloads: f.strings("context.activity.downloads", act["downloads"])}

	errs := append(f.errs, h.Validate()...)
	return h, f.warnings(), dedupe(errs)
}

// dedupe drops a validation error on a field that already failed to decode.
func dedupe(errs engine.FieldErrors) engine.FieldErrors {
	seen := map[string]bool{}
	var out engine.FieldErrors
	for _, e := range errs {
		if seen[e.Field] {
			continue
		}
		seen[e.Field] = true
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}
