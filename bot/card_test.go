package bot

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/slabot/slabot/bot/bottest"
	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

func TestCardShowsWhatFitsAndCountsTheRest(t *testing.T) {
	l := bottest.HugeLead()
	form, activity := formPlain(l), plainLines(activityField(l))
	shownAnswers := strings.Count(form, "\n• ")
	if shownAnswers == 0 {
		t.Fatalf("no form answer shown:\n%s", form)
	}
	for _, want := range []string{
		fmt.Sprintf("+%d more answers in the CRM", engine.MaxFormAnswers-shownAnswers+10),
		"more pages in the CRM", "more downloads in the CRM",
	} {
		if !strings.Contains(form+activity, want) {
			t.Errorf("the card does not say %q:\n%s\n%s", want, form, activity)
		}
	}
	m := regexp.MustCompile(`\+(\d+) more pages in the CRM`).FindStringSubmatch(activity)
	shownPages := strings.Count(activity, "/a/very/long/page/path/")
	if m == nil || m[1] != fmt.Sprint(engine.MaxListItems-shownPages+150) {
		t.Errorf("%d pages shown, the card counts %v more; want %d:\n%s", shownPages, m, engine.MaxListItems-shownPages+150, activity)
	}
}

func TestCardOfASmallLeadHasNoMoreNote(t *testing.T) {
	l := &engine.Lead{ID: 1, ExternalID: "crm-1", Contact: engine.Contact{Email: "dana@acme.test"}, State: engine.StateNew,
		Context: engine.LeadContext{Form: map[string]string{"Budget": "$50k"}, Activity: engine.Activity{Pages: []string{"/pricing"}}}}
	if text := formPlain(l) + plainLines(activityField(l)); strings.Contains(text, "more") {
		t.Errorf("a small lead's card speaks of more in the CRM:\n%s", text)
	}
	one := &engine.Lead{Context: engine.LeadContext{Omitted: engine.Omitted{FormAnswers: 1}}}
	if got := formPlain(one); !strings.Contains(got, "+1 more answer in the CRM") {
		t.Errorf("form text %q; want one answer counted in the CRM", got)
	}
}

// formPlain is the form answers' section as plain lines ("" when none).
func formPlain(l *engine.Lead) string {
	form, _ := formText(l)
	return plainLines(form)
}

func plainLines(s view.Section) string {
	lines := make([]string, len(s.Lines))
	for i, l := range s.Lines {
		lines[i] = l.Plain()
	}
	return strings.Join(lines, "\n")
}

// A head count given as a range (HubSpot's numemployees) is shown as the
// range, not as its lower bound.
func TestCardShowsAnEmployeeRangeAsARange(t *testing.T) {
	ranged := plainLines(companyField(&engine.Lead{Company: engine.Company{Name: "Acme", Employees: 25, EmployeesRange: "25-50"}}))
	if !strings.Contains(ranged, "25-50 employees") {
		t.Errorf("company %q; want 25-50 employees", ranged)
	}
	counted := plainLines(companyField(&engine.Lead{Company: engine.Company{Name: "Acme", Employees: 1200}}))
	if !strings.Contains(counted, "1,200 employees") {
		t.Errorf("company %q; want 1,200 employees", counted)
	}
}
