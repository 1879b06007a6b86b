package bot

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// hugeLead is a lead as big as a hand-off can leave it: every text at its
// limit in characters of several bytes, every list full, and more of each
// left in the CRM.
func hugeLead() *engine.Lead {
	long := strings.Repeat("Ü&", 100)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	l := &engine.Lead{ID: 42, ExternalID: strings.Repeat("é", 200), Source: long, Segment: long, Score: 87,
		Contact: engine.Contact{Name: long, Email: "dana@acme.test", Title: long, Phone: long},
		Company: engine.Company{Name: long, Domain: "acme.test", Employees: 1200, Industry: long, Country: long},
		CRMURL:  "https://crm.example/leads/" + strings.Repeat("x", 1900), Value: 25000,
		OwnerEmail: "ana@example.com", State: engine.StateNotified, AssignedAt: now, FirstTouchDue: now.Add(time.Hour)}
	l.Context.Form = map[string]string{}
	for i := range engine.MaxFormAnswers {
		l.Context.Form[fmt.Sprintf("Question %02d %s", i, strings.Repeat("?", 180))] = strings.Repeat("<answer> ", 111)
	}
	for i := range engine.MaxListItems {
		l.Context.Activity.Pages = append(l.Context.Activity.Pages, fmt.Sprintf("/a/very/long/page/path/%d/%s", i, strings.Repeat("p", 470)))
		l.Context.Activity.Downloads = append(l.Context.Activity.Downloads, fmt.Sprintf("Guide %d %s", i, strings.Repeat("d", 490)))
	}
	l.Context.Omitted = engine.Omitted{FormAnswers: 10, Pages: 150, Downloads: 3}
	return l
}

// checkBlockKit checks the limits Slack enforces on a message's blocks.
func checkBlockKit(t *testing.T, blocks []slack.Block) {
	t.Helper()
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) > 50 {
		t.Errorf("%d blocks; a message takes 50", len(list))
	}
	text := func(v any) string {
		m, _ := v.(map[string]any)
		s, _ := m["text"].(string)
		if !utf8.ValidString(s) {
			t.Errorf("text is not valid UTF-8: %q", s)
		}
		return s
	}
	for i, b := range list {
		switch b["type"] {
		case "header":
			if n := utf8.RuneCountInString(text(b["text"])); n > 150 {
				t.Errorf("block %d: header of %d characters; at most 150", i, n)
			}
		case "section":
			if n := utf8.RuneCountInString(text(b["text"])); n > 3000 {
				t.Errorf("block %d: section text of %d characters; at most 3000", i, n)
			}
			fields, _ := b["fields"].([]any)
			if len(fields) > 10 {
				t.Errorf("block %d: %d fields; at most 10", i, len(fields))
			}
			for j, f := range fields {
				if n := utf8.RuneCountInString(text(f)); n > 2000 {
					t.Errorf("block %d field %d: %d characters; at most 2000", i, j, n)
				}
			}
		case "context":
			for _, e := range b["elements"].([]any) {
				if n := utf8.RuneCountInString(text(e)); n > 3000 {
					t.Errorf("block %d: context text of %d characters", i, n)
				}
			}
		case "actions":
			for _, e := range b["elements"].([]any) {
				el := e.(map[string]any)
				if n := utf8.RuneCountInString(text(el["text"])); el["type"] == "button" && n > 75 {
					t.Errorf("block %d: button text of %d characters; at most 75", i, n)
				}
				if u, _ := el["url"].(string); len(u) > 3000 {
					t.Errorf("block %d: button url of %d characters; at most 3000", i, len(u))
				}
			}
		}
	}
}

func TestCardShowsWhatFitsAndCountsTheRest(t *testing.T) {
	l := hugeLead()
	blocks, fallback := slackMessage(leadCard(cardData{Lead: l, Loc: time.UTC, Now: l.AssignedAt, Viewer: l.OwnerEmail}))
	checkBlockKit(t, blocks)
	if n := utf8.RuneCountInString(fallback); n > maxFallback || !utf8.ValidString(fallback) {
		t.Errorf("fallback text of %d characters, valid UTF-8 %v", n, utf8.ValidString(fallback))
	}
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
