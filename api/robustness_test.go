package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slabot/slabot/api"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

func (r reply) warnings() []string {
	var out []string
	list, _ := r.Body["warnings"].([]any)
	for _, w := range list {
		out = append(out, w.(string))
	}
	return out
}

// mustWarn checks that each wanted warning begins one of the reply's.
func (r reply) mustWarn(t *testing.T, want ...string) {
	t.Helper()
	got := r.warnings()
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
			t.Errorf("no warning %q in:\n%s", w, strings.Join(got, "\n"))
		}
	}
}

// bigHandOff is the hand-off that used to be refused: 60 form answers,
// fields of 1,000 characters (of two bytes each) and 200 page visits.
func bigHandOff(id string) string {
	long := strings.Repeat("ü", 1000)
	form := make([]string, 60)
	for i := range form {
		form[i] = fmt.Sprintf(`"Question %02d": "Answer %02d"`, 60-i, i) // in an order that is not alphabetical
	}
	pages := make([]string, 200)
	for i := range pages {
		pages[i] = fmt.Sprintf(`"/page/%d"`, i)
	}
	return fmt.Sprintf(`{"external_id": %q, "source": %q, "contact": {"name": %q, "email": "big@acme.test", "title": %q},
		"company": {"name": %q, "industry": %q}, "context": {"form": {%s}, "activity": {"visits": 200, "pages": [%s]}},
		"crm_url": "https://crm.example/leads/big"}`,
		id, long, long, long, long, long, strings.Join(form, ", "), strings.Join(pages, ", "))
}

func TestAHandOffIsNeverLostToItsSize(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	r := e.post(t, "/v1/handoffs", bigHandOff("crm-big"))
	if r.Status != http.StatusCreated {
		t.Fatalf("status %d, want 201: %s", r.Status, r.Raw)
	}
	r.mustWarn(t,
		"context.form: 60 answers; the first 50 are kept, 10 dropped",
		"context.activity.pages: 200 pages; the first 50 are kept, 150 dropped",
		"source: 1000 characters; cut to the first 100",
		"contact.name: 1000 characters; cut to the first 200",
		"contact.title: 1000 characters; cut to the first 200",
		"company.name: 1000 characters; cut to the first 200",
		"company.industry: 1000 characters; cut to the first 200",
	)
	l, err := e.db.LeadByID(context.Background(), r.id(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Context.Form) != 50 || l.Context.Omitted.FormAnswers != 10 {
		t.Errorf("%d answers kept, %d left in the CRM; want 50 and 10", len(l.Context.Form), l.Context.Omitted.FormAnswers)
	}
	// The first 50 as sent: Question 60 down to Question 11.
	if _, ok := l.Context.Form["Question 60"]; !ok {
		t.Error("the first answer sent was dropped")
	}
	if _, ok := l.Context.Form["Question 01"]; ok {
		t.Error("the last answer sent was kept instead of an earlier one")
	}
	if len(l.Context.Activity.Pages) != 50 || l.Context.Activity.Pages[0] != "/page/0" || l.Context.Omitted.Pages != 150 {
		t.Errorf("pages: %d kept from %q, %d left in the CRM", len(l.Context.Activity.Pages), l.Context.Activity.Pages[0], l.Context.Omitted.Pages)
	}
	for _, s := range []string{l.Source, l.Contact.Name, l.Contact.Title, l.Company.Name, l.Company.Industry} {
		if !utf8.ValidString(s) || !strings.HasSuffix(s, "…") || utf8.RuneCountInString(s) > 200 {
			t.Errorf("a long field was stored as %d characters (valid UTF-8 %v): %.20q…", utf8.RuneCountInString(s), utf8.ValidString(s), s)
		}
	}

	again := e.post(t, "/v1/handoffs", bigHandOff("crm-big"))
	if again.Status != http.StatusOK || again.id(t) != r.id(t) {
		t.Errorf("the repeat = %d %s; want 200 with the same id", again.Status, again.Raw)
	}
	if l2, _ := e.db.LeadByID(context.Background(), r.id(t)); len(l2.Context.Form) != 50 || len(l2.Context.Activity.Pages) != 50 {
		t.Errorf("the repeat grew the lead to %d answers and %d pages", len(l2.Context.Form), len(l2.Context.Activity.Pages))
	}
}

func TestMalformedOptionalPartsAreLeftOutNotRefused(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	cases := []struct {
		name, fields, warning string
	}{
		{"AMalformedCRMURL", `"crm_url": "crm/1"`, `crm_url: "crm/1" is not a web address`},
		{"AJavaScriptCRMURL", `"crm_url": "javascript:alert(1)"`, `crm_url: "javascript:alert(1)" is not a web address`},
		{"AScoreAbove100", `"score": 870`, "score: 870 is outside 0–100"},
		{"AScoreInWords", `"score": "high"`, `score: "high" is not a number`},
		{"AFractionalScore", `"score": 87.5`, "score: 87.5 is not a whole number"},
		{"AHugeScore", `"score": 1e400`, `score: "1e400" is beyond any number`},
		{"ANegativeEmployeeCount", `"company": {"name": "Acme", "employees": -5}`, "company.employees: -5 is negative"},
		{"ANegativeValue", `"value": -1`, "value: -1 is negative"},
		{"AValueTooLargeToStore", `"value": 1e15`, "value: 1e+15 is more than slabot can keep"},
		{"AnOwnerWhoIsNoAddress", `"owner_email": "ana"`, `owner_email: "ana" is not an email address; it was left out, so the lead goes to the team's next rep in turn`},
		{"AnUnreadableTime", `"handed_off_at": "yesterday"`, `handed_off_at: "yesterday" is not a time`},
		{"AContactThatIsText", `"contact": "Dana", "company": {"name": "Acme"}`, "contact: must be a JSON object"},
		{"PagesThatAreAnObject", `"context": {"activity": {"pages": {"a": 1}}}`, "context.activity.pages: must be a list of text"},
		{"PagesWithObjects", `"context": {"activity": {"pages": ["/a", {"b": 1}, ["c"]]}}`, "context.activity.pages: 2 items (1, 2) are not text"},
		{"AFormThatIsAList", `"context": {"form": ["a"]}`, "context.form: must be a JSON object of questions and answers"},
		{"ANestedFormAnswer", `"context": {"form": {"Budget": {"min": 5, "max": 10}}}`, "context.form.Budget: is an object, not text; it is kept as written"},
		{"ANegativeVisitCount", `"context": {"activity": {"visits": -3}}`, "context.activity.visits: -3 is negative"},
		{"AKeyGivenTwice", `"source": "webinar", "source": "demo_request"`, "source: is given more than once; the last value is used"},
		{"ADomainWithSpaces", `"company": {"name": "Acme", "domain": "acme test"}`, `company.domain: "acme test" is not a domain name`},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"external_id": "opt-%d", "contact": {"email": "opt%d@acme.test"}, %s}`, i, i, c.fields)
			if strings.HasPrefix(c.fields, `"contact"`) {
				body = fmt.Sprintf(`{"external_id": "opt-%d", %s}`, i, c.fields)
			}
			r := e.post(t, "/v1/handoffs", body)
			if r.Status != http.StatusCreated {
				t.Fatalf("status %d, want 201: %s", r.Status, r.Raw)
			}
			r.mustWarn(t, c.warning)
		})
	}

	t.Run("APhoneIsEnoughToWorkALead", func(t *testing.T) {
		r := e.post(t, "/v1/handoffs", `{"external_id": "phone-only", "contact": {"phone": "+1 555 0100"}}`)
		if r.Status != http.StatusCreated {
			t.Errorf("status %d, want 201: %s", r.Status, r.Raw)
		}
	})
	for _, c := range []struct{ name, body, field string }{
		{"NoExternalID", `{"company": {"name": "Acme"}}`, "external_id"},
		{"AnExternalIDOfOnlyControlCharacters", `{"external_id": "\u0000\u0001", "company": {"name": "Acme"}}`, "external_id"},
		{"AnExternalIDThatIsAnObject", `{"external_id": {"id": 1}, "company": {"name": "Acme"}}`, "external_id"},
		{"NobodyToContact", `{"external_id": "nobody", "contact": {"name": "Dana", "title": "VP"}}`, "contact.email"},
		{"NobodyButABadEmail", `{"external_id": "bad-email", "contact": {"email": "dana at acme"}}`, "contact.email"},
	} {
		t.Run(c.name+"Is400", func(t *testing.T) {
			r := e.post(t, "/v1/handoffs", c.body)
			if r.Status != http.StatusBadRequest || r.fieldErrors()[c.field] == "" {
				t.Errorf("reply %d %s; want 400 naming %s", r.Status, r.Raw, c.field)
			}
		})
	}
}

func TestNULAndControlCharactersAreCleanedOnEveryEndpoint(t *testing.T) {
	t.Parallel()
	e := newIntakeEnv(t)
	ctx := context.Background()

	r := e.post(t, "/v1/handoffs", `{"external_id": "crm\u0000-nul", "source": "web\u0000inar",
		"contact": {"name": "Da\u0000na\u001b Ruiz", "email": "nul\u0000@acme.test", "phone": "+1\u0007 555"},
		"company": {"name": "Acme\u0000"}, "owner_email": "ana@example.com\u0000",
		"context": {"form": {"Bud\u0000get": "$50k\u0000\r\nmaybe more", "\u0000": "x"},
		            "activity": {"pages": ["/pricing\u0000", "\u0000"], "downloads": ["ROI\u0000 guide"]}},
		"crm_url": "https://crm.example/\u0000leads/1"}`)
	if r.Status != http.StatusCreated {
		t.Fatalf("hand-off with NULs = %d %s; want 201", r.Status, r.Raw)
	}
	r.mustWarn(t, "external_id: control characters were removed", "contact.name: control characters were removed",
		"contact.email: control characters were removed", "context.form.Budget: in the question, control characters were removed",
		"context.form.Budget: control characters were removed", "context.form: an answer without a question was dropped",
		"context.activity.pages: in 2 of the pages", "crm_url: control characters were removed")
	l, err := e.db.LeadByID(ctx, r.id(t))
	if err != nil {
		t.Fatal(err)
	}
	if l.ExternalID != "crm-nul" || l.Contact.Name != "Dana Ruiz" || l.Contact.Email != "nul@acme.test" || l.OwnerEmail != "ana@example.com" ||
		l.Context.Form["Budget"] != "$50k\nmaybe more" || !slices.Equal(l.Context.Activity.Pages, []string{"/pricing"}) {
		t.Errorf("stored lead: %q %q %q owner %q form %q pages %q", l.ExternalID, l.Contact.Name, l.Contact.Email, l.OwnerEmail,
			l.Context.Form, l.Context.Activity.Pages)
	}

	t.Run("ATouchWithNULsInThePathAndTheBody", func(t *testing.T) {
		r := e.post(t, "/v1/leads/crm%00-nul/touches", `{"kind": "call\u0000", "by_email": "ana\u0000@example.com", "note": "left\u0000 voicemail\r\n\tcall back", "key": "k\u0000"}`)
		if r.Status != http.StatusCreated {
			t.Fatalf("touch = %d %s; want 201", r.Status, r.Raw)
		}
		r.mustWarn(t, "external_id: control characters were removed", "kind: control characters were removed",
			"by_email: control characters were removed", "note: control characters were removed", "key: control characters were removed")
		touches, err := e.db.Touches(ctx, l.ID)
		if err != nil || len(touches) != 1 {
			t.Fatalf("touches %v, %v", touches, err)
		}
		if got := touches[0]; got.Kind != engine.TouchCall || got.ByEmail != "ana@example.com" || got.Note != "left voicemail\n\tcall back" {
			t.Errorf("stored touch %+v", got)
		}
		if again := e.post(t, "/v1/leads/crm%00-nul/touches", `{"kind": "call", "key": "k\u0000"}`); again.Status != http.StatusOK {
			t.Errorf("the same key again = %d %s; want 200", again.Status, again.Raw)
		}
	})

	t.Run("AnOutcomeWithANULInThePath", func(t *testing.T) {
		r := e.post(t, "/v1/leads/crm-nul%00/outcome", `{"outcome": "opportunity\u0000", "amount": "25,000"}`)
		if r.Status != http.StatusOK || r.Body["state"] != "opportunity" {
			t.Fatalf("outcome = %d %s; want 200 and an opportunity", r.Status, r.Raw)
		}
		if l, _ := e.db.LeadByID(ctx, l.ID); l.Amount != 25000 {
			t.Errorf("amount %v, want 25000", l.Amount)
		}
	})

	t.Run("AnMQLWithNULs", func(t *testing.T) {
		r := e.post(t, "/v1/mqls", `{"external_id": "mql\u0000-1", "source": "web\u0000inar", "segment": "\u0000smb", "at": "2026-11-20T10:00:00Z\u0000"}`)
		if r.Status != http.StatusCreated || r.Body["external_id"] != "mql-1" {
			t.Fatalf("MQL = %d %s; want 201 for mql-1", r.Status, r.Raw)
		}
		var source, segment string
		if err := e.db.Pool().QueryRow(ctx, `SELECT source, segment FROM mqls WHERE external_id = 'mql-1'`).Scan(&source, &segment); err != nil {
			t.Fatal(err)
		}
		if source != "webinar" || segment != "smb" {
			t.Errorf("stored MQL source %q segment %q", source, segment)
		}
	})

	t.Run("BytesThatAreNotUTF8", func(t *testing.T) {
		r := e.post(t, "/v1/handoffs", "{\"external_id\": \"utf-\xff\", \"contact\": {\"name\": \"Caf\xe9\", \"email\": \"utf@acme.test\"}}")
		if r.Status != http.StatusCreated || r.Body["external_id"] != "utf-\uFFFD" {
			t.Fatalf("hand-off = %d %s; want 201", r.Status, r.Raw)
		}
		r.mustWarn(t, "(body): bytes that are not UTF-8 were replaced")
		if r := e.post(t, "/v1/leads/utf-%FF/touches", `{"kind": "email"}`); r.Status != http.StatusCreated {
			t.Errorf("touch on utf-%%FF = %d %s; want 201", r.Status, r.Raw)
		}
	})
}

// unavailableIntake serves the intake on a database at url, which does not answer.
func unavailableIntake(t *testing.T, url string) *httptest.Server {
	t.Helper()
	db, err := storage.Open(context.Background(), url, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	policy, problems := engine.ParsePolicy([]byte(testPolicy), time.Now())
	if err := problems.Errors(); len(err) > 0 {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	reg := api.NewRegistry()
	server := api.NewServer(logger, nil)
	api.NewIntake(engine.NewService(db, policy, time.Now, logger), testToken, logger, reg).Register(server)
	srv := httptest.NewServer(server)
	t.Cleanup(srv.Close)
	return srv
}

func TestAnUnreachableDatabaseIs503WithRetryAfter(t *testing.T) {
	t.Parallel()
	// A port nobody listens on: the connection is refused at once.
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedAddr := refused.Addr().String()
	refused.Close()

	// A server that accepts connections and never says a word: without a
	// deadline the request would hang.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()

	for _, db := range []struct{ name, addr string }{{"Refused", refusedAddr}, {"Silent", silent.Addr().String()}} {
		t.Run(db.name, func(t *testing.T) {
			srv := unavailableIntake(t, "postgres://slabot@"+db.addr+"/slabot?sslmode=disable&connect_timeout=30")
			var wg sync.WaitGroup
			for _, c := range []struct{ path, body string }{
				{"/v1/handoffs", fullHandOff},
				{"/v1/leads/crm-123/touches", `{"kind": "call"}`},
				{"/v1/leads/crm-123/outcome", `{"outcome": "won"}`},
				{"/v1/mqls", `{"external_id": "mql-1"}`},
			} {
				wg.Go(func() { checkUnavailable(t, srv.URL+c.path, c.body) })
			}
			wg.Wait()
		})
	}
}

func checkUnavailable(t *testing.T, url, body string) {
	start := time.Now()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	var reply struct{ Error string }
	_ = json.Unmarshal(raw, &reply)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "5" {
		t.Errorf("%s answered %d (Retry-After %q): %s; want 503 with Retry-After: 5", url, resp.StatusCode, resp.Header.Get("Retry-After"), raw)
	}
	if !strings.Contains(reply.Error, "not answering") || strings.Contains(reply.Error, "storage") || strings.Contains(reply.Error, "dial") {
		t.Errorf("%s: error %q; want a plain sentence that the database is not answering", url, reply.Error)
	}
	if took > 2*time.Second {
		t.Errorf("%s took %v to answer; want under 2 s", url, took)
	}
}
