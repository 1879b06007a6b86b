package engine

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	cases := []struct {
		name, in        string
		line, text      string
		lineNote, anyOK bool
	}{
		{name: "plain", in: "  Dana Ruiz ", line: "Dana Ruiz", text: "Dana Ruiz"},
		{name: "NUL", in: "Da\x00na", line: "Dana", text: "Dana", lineNote: true},
		{name: "escape and bell", in: "Dana\x1b[31m\a", line: "Dana[31m", text: "Dana[31m", lineNote: true},
		{name: "DEL and C1", in: "a\x7fb\u0080c\u009fd", line: "abcd", text: "abcd", lineNote: true},
		{name: "line breaks", in: "first\r\nsecond\rthird\nfourth", line: "first second third fourth", text: "first\nsecond\nthird\nfourth"},
		{name: "tabs", in: "a\t\tb", line: "a b", text: "a\t\tb"},
		{name: "Unicode line separators", in: "a\u2028b\u2029c\u0085d", line: "a b c d", text: "a\nb\nc\nd"},
		{name: "invisible marks", in: "\uFEFFAcme\u202Eevil\u2066", line: "Acmeevil", text: "Acmeevil", lineNote: true},
		{name: "not UTF-8", in: "Caf\xe9 \xff", line: "Caf\uFFFD \uFFFD", text: "Caf\uFFFD \uFFFD", lineNote: true},
		{name: "emoji and accents stay", in: "Zoë 👩‍💻 日本", line: "Zoë 👩‍💻 日本", text: "Zoë 👩‍💻 日本"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			line, note := CleanLine(c.in)
			if line != c.line || (note != "") != c.lineNote {
				t.Errorf("CleanLine(%q) = %q, %q; want %q, a note: %v", c.in, line, note, c.line, c.lineNote)
			}
			text, _ := CleanText(c.in)
			if text != c.text {
				t.Errorf("CleanText(%q) = %q; want %q", c.in, text, c.text)
			}
			for _, s := range []string{line, text} {
				if again, note := CleanLine(s); s == line && (again != s || note != "") {
					t.Errorf("CleanLine is not idempotent on %q: %q, %q", s, again, note)
				}
				if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
					t.Errorf("%q still has NUL or invalid UTF-8", s)
				}
			}
		})
	}
}

func TestClipCutsBetweenCharacters(t *testing.T) {
	for _, s := range []string{strings.Repeat("é", 300), strings.Repeat("👩‍💻", 100), strings.Repeat("日本語", 100), strings.Repeat("a", 300)} {
		for _, n := range []int{1, 2, 7, 100, 200} {
			got, clipped := Clip(s, n)
			if !utf8.ValidString(got) {
				t.Fatalf("Clip(%.10q…, %d) cut a character in two: %q", s, n, got)
			}
			if c := utf8.RuneCountInString(got); c > n || !clipped || !strings.HasSuffix(got, "…") {
				t.Errorf("Clip(%.10q…, %d) = %d characters, clipped %v", s, n, c, clipped)
			}
			if again, more := Clip(got, n); again != got || more {
				t.Errorf("Clip is not idempotent at %d", n)
			}
		}
	}
	if got, clipped := Clip("short", 10); got != "short" || clipped {
		t.Errorf("Clip(short) = %q, %v", got, clipped)
	}
}

func TestCleanExternalID(t *testing.T) {
	long := strings.Repeat("ü", 300)
	a, notes := CleanExternalID(long + "a")
	b, _ := CleanExternalID(long + "b")
	if n := utf8.RuneCountInString(a); n != MaxIDLen || len(notes) != 1 {
		t.Errorf("a long id became %d characters with notes %q; want %d and one note", n, notes, MaxIDLen)
	}
	if a == b {
		t.Error("two long ids that share their beginning became one")
	}
	if again, notes := CleanExternalID(a); again != a || len(notes) != 0 {
		t.Errorf("a cleaned id changed again: %q, %q", again, notes)
	}
	if again, _ := CleanExternalID(long + "a"); again != a {
		t.Error("the same long id gave two different ids")
	}
	if id, notes := CleanExternalID(" crm\x00-1 "); id != "crm-1" || len(notes) != 1 {
		t.Errorf("CleanExternalID(NUL) = %q, %q", id, notes)
	}
}

func TestCleanEmail(t *testing.T) {
	for in, want := range map[string]string{
		"dana@acme.test": "dana@acme.test", " Dana Ruiz <dana@acme.test> ": "dana@acme.test", "da\x00na@acme.test": "dana@acme.test",
		"not-an-email": "", "a@": "", "@b": "", strings.Repeat("a", 300) + "@acme.test": "", "": "",
	} {
		got, note := CleanEmail(in)
		if got != want {
			t.Errorf("CleanEmail(%q) = %q (%s); want %q", in, got, note, want)
		}
		if again, note := CleanEmail(got); again != got || note != "" {
			t.Errorf("CleanEmail is not idempotent on %q: %q, %q", got, again, note)
		}
	}
}

// bigHandOff is a hand-off with everything too long, too many or malformed.
func bigHandOff() HandOff {
	long := strings.Repeat("Ü", 1000)
	h := HandOff{ExternalID: "crm-big", Source: long, Segment: "smb", Score: 870, OwnerEmail: "nobody",
		Contact:     Contact{Name: long, Email: "Dana <dana@acme.test>", Title: long, Phone: "+1 555\x00 0100"},
		Company:     Company{Name: long, Domain: strings.Repeat("d", 300), Employees: -5, Industry: long, Country: long},
		CRMURL:      "crm/1",
		Value:       5e15,
		HandedOffAt: time.Date(2026, 11, 22, 14, 5, 0, 0, time.UTC),
	}
	h.Context.Form = map[string]string{"": "no question", "Bad\x00key": "a\x00b", "Long": strings.Repeat("é", 1500)}
	for i := range 60 {
		h.Context.Form[fmt.Sprintf("Q%02d", i)] = fmt.Sprintf("answer %d", i)
	}
	for i := range 200 {
		h.Context.Activity.Pages = append(h.Context.Activity.Pages, fmt.Sprintf("/page/%d", i))
	}
	h.Context.Activity.Visits = -1
	h.Context.Activity.Downloads = []string{"ROI guide", "", "\x00", strings.Repeat("x", 600)}
	return h
}

func TestNormalizeKeepsWhatFitsAndNamesEveryChange(t *testing.T) {
	h := bigHandOff()
	form := h.Context.Form
	formBefore := len(form)
	warnings := h.Normalize()
	if len(form) != formBefore {
		t.Error("Normalize changed the caller's map")
	}
	for _, want := range []string{
		"source: 1000 characters; cut to the first 100",
		"score: 870 is outside 0–100",
		`owner_email: "nobody" is not an email address; it was left out, so the lead goes to the team's next rep in turn`,
		"contact.name: 1000 characters; cut to the first 200",
		`contact.email: "Dana <dana@acme.test>" was read as dana@acme.test`,
		"contact.phone: control characters were removed",
		"company.domain:",
		"company.employees: -5 is negative; it was left out",
		"context.form: an answer without a question was dropped",
		"context.form.Badkey: in the question, control characters were removed",
		"context.form.Long: 1500 characters; cut to the first 1000",
		"context.form: 62 answers; the first 50 are kept, 12 dropped",
		"context.activity.visits: -1 is negative",
		"context.activity.pages: 200 pages; the first 50 are kept, 150 dropped",
		"context.activity.downloads: 1 of the downloads was longer than 500 characters and was cut",
		`crm_url: "crm/1" is not a web address`,
		"value: 5e+15 is more than slabot can keep",
	} {
		if !slices.ContainsFunc(warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
			t.Errorf("no warning %q in:\n%s", want, strings.Join(warnings, "\n"))
		}
	}
	if len(h.Context.Form) != MaxFormAnswers || h.Context.Omitted.FormAnswers != 12 {
		t.Errorf("%d answers kept, %d omitted", len(h.Context.Form), h.Context.Omitted.FormAnswers)
	}
	if len(h.Context.Activity.Pages) != MaxListItems || h.Context.Activity.Pages[0] != "/page/0" || h.Context.Omitted.Pages != 150 {
		t.Errorf("pages kept %d from %q, omitted %d", len(h.Context.Activity.Pages), h.Context.Activity.Pages[0], h.Context.Omitted.Pages)
	}
	if h.Contact.Email != "dana@acme.test" || h.OwnerEmail != "" || h.Score != 0 || h.Value != 0 || h.CRMURL != "" ||
		h.Company.Domain != "" || h.Company.Employees != 0 || h.Contact.Phone != "+1 555 0100" {
		t.Errorf("normalized hand-off: %+v", h)
	}
	for _, s := range []string{h.Source, h.Contact.Name, h.Company.Name} {
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 200 {
			t.Errorf("%d characters, valid UTF-8 %v", utf8.RuneCountInString(s), utf8.ValidString(s))
		}
	}
	again := h
	if w := again.Normalize(); len(w) != 0 || !reflect.DeepEqual(again, h) {
		t.Errorf("a second Normalize changed the hand-off again: %q", w)
	}
}

func TestValidateRefusesOnlyAnUnworkableHandOff(t *testing.T) {
	cases := []struct {
		name  string
		h     HandOff
		field string
	}{
		{"AnEverythingWrongButWorkableLead", bigHandOff(), ""},
		{"APhoneIsSomeoneToContact", HandOff{ExternalID: "x", Contact: Contact{Phone: "+1 555 0100"}}, ""},
		{"ACompanyIsSomeoneToContact", HandOff{ExternalID: "x", Company: Company{Name: "Acme"}}, ""},
		{"NoExternalID", HandOff{ExternalID: " \x00 ", Company: Company{Name: "Acme"}}, "external_id"},
		{"NobodyToContact", HandOff{ExternalID: "x", Contact: Contact{Name: "Dana"}}, "contact.email"},
		{"AnEmailThatIsNone", HandOff{ExternalID: "x", Contact: Contact{Email: "not-an-email"}}, "contact.email"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := c.h.Validate()
			switch {
			case c.field == "" && len(errs) > 0:
				t.Errorf("refused: %v", errs)
			case c.field != "" && (len(errs) != 1 || errs[0].Field != c.field):
				t.Errorf("errors %v; want one on %s", errs, c.field)
			}
		})
	}
	errs := (&HandOff{Contact: Contact{Email: "not-an-email"}}).Validate()
	if len(errs) != 2 || !strings.Contains(errs.Error(), `"not-an-email" is not an email address`) {
		t.Errorf("errors %v; want both problems, quoting the email", errs)
	}
}

func TestARepeatNeverGrowsALeadBeyondItsLimits(t *testing.T) {
	first := HandOff{ExternalID: "x", Company: Company{Name: "Acme"}, Context: LeadContext{Form: map[string]string{}}}
	for i := range 40 {
		first.Context.Form[fmt.Sprintf("A%02d", i)] = "a"
		first.Context.Activity.Pages = append(first.Context.Activity.Pages, fmt.Sprintf("/a/%d", i))
	}
	l := first.newLead(time.Now())
	repeat := HandOff{ExternalID: "x", Company: Company{Name: "Acme"}, Context: LeadContext{Form: map[string]string{}}}
	for i := range 20 {
		repeat.Context.Form[fmt.Sprintf("B%02d", i)] = "b\x00"
		repeat.Context.Activity.Pages = append(repeat.Context.Activity.Pages, fmt.Sprintf("/b/%d", i))
	}
	changed := repeat.mergeInto(l)
	if len(l.Context.Form) != MaxFormAnswers || l.Context.Omitted.FormAnswers != 10 {
		t.Errorf("after the repeat: %d answers, %d omitted; want 50 and 10", len(l.Context.Form), l.Context.Omitted.FormAnswers)
	}
	if len(l.Context.Activity.Pages) != MaxListItems || l.Context.Omitted.Pages != 10 {
		t.Errorf("after the repeat: %d pages, %d omitted; want 50 and 10", len(l.Context.Activity.Pages), l.Context.Omitted.Pages)
	}
	if l.Context.Form["B00"] != "b" || !slices.Contains(changed, "context.form.B00") {
		t.Errorf("the repeat's answer was not cleaned and merged: %q, changed %v", l.Context.Form["B00"], changed)
	}
}
