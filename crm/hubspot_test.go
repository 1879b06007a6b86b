package crm_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/crm/hubspot"
	"github.com/slabot/slabot/crm/hubspot/hubspotfake"
	"github.com/slabot/slabot/engine"
)

const hubspotToken = "pat-na1-test"

type hubspotLoop struct {
	*loop
	fake   *hubspotfake.Server
	writer *hubspot.Writer
}

// newHubSpotLoop runs the CRM side with HubSpot on (a fake granted
// scopes) and no webhooks.
func newHubSpotLoop(t *testing.T, scopes ...string) *hubspotLoop {
	t.Helper()
	fake := hubspotfake.New()
	t.Cleanup(fake.Close)
	fake.AddToken(hubspotToken, scopes...)
	w := &hubspot.Writer{Client: &hubspot.Client{BaseURL: fake.APIURL(), Token: hubspotToken},
		Now: time.Now, SearchSchedule: []time.Duration{0, 0, 0}, OpsTeam: "east", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	l := newLoop(t, "", []func(engine.CRMEventArgs) []engine.Job{w.Jobs}, w.Handler())
	w.Store = l.db
	return &hubspotLoop{loop: l, fake: fake, writer: w}
}

func TestATouchLoggedInChatBecomesOneEngagementOnTheContact(t *testing.T) {
	t.Parallel()
	h := newHubSpotLoop(t, hubspotfake.AllScopes...)
	contact := h.fake.AddContact("dana@acme.test", nil)
	h.fake.AddContact("someone.else@acme.test", nil)
	ctx := context.Background()
	lead := h.handOff(t, "crm-1", "Dana@Acme.test")
	if _, err := h.svc.Acknowledge(ctx, lead.ID, ana); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.svc.LogTouch(ctx, lead.ID, ana, engine.TouchInput{Kind: engine.TouchCall, Note: "talked budget", Origin: "slack"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.svc.LogTouch(ctx, lead.ID, ana, engine.TouchInput{Kind: engine.TouchMeeting, Origin: "slack"}); err != nil {
		t.Fatal(err)
	}
	// Logged in the CRM and sent through the API: HubSpot has it already.
	if _, _, err := h.svc.LogTouch(ctx, lead.ID, engine.Actor{System: "crm"}, engine.TouchInput{Kind: engine.TouchEmail, Origin: "crm", Key: "crm:9"}); err != nil {
		t.Fatal(err)
	}
	h.settled(t)
	calls, meetings, emails, notes := h.fake.Objects("calls"), h.fake.Objects("meetings"), h.fake.Objects("emails"), h.fake.Objects("notes")
	if len(calls) != 1 || len(meetings) != 1 || len(emails) != 0 || len(notes) != 1 {
		t.Fatalf("HubSpot has %d calls, %d meetings, %d emails, %d notes; want 1, 1, 0 (the API's touch is not written back), 1 (the acknowledgement)",
			len(calls), len(meetings), len(emails), len(notes))
	}
	for _, o := range []hubspotfake.Object{calls[0], meetings[0], notes[0]} {
		if len(o.Contacts) != 1 || o.Contacts[0] != contact {
			t.Errorf("%s %s is associated with %v, want contact %s", o.Type, o.ID, o.Contacts, contact)
		}
		if o.Properties["hs_timestamp"] == "" {
			t.Errorf("%s has no hs_timestamp", o.Type)
		}
	}
	if body := calls[0].Properties["hs_call_body"]; !strings.Contains(body, "talked budget") || !strings.Contains(body, "ana@example.com") {
		t.Errorf("the call's body %q lacks the note and who called", body)
	}
	if !strings.Contains(notes[0].Properties["hs_note_body"], "accepted") {
		t.Errorf("the note %q does not say the lead was accepted", notes[0].Properties["hs_note_body"])
	}
}

func TestAnEngagementIsWrittenOnceAcrossALostAnswerAndA429(t *testing.T) {
	t.Parallel()
	h := newHubSpotLoop(t, hubspotfake.AllScopes...)
	contact := h.fake.AddContact("dana@acme.test", nil)
	ctx := context.Background()
	lead := h.handOff(t, "crm-1", "dana@acme.test")
	h.fake.LoseNextCreates(1)
	if _, _, err := h.svc.LogTouch(ctx, lead.ID, ana, engine.TouchInput{Kind: engine.TouchCall, Origin: "slack"}); err != nil {
		t.Fatal(err)
	}
	h.settled(t)
	h.fake.FailNext(2)
	if _, _, err := h.svc.LogTouch(ctx, lead.ID, ana, engine.TouchInput{Kind: engine.TouchEmail, Origin: "slack"}); err != nil {
		t.Fatal(err)
	}
	h.settled(t)
	calls, emails := h.fake.Objects("calls"), h.fake.Objects("emails")
	if len(calls) != 1 || len(emails) != 1 {
		t.Fatalf("HubSpot has %d calls and %d emails, want exactly one each", len(calls), len(emails))
	}
	if len(calls[0].Contacts) != 1 || calls[0].Contacts[0] != contact || len(emails[0].Contacts) != 1 {
		t.Errorf("associations: call %v, email %v; want contact %s", calls[0].Contacts, emails[0].Contacts, contact)
	}
	var lost, limited, creates int
	for _, r := range h.fake.Requests() {
		switch {
		case r.Status == -1:
			lost++
		case r.Status == 429:
			limited++
		}
		if r.Method == "POST" && !strings.HasSuffix(r.Path, "/search") {
			creates++
		}
	}
	if lost != 1 || limited != 2 {
		t.Errorf("the fake lost %d answers and answered %d 429s; the test wants 1 and 2", lost, limited)
	}
	if creates != 2 {
		t.Errorf("%d creates were sent (the lost call's object was found, not sent again; the 429s made nothing); want 2", creates)
	}
}

func TestACrashAfterSendingFindsTheObjectInsteadOfMakingASecond(t *testing.T) {
	t.Parallel()
	h := newHubSpotLoop(t, hubspotfake.AllScopes...)
	contact := h.fake.AddContact("dana@acme.test", nil)
	ev := engine.CRMEventArgs{Type: engine.CRMTouchLogged, Subject: "lead:77", EventID: 501, LeadID: 77, At: time.Now(),
		ContactEmail: "dana@acme.test", Data: map[string]any{"kind": "note", "by": "ana@example.com", "origin": "chat"}}
	ctx := context.Background()
	// The first run sent the create, HubSpot made the note, and the
	// process died before it heard back.
	if _, err := h.db.HubSpotWriteFor(ctx, "lead:77:501", "notes", "slabotL77E501"); err != nil {
		t.Fatal(err)
	}
	if err := h.db.MarkHubSpotSent(ctx, "lead:77:501", time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	made, err := (&hubspot.Client{BaseURL: h.fake.APIURL(), Token: hubspotToken}).Create(ctx, "notes",
		map[string]string{"hs_timestamp": "2026-12-01T10:00:00.000Z", "hs_note_body": "Touch\n\n(slabotL77E501)"}, contact)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.writer.Write(ctx, ev); err != nil {
		t.Fatal(err)
	}
	notes := h.fake.Objects("notes")
	if len(notes) != 1 || notes[0].ID != made || len(notes[0].Contacts) != 1 {
		t.Fatalf("notes %+v: want only the one made before the crash, now on the contact", notes)
	}
	// And a run after that does nothing at all.
	n := len(h.fake.Requests())
	if err := h.writer.Write(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if len(h.fake.Requests()) != n {
		t.Errorf("a finished write called HubSpot again")
	}
}

func TestALeadFromHubSpotUsesItsRecordAndAnUnknownContactIsNotRetried(t *testing.T) {
	t.Parallel()
	h := newHubSpotLoop(t, hubspotfake.AllScopes...)
	record := h.fake.AddContact("other-address@acme.test", nil)
	ctx := context.Background()
	res, err := h.svc.HandOff(ctx, engine.HandOff{ExternalID: record, OwnerEmail: "ana@example.com",
		CRMURL:  "https://app.hubspot.com/contacts/123456/record/0-1/" + record,
		Contact: engine.Contact{Email: "dana@acme.test"}})
	if err != nil {
		t.Fatal(err)
	}
	unknown := h.handOff(t, "crm-2", "nobody@nowhere.test")
	for _, id := range []int64{res.Lead.ID, unknown.ID} {
		if _, _, err := h.svc.LogTouch(ctx, id, ana, engine.TouchInput{Kind: engine.TouchCall, Origin: "slack"}); err != nil {
			t.Fatal(err)
		}
	}
	h.settled(t)
	calls := h.fake.Objects("calls")
	if len(calls) != 1 || len(calls[0].Contacts) != 1 || calls[0].Contacts[0] != record {
		t.Fatalf("calls %+v: want one, on the HubSpot record the lead came from (%s)", calls, record)
	}
	var failed int
	err = h.db.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'hubspot.write' AND state <> 'completed'`).Scan(&failed)
	if err != nil || failed != 0 {
		t.Errorf("%d HubSpot writes did not complete (%v): an unknown contact is logged, not retried", failed, err)
	}
}

func TestAMissingScopeIsReportedOnceAndNotRetried(t *testing.T) {
	t.Parallel()
	h := newHubSpotLoop(t, hubspotfake.ScopeContactsRead)
	h.fake.AddContact("dana@acme.test", nil)
	ctx := context.Background()
	lead := h.handOff(t, "crm-1", "dana@acme.test")
	for i := 0; i < 3; i++ {
		if _, _, err := h.svc.LogTouch(ctx, lead.ID, ana, engine.TouchInput{Kind: engine.TouchCall, Origin: "slack"}); err != nil {
			t.Fatal(err)
		}
	}
	h.settled(t)
	var alerts int
	var text string
	err := h.db.Pool().QueryRow(ctx, `SELECT count(*), max(args->'args'->>'text') FROM river_job WHERE kind = $1`, engine.JobOpsAlert).Scan(&alerts, &text)
	if err != nil {
		t.Fatal(err)
	}
	// The hand-off's own routing alert is not among them: Ana is a rep.
	if alerts != 1 || !strings.Contains(text, hubspotfake.ScopeContactsWrite) {
		t.Errorf("%d ops alerts, text %q; want one naming %s", alerts, text, hubspotfake.ScopeContactsWrite)
	}
	// It says how to fix a Service Key, and every scope slabot needs.
	for _, want := range append([]string{"Service Keys", "HUBSPOT_TOKEN"}, hubspotfake.AllScopes...) {
		if !strings.Contains(text, want) {
			t.Errorf("the alert does not say %q: %q", want, text)
		}
	}
	var cancelled, attempts int
	err = h.db.Pool().QueryRow(ctx, `SELECT count(*), COALESCE(max(attempt), 0) FROM river_job WHERE kind = 'hubspot.write' AND state = 'cancelled'`).Scan(&cancelled, &attempts)
	if err != nil || cancelled != 3 || attempts != 1 {
		t.Errorf("%d writes given up, at most %d attempts (%v); want 3 given up after 1 attempt each", cancelled, attempts, err)
	}
}

// TestALostAnswerIsLookedForUntilHubSpotsSearchCatchesUp: HubSpot's search
// index trails its writes. After a create whose answer was lost, slabot
// looks again and again over the search schedule; a single look would miss
// the object and make a second one.
func TestALostAnswerIsLookedForUntilHubSpotsSearchCatchesUp(t *testing.T) {
	t.Parallel()
	h := newHubSpotLoop(t, hubspotfake.AllScopes...)
	contact := h.fake.AddContact("dana@acme.test", nil)
	ctx := context.Background()
	lead := h.handOff(t, "crm-lag", "dana@acme.test")
	h.fake.LagSearches(2)
	h.fake.LoseNextCreates(1)
	if _, _, err := h.svc.LogTouch(ctx, lead.ID, ana, engine.TouchInput{Kind: engine.TouchEmail, Origin: "slack"}); err != nil {
		t.Fatal(err)
	}
	h.settled(t)
	emails := h.fake.Objects("emails")
	if len(emails) != 1 {
		t.Fatalf("HubSpot has %d emails, want exactly one", len(emails))
	}
	if len(emails[0].Contacts) != 1 || emails[0].Contacts[0] != contact {
		t.Errorf("the email is on contacts %v, want %s (associated as it was created)", emails[0].Contacts, contact)
	}
	var searches, creates, puts int
	for _, r := range h.fake.Requests() {
		switch {
		case r.Method == "POST" && strings.HasSuffix(r.Path, "/emails/search"):
			searches++
		case r.Method == "POST" && strings.HasSuffix(r.Path, "/objects/emails"):
			creates++
		case r.Method == "PUT":
			puts++
		}
	}
	if creates != 1 || searches != 3 || puts != 0 {
		t.Errorf("%d creates, %d searches, %d association calls; want 1 create found on the third search, no separate association", creates, searches, puts)
	}
}

// TestLockedAndMigratingPortalsAreWaitedOutAsHubSpotAsks: 423 and 477 carry
// Retry-After; the write waits that long and still makes one object.
func TestLockedAndMigratingPortalsAreWaitedOutAsHubSpotAsks(t *testing.T) {
	t.Parallel()
	h := newHubSpotLoop(t, hubspotfake.AllScopes...)
	contact := h.fake.AddContact("dana@acme.test", nil)
	ctx := context.Background()
	ev := engine.CRMEventArgs{Type: engine.CRMTouchLogged, Subject: "lead:88", EventID: 601, LeadID: 88, At: time.Now(),
		ContactEmail: "dana@acme.test", Data: map[string]any{"kind": "meeting", "by": "ana@example.com", "origin": "chat"}}
	for _, c := range []struct {
		status int
		after  string
		want   time.Duration
	}{{423, "3", 3 * time.Second}, {477, "45", 45 * time.Second}} {
		// The contact search is the first call: it meets the failure.
		h.fake.FailNextWith(1, c.status, c.after)
		err := h.writer.Write(ctx, ev)
		var re *engine.RetryError
		if !errors.As(err, &re) || re.After != c.want {
			t.Fatalf("after a %d with Retry-After %s: %v; want a retry in %s", c.status, c.after, err, c.want)
		}
	}
	h.fake.FailNextWith(1, 429, "")
	if err := h.writer.Write(ctx, ev); err == nil || engine.IsDropped(err) || errors.As(err, new(*engine.RetryError)) {
		t.Fatalf("a 429 without Retry-After: %v; want an ordinary error for the queue's backoff", err)
	}
	if err := h.writer.Write(ctx, ev); err != nil {
		t.Fatal(err)
	}
	meetings := h.fake.Objects("meetings")
	if len(meetings) != 1 || len(meetings[0].Contacts) != 1 || meetings[0].Contacts[0] != contact {
		t.Fatalf("meetings %+v: want one, on the contact", meetings)
	}
}
