package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/slabot/slabot/engine"
)

// The endpoints FuzzIntake drives, chosen by its first argument.
var fuzzEndpoints = []string{"handoffs", "touches", "outcome", "mqls"}

func fuzzPath(endpoint uint8, id string) string {
	switch fuzzEndpoints[int(endpoint)%len(fuzzEndpoints)] {
	case "touches":
		return "/v1/leads/" + url.PathEscape(id) + "/touches"
	case "outcome":
		return "/v1/leads/" + url.PathEscape(id) + "/outcome"
	case "mqls":
		return "/v1/mqls"
	}
	return "/v1/handoffs"
}

// fuzzSeeds are hostile bodies for every endpoint and every field: NUL and
// control characters, bytes that are not UTF-8, wrong types, huge numbers,
// deep nesting, keys given twice. They run as a test in `make test`;
// `go test -fuzz FuzzIntake ./api/` explores from them.
func fuzzSeeds() []struct {
	endpoint uint8
	id, body string
} {
	type seed = struct {
		endpoint uint8
		id, body string
	}
	deep := strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5000)
	tooDeep := strings.Repeat(`[`, 20000) + strings.Repeat(`]`, 20000)
	var seeds []seed
	handOffs := []string{
		fullHandOff, `{}`, `[]`, `null`, `"text"`, `12`, `true`, deep, tooDeep,
		`{"external_id": 1, "company": {"name": 2}}`,
		`{"external_id": 1e400, "company": {"name": "y"}, "score": 1e400, "value": -1e400}`,
		`{"external_id": "x", "company": {"name": "y"}, "score": 123456789012345678901234567890, "value": 1e15, "company": {"name": "y", "employees": 1e300}}`,
		`{"external_id": "x", "contact": {"email": "a@b.c"}, "context": {"form": {"a": {"b": [1, {"c": "\u0000"}]}}}}`,
		`{"external_id": "` + strings.Repeat("é", 300) + `", "company": {"name": "y"}}`,
		`{"external_id": "\u0000", "company": {"name": "y"}}`,
		`{"external_id": "n\u0000ul", "source": "\u0000", "segment": "\u0001\u0002", "owner_email": "\u0000",
		  "contact": {"name": "\u0000Dana\u0007", "email": "d\u0000@x.test", "title": "\u001b[31m", "phone": "\u0000"},
		  "company": {"name": "\u0000", "domain": "\u0000", "industry": "\u0000", "country": "\u0000"},
		  "context": {"form": {"\u0000": "\u0000", "q\u0000": "a\u0000", "q": null}, "activity": {"visits": "\u0000", "pages": ["\u0000", "\u0000/x"], "downloads": "\u0000"}},
		  "crm_url": "\u0000", "value": "\u0000", "handed_off_at": "\u0000"}`,
		"{\"external_id\": \"bad\xffutf8\", \"contact\": {\"name\": \"\xc3\x28\", \"email\": \"u@x.test\"}, \"context\": {\"form\": {\"\xfe\": \"\xff\"}}}",
		`{"external_id": "dup", "external_id": "dup2", "contact": {"email": "a@b.c", "email": "not an email"}, "company": {"name": "y"}}`,
		`{"external_id": "types", "source": ["a"], "segment": {"a": 1}, "score": [87], "owner_email": true, "contact": [], "company": "Acme",
		  "context": {"form": "Budget", "activity": {"visits": "many", "pages": 7, "downloads": [1, true, null, {}]}}, "crm_url": 5, "value": "lots", "handed_off_at": 1732284300}`,
		`{"external_id": "crlf\r\n", "company": {"name": "Acme\r\nCorp\t"}, "context": {"form": {"Note": "line one\r\nline two\u2028three"}}}`,
		`{"external_id": "bidi", "contact": {"name": "\u202eevil\u2066", "email": "\ufeffb@x.test"}}`,
		`{"external_id": "dates", "company": {"name": "y"}, "handed_off_at": "0000-01-01T00:00:00Z"}`,
		`{"external_id": "future", "company": {"name": "y"}, "handed_off_at": "9999-12-31T23:59:59+14:00"}`,
		`{"external_id": "url", "company": {"name": "y"}, "crm_url": "https://` + strings.Repeat("a", 3000) + `"}`,
		`{"external_id": "neg", "company": {"name": "y", "employees": -1}, "score": -5, "context": {"activity": {"visits": -2}}}`,
		`{"external_id": "edge", "company": {"name": "y"}, "value": 999999999999.995, "score": "1,000"}`,
		`{"external_id": "edge2", "company": {"name": "y"}, "value": 999999999999.99, "score": 100}`,
		`{"external_id": "` + strings.Repeat("k", 3000) + `", "company": {"name": "y"}}`,
	}
	for _, b := range handOffs {
		seeds = append(seeds, seed{0, "", b})
	}
	for _, id := range []string{"crm-123", "crm-123\x00", "\x00", "crm\xff", "nope", strings.Repeat("x", 300), "crm-123\u202e", "..", "a/b"} {
		seeds = append(seeds,
			seed{1, id, `{"kind": "call", "note": "hi"}`},
			seed{2, id, `{"outcome": "opportunity"}`})
	}
	touches := []string{
		`{}`, `[]`, `{"kind": null}`, `{"kind": 5}`, `{"kind": {"a": 1}}`, `{"kind": "\u0000"}`, `{"kind": "call\u0000"}`,
		`{"kind": "smoke signal", "note": "` + strings.Repeat("ü", 3000) + `"}`,
		`{"kind": "email", "at": "\u0000", "by_email": "\u0000", "note": "\u0000\u0001\u0002", "key": "\u0000"}`,
		`{"kind": "email", "at": 12, "by_email": ["a"], "note": {"a": 1}, "key": 1e400}`,
		`{"kind": "meeting", "key": "` + strings.Repeat("k", 5000) + `"}`,
		`{"kind": "call", "kind": "email", "note": "dup", "note": "dup2"}`,
		"{\"kind\": \"call\", \"note\": \"\xff\xfe\", \"by_email\": \"\xffa@b.c\"}",
		deep,
	}
	for _, b := range touches {
		seeds = append(seeds, seed{1, "crm-123", b})
	}
	outcomes := []string{
		`{}`, `{"outcome": null}`, `{"outcome": "won\u0000", "amount": 1e400}`, `{"outcome": "lost", "amount": -5}`,
		`{"outcome": "maybe"}`, `{"outcome": ["won"]}`, `{"outcome": "won", "amount": "a lot", "at": "\u0000"}`,
		`{"outcome": "won", "amount": 1e15}`, `{"outcome": "\u0000"}`, `{"outcome": "won", "amount": 999999999999.995}`,
	}
	for _, b := range outcomes {
		seeds = append(seeds, seed{2, "crm-123", b})
	}
	mqls := []string{
		`{}`, `{"external_id": null}`, `{"external_id": "\u0000"}`, `{"external_id": "m\u0000", "source": "\u0000", "segment": [1], "at": "\u0000"}`,
		`{"external_id": 1e400, "at": "yesterday"}`, `{"external_id": "` + strings.Repeat("m", 3000) + `", "source": "` + strings.Repeat("s", 500) + `"}`,
		"{\"external_id\": \"m\xff\", \"source\": \"\xfe\"}", `{"external_id": "m", "external_id": "m2"}`,
	}
	for _, b := range mqls {
		seeds = append(seeds, seed{3, "", b})
	}
	return seeds
}

// FuzzIntake sends anything to every endpoint, through the real handlers
// and the real database: the answer is never a 5xx, a refusal names the
// field, a request that had to be cleaned says so in its warnings, and
// nothing stored has a NUL or another control character in it.
func FuzzIntake(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s.endpoint, s.id, []byte(s.body))
	}
	e := newIntakeEnv(f)
	if r := e.post(f, "/v1/handoffs", fullHandOff); r.Status != http.StatusCreated {
		f.Fatalf("the lead for touches and outcomes: %d %s", r.Status, r.Raw)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.Fuzz(func(t *testing.T, endpoint uint8, id string, body []byte) {
		if id == "" {
			id = "crm-123"
		}
		path := fuzzPath(endpoint, id)
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Skip("not a request URL")
		}
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("POST %s %q answered %d: %s", path, body, resp.StatusCode, raw)
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			// The router's own answer to a path it cleans ("..") or does not know.
			return
		}
		var reply struct {
			ExternalID string `json:"external_id"`
			Error      string
			Errors     engine.FieldErrors
			Warnings   []string
		}
		if err := json.Unmarshal(raw, &reply); err != nil {
			t.Fatalf("POST %s %q answered with non-JSON %q", path, body, raw)
		}
		switch {
		case resp.StatusCode == http.StatusBadRequest:
			if len(reply.Errors) == 0 {
				t.Fatalf("POST %s %q: a 400 that names no field: %s", path, body, raw)
			}
			for _, fe := range reply.Errors {
				if fe.Field == "" || fe.Message == "" {
					t.Fatalf("POST %s %q: an error without field or message: %s", path, body, raw)
				}
			}
		case resp.StatusCode >= 400:
			if reply.Error == "" {
				t.Fatalf("POST %s %q: %d without an error message: %s", path, body, resp.StatusCode, raw)
			}
		case resp.StatusCode < 300:
			name := fuzzEndpoints[int(endpoint)%len(fuzzEndpoints)]
			usesID := name == "touches" || name == "outcome"
			hostile := !utf8.Valid(body) || hasControlInJSON(body) || (usesID && (hasControl(id) || !utf8.ValidString(id)))
			if hostile && len(reply.Warnings) == 0 {
				t.Fatalf("POST %s %q was cleaned without a warning: %s", path, body, raw)
			}
			checkStored(t, e, name, reply.ExternalID, id)
		}
	})
}

// hostileRune is a character the intake removes rather than folds into a space.
func hostileRune(r rune) bool {
	return unicode.IsControl(r) && !strings.ContainsRune("\t\n\r\v\f\u0085", r)
}

func hasControl(s string) bool { return strings.IndexFunc(s, hostileRune) >= 0 }

// hasControlInJSON reports a removed character in any text of a JSON
// document: a value, or the name of a member that has one.
func hasControlInJSON(body []byte) bool {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			return hasControl(v)
		case []any:
			for _, item := range v {
				if walk(item) {
					return true
				}
			}
		case map[string]any:
			for k, item := range v {
				if (item != nil && hasControl(k)) || walk(item) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// checkStored reads back what a request stored and checks every text of it.
func checkStored(t *testing.T, e *intakeEnv, endpoint, externalID, pathID string) {
	t.Helper()
	ctx := context.Background()
	line := func(what, s string) {
		if strings.ContainsFunc(s, unicode.IsControl) || !utf8.ValidString(s) {
			t.Fatalf("stored %s %q has a control character or invalid UTF-8", what, s)
		}
	}
	text := func(what, s string) {
		if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) || !utf8.ValidString(s) {
			t.Fatalf("stored %s %q has a control character or invalid UTF-8", what, s)
		}
	}
	switch endpoint {
	case "mqls":
		var id, source, segment string
		err := e.db.Pool().QueryRow(ctx, `SELECT external_id, source, segment FROM mqls WHERE external_id = $1`, externalID).Scan(&id, &source, &segment)
		if err != nil {
			t.Fatalf("the MQL %q is not stored: %v", externalID, err)
		}
		for _, s := range []string{id, source, segment} {
			line("MQL text", s)
		}
		return
	case "touches", "outcome":
		externalID, _ = engine.CleanExternalID(pathID)
	}
	l, err := e.db.LeadByExternalID(ctx, externalID)
	if err != nil {
		t.Fatalf("the lead %q is not stored: %v", externalID, err)
	}
	for _, s := range []string{l.ExternalID, l.Source, l.Segment, l.Contact.Name, l.Contact.Email, l.Contact.Title, l.Contact.Phone,
		l.Company.Name, l.Company.Domain, l.Company.Industry, l.Company.Country, l.CRMURL, l.OwnerEmail} {
		line("lead text", s)
	}
	if len(l.Context.Form) > engine.MaxFormAnswers || len(l.Context.Activity.Pages) > engine.MaxListItems || len(l.Context.Activity.Downloads) > engine.MaxListItems {
		t.Fatalf("the lead keeps %d answers, %d pages, %d downloads", len(l.Context.Form), len(l.Context.Activity.Pages), len(l.Context.Activity.Downloads))
	}
	for k, v := range l.Context.Form {
		line("form question", k)
		text("form answer", v)
	}
	for _, s := range append(l.Context.Activity.Pages, l.Context.Activity.Downloads...) {
		line("page or download", s)
	}
	if endpoint == "touches" {
		touches, err := e.db.Touches(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range touches {
			line("touch by", tc.ByEmail)
			text("touch note", tc.Note)
			line("touch key", tc.Key)
		}
	}
}
