package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slabot/slabot/engine"
)

// decoder reads a JSON request field by field, so that one request reports
// every problem at once rather than the first one json.Unmarshal meets. A
// field that cannot be read is an error only when the request cannot be
// worked without it; any other is left out and named in a warning.
type decoder struct {
	errs     engine.FieldErrors
	warnings []string
	unknown  []string
}

func (d *decoder) fail(field, format string, args ...any) {
	d.errs = append(d.errs, engine.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (d *decoder) warn(field, format string, args ...any) {
	d.warnings = append(d.warnings, field+": "+fmt.Sprintf(format, args...))
}

// cleaned warns about each note a cleaning function returned.
func (d *decoder) cleaned(field string, notes ...string) {
	for _, n := range notes {
		if n != "" {
			d.warn(field, "%s", n)
		}
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// member is one member of a JSON object, in the order it was sent.
type member struct {
	key string
	raw json.RawMessage
}

// members reads a JSON object's members in order; ok is false when raw is
// something else.
func members(raw json.RawMessage) (out []member, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, isKey := tok.(string)
		var v json.RawMessage
		if !isKey || dec.Decode(&v) != nil {
			return nil, false
		}
		out = append(out, member{key: key, raw: v})
	}
	return out, true
}

func absent(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// fieldName shows a member's name in a message, however hostile it is.
func fieldName(prefix, key string) string {
	k, _ := engine.CleanLine(key)
	k, _ = engine.Clip(k, 60)
	if k == "" {
		k = strconv.Quote(key)
		k, _ = engine.Clip(k, 60)
	}
	return join(prefix, k)
}

// uniq reads a JSON object's members in order, keeping the last value of a
// key sent twice (as JSON decoders do) with a warning. ok is false when raw
// is present but no object.
func (d *decoder) uniq(prefix string, raw json.RawMessage) (keys []string, values map[string]json.RawMessage, ok bool) {
	values = map[string]json.RawMessage{}
	if absent(raw) {
		return nil, values, true
	}
	list, ok := members(raw)
	if !ok {
		return nil, values, false
	}
	warned := map[string]bool{}
	for _, m := range list {
		if _, dup := values[m.key]; dup {
			if !warned[m.key] {
				warned[m.key] = true
				d.warn(fieldName(prefix, m.key), "is given more than once; the last value is used")
			}
		} else {
			keys = append(keys, m.key)
		}
		values[m.key] = m.raw
	}
	return keys, values, true
}

// object splits a JSON object into its members; known lists the members
// the endpoint reads, and any other is named back in a warning. ok is false
// when raw is present but no object.
func (d *decoder) object(prefix string, raw json.RawMessage, known ...string) (map[string]json.RawMessage, bool) {
	keys, values, ok := d.uniq(prefix, raw)
	for _, k := range keys {
		if !slices.Contains(known, k) {
			d.unknown = append(d.unknown, fieldName(prefix, k))
		}
	}
	return values, ok
}

// part reads a nested object that is not required: anything but an object
// is left out with a warning.
func (d *decoder) part(field string, raw json.RawMessage, known ...string) map[string]json.RawMessage {
	m, ok := d.object(field, raw, known...)
	if !ok {
		d.warn(field, "must be a JSON object {…}; it was left out")
	}
	return m
}

// readText reads a JSON string. Numbers and booleans are taken as they are
// written, since CRMs send ids and phone numbers as numbers; ok is false for
// an object or a list.
func readText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if absent(raw) {
		return "", true
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case '{', '[':
		return "", false
	}
	return string(raw), true
}

// text reads an optional text field, raw: the caller cleans it.
func (d *decoder) text(field string, raw json.RawMessage) string {
	s, ok := readText(raw)
	if !ok {
		d.warn(field, "must be text, not %s; it was left out", kind(raw))
	}
	return s
}

// required reads a text field the request cannot do without.
func (d *decoder) required(field string, raw json.RawMessage, example string) string {
	s, ok := readText(raw)
	if !ok {
		d.fail(field, "must be text, like %s, not %s", example, kind(raw))
	}
	return s
}

func kind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "text"
	case 't', 'f':
		return "true or false"
	}
	return "a number"
}

// thousands matches numbers written with thousands separators: 1,200.50
var thousands = regexp.MustCompile(`^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$`)

// readNumber reads a JSON number, or text holding one ("87", "1,200");
// problem says what is wrong otherwise.
func readNumber(raw json.RawMessage) (v float64, problem string) {
	raw = bytes.TrimSpace(raw)
	if absent(raw) {
		return 0, ""
	}
	var s string
	switch raw[0] {
	case '"':
		if json.Unmarshal(raw, &s) != nil {
			return 0, "must be a number, like 87"
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return 0, ""
		}
		if thousands.MatchString(s) {
			s = strings.ReplaceAll(s, ",", "")
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		s = string(raw)
	default:
		return 0, fmt.Sprintf("must be a number, like 87, not %s", kind(raw))
	}
	v, err := strconv.ParseFloat(s, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Sprintf("%s is beyond any number slabot can keep", engine.Quote(s))
	case err != nil:
		return 0, fmt.Sprintf("%s is not a number", engine.Quote(s))
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Sprintf("%s is not a finite number", engine.Quote(s))
	}
	return v, ""
}

// number reads an optional number; a problem leaves it out with a warning.
func (d *decoder) number(field string, raw json.RawMessage) float64 {
	v, problem := readNumber(raw)
	if problem != "" {
		d.warn(field, "%s; it was left out", problem)
	}
	return v
}

// integer reads an optional whole number; a problem leaves it out.
func (d *decoder) integer(field string, raw json.RawMessage) int {
	v, problem := readNumber(raw)
	switch {
	case problem != "":
	case v != math.Trunc(v):
		problem = fmt.Sprintf("%v is not a whole number", v)
	case math.Abs(v) > 1e9:
		problem = fmt.Sprintf("%v is too large", v)
	}
	if problem != "" {
		d.warn(field, "%s; it was left out", problem)
		return 0
	}
	return int(v)
}

// employeeRange is a head count given as a range, as HubSpot's contact
// property numemployees holds it ("25-50", "1,000-5,000", "1000+").
var employeeRange = regexp.MustCompile(`^\s*([\d,]{1,13})\s*(?:(?:-|–|to)\s*([\d,]{1,13})|(\+))\s*$`)

// employees reads a head count: a whole number, or a range, which is kept
// as written for people to read and counted as its lower bound (the
// company has at least that many).
func (d *decoder) employees(field string, raw json.RawMessage) (int, string) {
	if s, ok := readText(raw); ok {
		if m := employeeRange.FindStringSubmatch(s); m != nil {
			lo, err1 := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
			hi, err2 := strconv.Atoi(strings.ReplaceAll(m[2], ",", ""))
			switch {
			case err1 != nil || lo > 1e9:
			case m[3] == "+":
				return lo, strconv.Itoa(lo) + "+"
			case err2 == nil && hi >= lo && hi <= 1e9:
				return lo, strconv.Itoa(lo) + "-" + strconv.Itoa(hi)
			}
		}
	}
	return d.integer(field, raw), ""
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05", "2006-01-02"}

// timestamp reads an optional time; one that cannot be read is left out,
// and consequence says what happens instead.
func (d *decoder) timestamp(field string, raw json.RawMessage, consequence string) time.Time {
	s, note := engine.CleanLine(d.text(field, raw))
	d.cleaned(field, note)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	d.warn(field, "%s is not a time (use RFC 3339, like 2026-11-22T14:05:00Z); %s", engine.Quote(s), consequence)
	return time.Time{}
}

// list reads a list of text: a single text is a list of one, and items
// that are not text are dropped with one warning for them all.
func (d *decoder) list(field string, raw json.RawMessage) []string {
	raw = bytes.TrimSpace(raw)
	if absent(raw) {
		return nil
	}
	if raw[0] == '"' {
		s, _ := readText(raw)
		return []string{s}
	}
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		d.warn(field, "must be a list of text, like [\"/pricing\"], not %s; it was left out", kind(raw))
		return nil
	}
	out := make([]string, 0, len(items))
	var bad []string
	for i, item := range items {
		s, ok := readText(item)
		if !ok {
			bad = append(bad, strconv.Itoa(i))
			continue
		}
		out = append(out, s)
	}
	switch {
	case len(bad) == 1:
		d.warn(field, "item %s is not text; it was dropped", bad[0])
	case len(bad) > 1:
		where := strings.Join(bad[:min(len(bad), 5)], ", ")
		if len(bad) > 5 {
			where += ", …"
		}
		d.warn(field, "%d items (%s) are not text; they were dropped", len(bad), where)
	}
	return out
}

// form reads form answers in the order they were sent: any answer is kept
// as text, and beyond engine.MaxFormAnswers the later ones are dropped and
// counted in omitted.
func (d *decoder) form(field string, raw json.RawMessage, omitted *int) map[string]string {
	keys, values, ok := d.uniq(field, raw)
	if !ok {
		d.warn(field, "must be a JSON object of questions and answers, like {\"Budget\": \"$50k\"}, not %s; it was left out", kind(raw))
		return nil
	}
	if len(keys) == 0 {
		return nil
	}
	out := make(map[string]string, min(len(keys), engine.MaxFormAnswers))
	dropped := 0
	for _, k := range keys {
		v := bytes.TrimSpace(values[k])
		if absent(v) {
			continue
		}
		if len(out) == engine.MaxFormAnswers {
			dropped++
			continue
		}
		switch v[0] {
		case '{', '[':
			var b bytes.Buffer
			if json.Compact(&b, v) == nil {
				v = b.Bytes()
			}
			out[k] = string(v)
			d.warn(fieldName(field, k), "is %s, not text; it is kept as written", kind(v))
		default:
			out[k], _ = readText(v)
		}
	}
	if dropped > 0 {
		d.warn(field, "%d answers; the first %d are kept, %d dropped", len(out)+dropped, engine.MaxFormAnswers, dropped)
		*omitted += dropped
	}
	return out
}

// result sorts the warnings by field, so each field's are together, and
// names unknown fields after them, a few at most.
func (d *decoder) result() []string {
	out := slices.Clone(d.warnings)
	slices.SortStableFunc(out, func(a, b string) int {
		fa, _, _ := strings.Cut(a, ": ")
		fb, _, _ := strings.Cut(b, ": ")
		return strings.Compare(fa, fb)
	})
	slices.Sort(d.unknown)
	const named = 20
	for i, u := range d.unknown {
		if i == named {
			out = append(out, fmt.Sprintf("%d more fields slabot does not know were ignored", len(d.unknown)-named))
			break
		}
		out = append(out, fmt.Sprintf("%s is not a field slabot knows; it was ignored", u))
	}
	return out
}

// body starts decoding a request body, which must be a JSON object.
func (d *decoder) body(body []byte, known ...string) (map[string]json.RawMessage, bool) {
	if !utf8.Valid(body) {
		d.warn("(body)", "bytes that are not UTF-8 were replaced with �")
	}
	m, ok := d.object("", body, known...)
	if !ok {
		d.fail("(body)", "must be a JSON object {…}, not %s", kind(body))
	}
	return m, ok
}

// DecodeHandOff reads a hand-off in the intake API's JSON shape. It refuses
// (errs) only a hand-off that cannot be worked: one without an external id
// or without anybody to contact. Anything else that is wrong, too long or
// too much is fixed, cut short or left out, and each change named in the
// warnings. The CSV import uses it too, so both speak the same words.
func DecodeHandOff(body []byte) (engine.HandOff, []string, engine.FieldErrors) {
	var d decoder
	var h engine.HandOff
	top, ok := d.body(body, "external_id", "source", "segment", "score", "owner_email", "contact", "company",
		"context", "crm_url", "value", "handed_off_at")
	if !ok {
		return h, d.result(), d.errs
	}
	h.ExternalID = d.required("external_id", top["external_id"], `"crm-123"`)
	h.Source = d.text("source", top["source"])
	h.Segment = d.text("segment", top["segment"])
	h.Score = d.integer("score", top["score"])
	h.OwnerEmail = d.text("owner_email", top["owner_email"])
	h.CRMURL = d.text("crm_url", top["crm_url"])
	h.Value = d.number("value", top["value"])
	h.HandedOffAt = d.timestamp("handed_off_at", top["handed_off_at"], "the time slabot received the lead is used")

	c := d.part("contact", top["contact"], "name", "email", "title", "phone")
	h.Contact = engine.Contact{Name: d.text("contact.name", c["name"]), Email: d.text("contact.email", c["email"]),
		Title: d.text("contact.title", c["title"]), Phone: d.text("contact.phone", c["phone"])}
	co := d.part("company", top["company"], "name", "domain", "employees", "industry", "country")
	h.Company = engine.Company{Name: d.text("company.name", co["name"]), Domain: d.text("company.domain", co["domain"]),
		Industry: d.text("company.industry", co["industry"]), Country: d.text("company.country", co["country"])}
	h.Company.Employees, h.Company.EmployeesRange = d.employees("company.employees", co["employees"])
	cx := d.part("context", top["context"], "form", "activity")
	h.Context.Form = d.form("context.form", cx["form"], &h.Context.Omitted.FormAnswers)
	act := d.part("context.activity", cx["activity"], "visits", "pages", "downloads")
	h.Context.Activity = engine.Activity{Visits: d.integer("context.activity.visits", act["visits"]),
		Pages: d.list("context.activity.pages", act["pages"]), Downloads: d.list("context.activity.downloads", act["downloads"])}

	// Validate before Normalize: a refusal can then quote what was sent.
	errs := append(d.errs, h.Validate()...)
	d.warnings = append(d.warnings, h.Normalize()...)
	return h, d.result(), dedupe(errs)
}

// dedupe drops a second error on a field that already failed.
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
	slices.SortStableFunc(out, func(a, b engine.FieldError) int { return strings.Compare(a.Field, b.Field) })
	return out
}
