package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// HandOff is Marketing passing a sales-qualified lead to Sales: what a CRM
// posts to the intake API and what a CSV import row holds.
type HandOff struct {
	ExternalID  string      `json:"external_id"`
	Source      string      `json:"source,omitempty"`
	Segment     string      `json:"segment,omitempty"`
	Score       int         `json:"score,omitempty"`
	OwnerEmail  string      `json:"owner_email,omitempty"`
	Contact     Contact     `json:"contact"`
	Company     Company     `json:"company"`
	Context     LeadContext `json:"context"`
	CRMURL      string      `json:"crm_url,omitempty"`
	Value       float64     `json:"value,omitempty"`
	HandedOffAt time.Time   `json:"handed_off_at,omitzero"`
}

// Omitted counts what a hand-off carried beyond what a lead keeps, so the
// card can tell the rep how much more there is in the CRM.
type Omitted struct {
	FormAnswers int `json:"form_answers,omitempty"`
	Pages       int `json:"pages,omitempty"`
	Downloads   int `json:"downloads,omitempty"`
}

// FieldError is one problem with one field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// FieldErrors is every problem of one request; it is an EINVALID error.
type FieldErrors []FieldError

func (fe FieldErrors) Error() string {
	parts := make([]string, len(fe))
	for i, e := range fe {
		parts[i] = e.Field + ": " + e.Message
	}
	return strings.Join(parts, "; ")
}

// Limits that keep one lead's text within what a Slack card and a database
// row should carry. Whatever is beyond them stays in the CRM.
const (
	// MaxIDLen is the longest external id kept as it is; a longer one is
	// kept as its beginning and a checksum of the whole (see CleanExternalID).
	MaxIDLen = 200
	// MaxFormAnswers is how many form answers a lead keeps.
	MaxFormAnswers = 50
	// MaxListItems is how many pages, and how many downloads, a lead keeps.
	MaxListItems = 50
	// MaxNoteLen is the longest touch note kept.
	MaxNoteLen = 2000
	// MaxLabelLen is the longest source, segment or country kept.
	MaxLabelLen = 100
	// MaxAmount is the largest deal value or amount a lead keeps: the
	// database holds them as numeric(14, 2).
	MaxAmount = 999_999_999_999.99

	maxNameLen       = 200
	maxPhoneLen      = 100
	maxEmailLen      = 254
	maxDomainLen     = 253
	maxURLLen        = 2000
	maxFormKeyLen    = 200
	maxFormAnswerLen = 1000
	maxListItemLen   = 500
	maxCount         = 1e9
	idChecksumLen    = 16
)

// Notes on what cleaning did, for warnings.
const (
	noteControls = "control characters were removed"
	noteNotUTF8  = "bytes that are not UTF-8 were replaced with �"
)

// CleanLine prepares one line of text for storage: bytes that are not UTF-8
// become U+FFFD, line breaks and tabs become spaces, NUL and every other
// control character is removed (PostgreSQL refuses NUL in text and jsonb),
// and so are invisible marks that could disguise a name (byte order marks,
// bidirectional overrides). Surrounding space is trimmed. The note says what
// was removed or replaced, for a warning; it is empty when nothing was.
func CleanLine(s string) (string, string) { return clean(s, false) }

// CleanText is CleanLine for text that may run over several lines (a note,
// a form answer): it keeps tabs and line breaks, written as "\n".
func CleanText(s string) (string, string) { return clean(s, true) }

func clean(s string, multiline bool) (string, string) {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			plain = false
			break
		}
	}
	if plain {
		return strings.TrimSpace(s), ""
	}
	var notes []string
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
		notes = append(notes, noteNotUTF8)
	}
	removed := false
	var b strings.Builder
	b.Grow(len(s))
	space := func() {
		// Folding "\r\n" or "\t\t" into a line must not leave runs of spaces.
		if str := b.String(); str != "" && str[len(str)-1] != ' ' {
			b.WriteByte(' ')
		}
	}
	for i, r := range s {
		switch {
		case r == '\r':
			if multiline {
				if !strings.HasPrefix(s[i+1:], "\n") {
					b.WriteByte('\n')
				}
			} else {
				space()
			}
		case r == '\n' || r == '\v' || r == '\f' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			if multiline {
				b.WriteByte('\n')
			} else {
				space()
			}
		case r == '\t':
			if multiline {
				b.WriteByte('\t')
			} else {
				space()
			}
		case unicode.IsControl(r) || invisible(r):
			removed = true
		default:
			b.WriteRune(r)
		}
	}
	if removed {
		notes = append([]string{noteControls}, notes...)
	}
	return strings.TrimSpace(b.String()), strings.Join(notes, "; ")
}

// invisible reports marks that change how text around them looks without
// showing themselves: a byte order mark, bidirectional embeddings,
// overrides and isolates.
func invisible(r rune) bool {
	return r == '\uFEFF' || (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// Clip shortens s to at most n characters, cutting between characters
// (never inside one); a shortened text ends with "…".
func Clip(s string, n int) (string, bool) {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s, false
	}
	count := 0
	for i := range s {
		if count == n-1 {
			return strings.TrimRightFunc(s[:i], unicode.IsSpace) + "…", true
		}
		count++
	}
	return s, false
}

// Quote shows a value someone gave (a field of a hand-off, a word of a
// command) in a message: cleaned to one line, without backticks (chat
// markup has no escape for them, and one would turn the rest of the line
// into code), at most 60 characters, and in quotes, so a warning about a
// huge or hostile value stays readable. Every message that repeats what a
// person or a CRM sent quotes it so.
func Quote(s string) string {
	s, _ = CleanLine(s)
	s = strings.ReplaceAll(s, "`", "")
	s, _ = Clip(s, 60)
	return strconv.Quote(s)
}

// CleanExternalID cleans a CRM's id the way slabot stores it and looks it
// up, so that a hand-off and a later touch on the same lead agree. An id
// longer than MaxIDLen keeps its beginning and a checksum of the whole: two
// long ids that share a beginning still name two leads. The notes say what
// changed, for warnings.
func CleanExternalID(s string) (string, []string) {
	id, note := CleanLine(s)
	var notes []string
	if note != "" {
		notes = append(notes, note)
	}
	if n := utf8.RuneCountInString(id); n > MaxIDLen {
		sum := sha256.Sum256([]byte(id))
		keep := MaxIDLen - 1 - idChecksumLen
		cut, count := len(id), 0
		for i := range id {
			if count == keep {
				cut = i
				break
			}
			count++
		}
		id = id[:cut] + "~" + hex.EncodeToString(sum[:])[:idChecksumLen]
		notes = append(notes, fmt.Sprintf("%d characters; slabot keeps the first %d and a checksum of the whole, so a repeat still finds the lead", n, keep))
	}
	return id, notes
}

// CleanEmail cleans an email address. One written with a name ("Dana Ruiz
// <dana@acme.test>") is reduced to the address; anything else that is not
// an address gives "" and a note saying why, for a warning.
func CleanEmail(s string) (string, string) {
	s, note := CleanLine(s)
	if s == "" {
		return "", note
	}
	if utf8.RuneCountInString(s) > maxEmailLen {
		return "", fmt.Sprintf("is longer than %d characters, so it is no email address", maxEmailLen)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address == "" || strings.ContainsAny(a.Address, " \t") {
		return "", fmt.Sprintf("%s is not an email address", Quote(s))
	}
	if a.Address != s {
		return a.Address, fmt.Sprintf("%s was read as %s", Quote(s), a.Address)
	}
	return s, note
}

// warnings collects what Normalize changed, as "field: what happened".
type warnings []string

func (w *warnings) add(field, format string, args ...any) {
	*w = append(*w, field+": "+fmt.Sprintf(format, args...))
}

// line cleans and clips one line of text.
func (w *warnings) line(field, s string, max int) string {
	s, note := CleanLine(s)
	if note != "" {
		w.add(field, "%s", note)
	}
	if n := utf8.RuneCountInString(s); n > max {
		s, _ = Clip(s, max)
		w.add(field, "%d characters; cut to the first %d", n, max)
	}
	return s
}

func (w *warnings) domain(field, s string) string {
	s, note := CleanLine(s)
	if note != "" {
		w.add(field, "%s", note)
	}
	if utf8.RuneCountInString(s) > maxDomainLen || strings.ContainsAny(s, " \t") {
		w.add(field, "%s is not a domain name; it was left out", Quote(s))
		return ""
	}
	return s
}

func (w *warnings) email(field, s, consequence string) string {
	email, note := CleanEmail(s)
	switch {
	case email == "" && note != "" && strings.TrimSpace(s) != "":
		w.add(field, "%s; it was left out%s", note, consequence)
	case note != "":
		w.add(field, "%s", note)
	}
	return email
}

func (w *warnings) count(field string, n int, noun string) int {
	if n < 0 {
		w.add(field, "%d is negative; it was left out", n)
		return 0
	}
	if n > maxCount {
		w.add(field, "%d is more %s than there can be; it was left out", n, noun)
		return 0
	}
	return n
}

func (w *warnings) amount(field string, v float64) float64 {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		w.add(field, "is not a number; it was left out")
		return 0
	case v < 0:
		w.add(field, "%v is negative; it was left out", v)
		return 0
	case v > MaxAmount:
		w.add(field, "%v is more than slabot can keep (at most 999,999,999,999.99); it was left out", v)
		return 0
	}
	return v
}

func (w *warnings) webAddress(field, s string) string {
	s, note := CleanLine(s)
	if note != "" {
		w.add(field, "%s", note)
	}
	if s == "" {
		return ""
	}
	if len(s) > maxURLLen {
		w.add(field, "is longer than %d characters; it was left out", maxURLLen)
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (!strings.EqualFold(u.Scheme, "https") && !strings.EqualFold(u.Scheme, "http")) || u.Host == "" {
		w.add(field, "%s is not a web address (it should start with https://); it was left out", Quote(s))
		return ""
	}
	return s
}

// form cleans form answers: questions are lines, answers may run over
// several lines. Beyond MaxFormAnswers, answers are dropped in the order
// of their questions and counted in *omitted.
func (w *warnings) form(in map[string]string, omitted *int) map[string]string {
	if len(in) == 0 {
		return nil
	}
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(map[string]string, min(len(in), MaxFormAnswers))
	dropped := 0
	for _, k := range keys {
		q, note := CleanLine(k)
		if n := utf8.RuneCountInString(q); n > maxFormKeyLen {
			q, _ = Clip(q, maxFormKeyLen)
			w.add(formField(q), "the question has %d characters; cut to the first %d", n, maxFormKeyLen)
		}
		if note != "" {
			w.add(formField(q), "in the question, %s", note)
		}
		if q == "" {
			w.add("context.form", "an answer without a question was dropped")
			continue
		}
		if _, dup := out[q]; dup {
			w.add(formField(q), "two questions read the same once cleaned; the answer to the first is kept")
			continue
		}
		if len(out) == MaxFormAnswers {
			dropped++
			continue
		}
		a, note := CleanText(in[k])
		if note != "" {
			w.add(formField(q), "%s", note)
		}
		if n := utf8.RuneCountInString(a); n > maxFormAnswerLen {
			a, _ = Clip(a, maxFormAnswerLen)
			w.add(formField(q), "%d characters; cut to the first %d", n, maxFormAnswerLen)
		}
		out[q] = a
	}
	if dropped > 0 {
		w.add("context.form", "%d answers; the first %d are kept, %d dropped", len(out)+dropped, MaxFormAnswers, dropped)
		*omitted += dropped
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// formField names one form answer in a warning.
func formField(question string) string {
	q, _ := Clip(question, 40)
	return "context.form." + q
}

// list cleans pages or downloads: each item a line of text, at most
// MaxListItems of them; what is dropped is counted in *omitted.
func (w *warnings) list(field, noun string, in []string, omitted *int) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, min(len(in), MaxListItems))
	var cleaned, clipped, dropped int
	for _, s := range in {
		s, note := CleanLine(s)
		if note != "" {
			cleaned++
		}
		if s == "" {
			continue
		}
		if len(out) == MaxListItems {
			dropped++
			continue
		}
		if utf8.RuneCountInString(s) > maxListItemLen {
			s, _ = Clip(s, maxListItemLen)
			clipped++
		}
		out = append(out, s)
	}
	if cleaned > 0 {
		w.add(field, "in %d of the %s, control characters or bytes that are not UTF-8 were removed", cleaned, noun)
	}
	switch {
	case clipped == 1:
		w.add(field, "1 of the %s was longer than %d characters and was cut", noun, maxListItemLen)
	case clipped > 1:
		w.add(field, "%d of the %s were longer than %d characters and were cut", clipped, noun, maxListItemLen)
	}
	if dropped > 0 {
		w.add(field, "%d %s; the first %d are kept, %d dropped", len(out)+dropped, noun, MaxListItems, dropped)
		*omitted += dropped
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Normalize makes the hand-off fit what a lead keeps, so that nothing about
// its size or shape can refuse it: every text is cleaned (CleanLine,
// CleanText), over-long text is cut, lists beyond their limits are cut short
// and counted in Context.Omitted, and malformed optional parts (an address
// that is no address, a negative count, a score outside 0–100) are left
// out. It returns one warning per change, as "field: what happened", in the
// order of the fields. It is idempotent, and it builds new maps and slices
// rather than change the ones it was given.
func (h *HandOff) Normalize() []string {
	var w warnings
	id, notes := CleanExternalID(h.ExternalID)
	for _, n := range notes {
		w.add("external_id", "%s", n)
	}
	h.ExternalID = id
	h.Source = w.line("source", h.Source, MaxLabelLen)
	h.Segment = w.line("segment", h.Segment, MaxLabelLen)
	if h.Score < 0 || h.Score > 100 {
		w.add("score", "%d is outside 0–100, the range of a lead score; it was left out", h.Score)
		h.Score = 0
	}
	h.OwnerEmail = w.email("owner_email", h.OwnerEmail, ", so the lead goes to the team's next rep in turn")

	h.Contact.Name = w.line("contact.name", h.Contact.Name, maxNameLen)
	h.Contact.Email = w.email("contact.email", h.Contact.Email, "")
	h.Contact.Title = w.line("contact.title", h.Contact.Title, maxNameLen)
	h.Contact.Phone = w.line("contact.phone", h.Contact.Phone, maxPhoneLen)

	h.Company.Name = w.line("company.name", h.Company.Name, maxNameLen)
	h.Company.Domain = w.domain("company.domain", h.Company.Domain)
	h.Company.Employees = w.count("company.employees", h.Company.Employees, "employees")
	if h.Company.Employees == 0 {
		h.Company.EmployeesRange = ""
	}
	h.Company.EmployeesRange = w.line("company.employees", h.Company.EmployeesRange, MaxLabelLen)
	h.Company.Industry = w.line("company.industry", h.Company.Industry, maxNameLen)
	h.Company.Country = w.line("company.country", h.Company.Country, MaxLabelLen)

	h.Context.Form = w.form(h.Context.Form, &h.Context.Omitted.FormAnswers)
	a := &h.Context.Activity
	a.Visits = w.count("context.activity.visits", a.Visits, "visits")
	a.Pages = w.list("context.activity.pages", "pages", a.Pages, &h.Context.Omitted.Pages)
	a.Downloads = w.list("context.activity.downloads", "downloads", a.Downloads, &h.Context.Omitted.Downloads)
	o := &h.Context.Omitted
	o.FormAnswers, o.Pages, o.Downloads = max(o.FormAnswers, 0), max(o.Pages, 0), max(o.Downloads, 0)

	h.CRMURL = w.webAddress("crm_url", h.CRMURL)
	h.Value = w.amount("value", h.Value)
	return w
}

// Validate lists what makes the hand-off impossible to work, every problem
// at once: a lead needs an id, so that a repeat is recognised, and someone
// to contact. Everything else that is wrong is fixed or left out by
// Normalize and named in its warnings, never refused: a CRM does not retry a
// refused hand-off, and the lead would be lost.
func (h *HandOff) Validate() FieldErrors {
	n := *h
	n.Normalize()
	var errs FieldErrors
	if n.ExternalID == "" {
		errs = append(errs, FieldError{Field: "external_id", Message: "is required: the lead's id in your CRM, so a repeat is recognised"})
	}
	if n.Contact.Email == "" && n.Contact.Phone == "" && n.Company.Name == "" {
		msg := "is required unless contact.phone or company.name is given: a rep needs someone to contact"
		if email, _ := CleanLine(h.Contact.Email); email != "" {
			msg = fmt.Sprintf("%s is not an email address, and there is no contact.phone or company.name: a rep needs someone to contact", Quote(email))
		}
		errs = append(errs, FieldError{Field: "contact.email", Message: msg})
	}
	sortFieldErrors(errs)
	return errs
}

func sortFieldErrors(errs FieldErrors) {
	// A stable order makes responses and tests predictable.
	slices.SortStableFunc(errs, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
}

// normalized returns a cleaned copy of the hand-off, for callers that did
// not clean it themselves: nothing a lead stores escapes Normalize.
func (h *HandOff) normalized() HandOff {
	n := *h
	n.Normalize()
	return n
}

// mergeInto copies what a repeated hand-off adds or changes into the lead
// and names the fields that changed. The owner, the rule and the clocks stay:
// a repeat must never restart or double the SLA.
func (h *HandOff) mergeInto(l *Lead) []string {
	n := h.normalized()
	var changed []string
	setS := func(name string, dst *string, v string) {
		if v != "" && *dst != v {
			*dst = v
			changed = append(changed, name)
		}
	}
	setS("contact.name", &l.Contact.Name, n.Contact.Name)
	setS("contact.email", &l.Contact.Email, n.Contact.Email)
	setS("contact.title", &l.Contact.Title, n.Contact.Title)
	setS("contact.phone", &l.Contact.Phone, n.Contact.Phone)
	setS("company.name", &l.Company.Name, n.Company.Name)
	setS("company.domain", &l.Company.Domain, n.Company.Domain)
	setS("company.industry", &l.Company.Industry, n.Company.Industry)
	setS("company.country", &l.Company.Country, n.Company.Country)
	setS("crm_url", &l.CRMURL, n.CRMURL)
	if n.Company.Employees != 0 && (n.Company.Employees != l.Company.Employees || n.Company.EmployeesRange != l.Company.EmployeesRange) {
		l.Company.Employees, l.Company.EmployeesRange = n.Company.Employees, n.Company.EmployeesRange
		changed = append(changed, "company.employees")
	}
	if n.Score != 0 && n.Score != l.Score {
		l.Score = n.Score
		changed = append(changed, "score")
	}
	if n.Value != 0 && n.Value != l.Value {
		l.Value = n.Value
		changed = append(changed, "value")
	}
	lo, no := &l.Context.Omitted, n.Context.Omitted
	keys := make([]string, 0, len(n.Context.Form))
	for k := range n.Context.Form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	overflow := 0
	for _, k := range keys {
		v := n.Context.Form[k]
		old, ok := l.Context.Form[k]
		if ok && old == v {
			continue
		}
		if !ok && len(l.Context.Form) >= MaxFormAnswers {
			// The lead keeps what it has; the CRM has the rest.
			overflow++
			continue
		}
		if l.Context.Form == nil {
			l.Context.Form = map[string]string{}
		}
		l.Context.Form[k] = v
		changed = append(changed, "context.form."+k)
	}
	lo.FormAnswers = max(lo.FormAnswers, no.FormAnswers+overflow)
	a, b := &l.Context.Activity, n.Context.Activity
	if b.Visits > a.Visits {
		a.Visits = b.Visits
		changed = append(changed, "context.activity.visits")
	}
	if merged, over, ok := union(a.Pages, b.Pages); ok {
		a.Pages = merged
		changed = append(changed, "context.activity.pages")
		lo.Pages = max(lo.Pages, no.Pages+over)
	}
	if merged, over, ok := union(a.Downloads, b.Downloads); ok {
		a.Downloads = merged
		changed = append(changed, "context.activity.downloads")
		lo.Downloads = max(lo.Downloads, no.Downloads+over)
	}
	return changed
}

// union appends the items of b missing from a, up to MaxListItems in all;
// over counts those that did not fit, and ok reports whether any were added.
func union(a, b []string) (out []string, over int, ok bool) {
	seen := map[string]bool{}
	for _, s := range a {
		seen[s] = true
	}
	out = a
	for _, s := range b {
		if seen[s] {
			continue
		}
		seen[s] = true
		if len(out) >= MaxListItems {
			over++
			continue
		}
		out = append(out, s)
	}
	return out, over, len(out) != len(a)
}

// newLead builds the lead a first hand-off creates.
func (h *HandOff) newLead(now time.Time) *Lead {
	n := h.normalized()
	handedOff := n.HandedOffAt
	if handedOff.IsZero() || handedOff.After(now) {
		// A CRM clock ahead of ours must not make the routing delay negative.
		handedOff = now
	}
	l := &Lead{
		ExternalID: n.ExternalID, Source: strings.ToLower(n.Source),
		Segment: strings.ToLower(n.Segment), Score: n.Score,
		Contact: n.Contact, Company: n.Company, CRMURL: n.CRMURL, Value: n.Value,
		State: StateNew, HandedOffAt: handedOff, ReceivedAt: now,
	}
	l.Contact.Email = strings.ToLower(l.Contact.Email)
	l.Context = n.Context
	return l
}
