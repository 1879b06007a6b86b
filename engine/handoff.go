package engine

import (
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"
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
// row should carry.
const (
	maxIDLen    = 200
	maxTextLen  = 1000
	maxURLLen   = 2000
	maxFormKeys = 50
)

// Validate lists every problem of the hand-off at once.
func (h *HandOff) Validate() FieldErrors {
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case strings.TrimSpace(h.ExternalID) == "":
		add("external_id", "is required: the lead's id in your CRM, so a repeat is recognised")
	case utf8.RuneCountInString(h.ExternalID) > maxIDLen:
		add("external_id", "is %d characters long; at most %d are allowed", utf8.RuneCountInString(h.ExternalID), maxIDLen)
	}
	if strings.TrimSpace(h.Contact.Email) == "" && strings.TrimSpace(h.Company.Name) == "" {
		add("contact.email", "is required unless company.name is given: a rep needs someone to contact")
	}
	checkEmail := func(field, v string) {
		if v == "" {
			return
		}
		if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
			add(field, "%q is not an email address", v)
		}
	}
	checkEmail("contact.email", h.Contact.Email)
	checkEmail("owner_email", h.OwnerEmail)
	if h.Score < 0 || h.Score > 100 {
		add("score", "is %d; a lead score runs from 0 to 100", h.Score)
	}
	if h.Value < 0 {
		add("value", "is negative; give the expected deal value, or leave it out")
	}
	if h.Company.Employees < 0 {
		add("company.employees", "is negative")
	}
	for field, v := range map[string]string{"crm_url": h.CRMURL} {
		if v != "" && !(strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://")) {
			add(field, "%q is not a web address (it should start with https://)", v)
		}
		if len(v) > maxURLLen {
			add(field, "is longer than %d characters", maxURLLen)
		}
	}
	for field, v := range map[string]string{
		"source": h.Source, "segment": h.Segment, "contact.name": h.Contact.Name, "contact.title": h.Contact.Title,
		"contact.phone": h.Contact.Phone, "company.name": h.Company.Name, "company.domain": h.Company.Domain,
		"company.industry": h.Company.Industry, "company.country": h.Company.Country,
	} {
		if utf8.RuneCountInString(v) > maxTextLen {
			add(field, "is longer than %d characters", maxTextLen)
		}
	}
	if len(h.Context.Form) > maxFormKeys {
		add("context.form", "has %d answers; at most %d are kept on a lead", len(h.Context.Form), maxFormKeys)
	}
	if h.Context.Activity.Visits < 0 {
		add("context.activity.visits", "is negative")
	}
	sortFieldErrors(errs)
	return errs
}

func sortFieldErrors(errs FieldErrors) {
	// A stable order makes responses and tests predictable.
	slices.SortStableFunc(errs, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
}

// mergeInto copies what a repeated hand-off adds or changes into the lead
// and names the fields that changed. The owner, the rule and the clocks stay:
// a repeat must never restart or double the SLA.
func (h *HandOff) mergeInto(l *Lead) []string {
	var changed []string
	setS := func(name string, dst *string, v string) {
		if v != "" && *dst != v {
			*dst = v
			changed = append(changed, name)
		}
	}
	setS("contact.name", &l.Contact.Name, h.Contact.Name)
	setS("contact.email", &l.Contact.Email, h.Contact.Email)
	setS("contact.title", &l.Contact.Title, h.Contact.Title)
	setS("contact.phone", &l.Contact.Phone, h.Contact.Phone)
	setS("company.name", &l.Company.Name, h.Company.Name)
	setS("company.domain", &l.Company.Domain, h.Company.Domain)
	setS("company.industry", &l.Company.Industry, h.Company.Industry)
	setS("company.country", &l.Company.Country, h.Company.Country)
	setS("crm_url", &l.CRMURL, h.CRMURL)
	if h.Company.Employees != 0 && h.Company.Employees != l.Company.Employees {
		l.Company.Employees = h.Company.Employees
		changed = append(changed, "company.employees")
	}
	if h.Score != 0 && h.Score != l.Score {
		l.Score = h.Score
		changed = append(changed, "score")
	}
	if h.Value != 0 && h.Value != l.Value {
		l.Value = h.Value
		changed = append(changed, "value")
	}
	for k, v := range h.Context.Form {
		if l.Context.Form[k] != v {
			if l.Context.Form == nil {
				l.Context.Form = map[string]string{}
			}
			l.Context.Form[k] = v
			changed = append(changed, "context.form."+k)
		}
	}
	a, b := &l.Context.Activity, h.Context.Activity
	if b.Visits > a.Visits {
		a.Visits = b.Visits
		changed = append(changed, "context.activity.visits")
	}
	if merged, ok := union(a.Pages, b.Pages); ok {
		a.Pages = merged
		changed = append(changed, "context.activity.pages")
	}
	if merged, ok := union(a.Downloads, b.Downloads); ok {
		a.Downloads = merged
		changed = append(changed, "context.activity.downloads")
	}
	return changed
}

// union appends the items of b missing from a; ok reports whether any were.
func union(a, b []string) ([]string, bool) {
	seen := map[string]bool{}
	for _, s := range a {
		seen[s] = true
	}
	out := a
	for _, s := range b {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, len(out) != len(a)
}

// newLead builds the lead a first hand-off creates.
func (h *HandOff) newLead(now time.Time) *Lead {
	handedOff := h.HandedOffAt
	if handedOff.IsZero() || handedOff.After(now) {
		// A CRM clock ahead of ours must not make the routing delay negative.
		handedOff = now
	}
	l := &Lead{
		ExternalID: strings.TrimSpace(h.ExternalID), Source: strings.ToLower(strings.TrimSpace(h.Source)),
		Segment: strings.ToLower(strings.TrimSpace(h.Segment)), Score: h.Score,
		Contact: h.Contact, Company: h.Company, CRMURL: h.CRMURL, Value: h.Value,
		State: StateNew, HandedOffAt: handedOff, ReceivedAt: now,
	}
	l.Contact.Email = strings.ToLower(strings.TrimSpace(l.Contact.Email))
	l.Context.Form = maps.Clone(h.Context.Form)
	l.Context.Activity = h.Context.Activity
	return l
}
