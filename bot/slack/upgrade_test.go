package slack_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

// releaseOneSchema is the last migration of the release that wrote
// testdata/release-1.json (see fixture_gen_test.go).
const releaseOneSchema = 6

// loadRelease puts a frozen release's rows into a database at that
// release's schema, and returns the Slack messages it had posted.
func loadRelease(t *testing.T, db *storage.DB, file string, schema int) []slackfake.Message {
	t.Helper()
	ctx := context.Background()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var fixture map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fixture); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MigrateTo(ctx, schema); err != nil {
		t.Fatal(err)
	}
	// The release's waiting timers (river_job) are left out: they were due
	// minutes after the fixture was written, and would breach the leads
	// whenever the test runs. storage's upgrade tests cover queued jobs.
	for _, table := range []string{"teams", "reps", "leads", "lead_aliases", "touches", "lead_events", "mqls",
		"lead_messages", "scheduled_runs", "rep_events"} {
		// Generated columns (a lead's contact_email) are computed, not loaded.
		var cols string
		if err := db.Pool().QueryRow(ctx, `SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
			FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER'`,
			table).Scan(&cols); err != nil {
			t.Fatalf("columns of %s: %v", table, err)
		}
		if _, err := db.Pool().Exec(ctx, `INSERT INTO `+table+` (`+cols+`) SELECT `+cols+`
			FROM json_populate_recordset(NULL::`+table+`, $1)`, string(fixture[table])); err != nil {
			t.Fatalf("load %s: %v", table, err)
		}
		var serial bool
		if err := db.Pool().QueryRow(ctx, `SELECT pg_get_serial_sequence($1, 'id') IS NOT NULL
			FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'id'`,
			table).Scan(&serial); err == nil && serial {
			if _, err := db.Pool().Exec(ctx, `SELECT setval(pg_get_serial_sequence('`+table+`', 'id'),
				GREATEST((SELECT max(id) FROM `+table+`), 1))`); err != nil {
				t.Fatalf("sequence of %s: %v", table, err)
			}
		}
	}
	var msgs []slackfake.Message
	if err := json.Unmarshal(fixture["slack_messages"], &msgs); err != nil {
		t.Fatal(err)
	}
	return msgs
}

// TestAnUpgradeKeepsLeadsRepsAndCardsWorking migrates a database that the
// previous release wrote (before the chat seam: Slack ids on reps, cards
// referenced by channel and ts) and runs this release on it: the leads,
// reps and card references survive, a button on a card the old release
// posted still works and redraws that card in place, and a new hand-off
// reaches the rep where the old ones did.
func TestAnUpgradeKeepsLeadsRepsAndCardsWorking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	oldCards := loadRelease(t, db, "testdata/release-1.json", releaseOneSchema)
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"ana@example.com", "bo@example.com"} {
		id, err := db.ChatIdentityByEmail(ctx, engine.PlatformSlack, email)
		if err != nil || id.UserID == "" {
			t.Errorf("%s's Slack identity did not survive: %+v, %v", email, id, err)
		}
	}
	anaID, err := db.ChatIdentityByUserID(ctx, engine.PlatformSlack, ana)
	if err != nil || anaID.Email != "ana@example.com" || anaID.TimeZone != "America/New_York" {
		t.Errorf("ana by her Slack id: %+v, %v", anaID, err)
	}
	refs, err := db.LeadMessages(ctx, 1, "card")
	if err != nil || len(refs) != 1 || refs[0].Platform != engine.PlatformSlack ||
		refs[0].Conversation != oldCards[0].Channel || refs[0].MessageID != oldCards[0].TS {
		t.Fatalf("the old card's reference: %+v, %v; want %s/%s on Slack", refs, err, oldCards[0].Channel, oldCards[0].TS)
	}

	fake := newFakeSlack(t)
	fake.RestoreDM(ana, oldCards[0])
	fake.RestoreDM(bo, oldCards[1])
	e := newEnv(t, withDB(db), withFake(fake))
	if l := e.lead(1); l.ExternalID != "crm-release-1" || l.State != engine.StateNotified || l.OwnerEmail != "ana@example.com" {
		t.Fatalf("the waiting lead after the upgrade: %+v", l)
	}
	if l := e.lead(2); l.State != engine.StateAcknowledged {
		t.Fatalf("the acknowledged lead after the upgrade: %s", l.State)
	}
	if _, err := fake.ClickButton(ctxTimeout(t, 10*time.Second), ana, oldCards[0], "lead.ack", ""); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the old card's button to act", func() bool { return e.lead(1).State == engine.StateAcknowledged })
	e.waitCard(oldCards[0], "the old card to be redrawn in place", func(m slackfake.Message) bool {
		return strings.Contains(cardText(m), "Accepted by ana@example.com")
	})

	h := demoLead("crm-after-upgrade")
	h.Contact.Email = "new@initech.test"
	fresh := e.handOff(h)
	card := e.card(ana, fresh)
	if card.Channel != oldCards[0].Channel {
		t.Errorf("the new card went to %s, not ana's DM %s", card.Channel, oldCards[0].Channel)
	}
	// The reps' stored identities serve; a timer of the old release's
	// leads may still look up the manager, who had none stored then.
	for _, c := range fake.Calls("users.lookupByEmail") {
		if email := c.Params.Get("email"); email == "ana@example.com" || email == "bo@example.com" {
			t.Errorf("%s looked up in the directory after the upgrade; the stored identity should have served", email)
		}
	}
}
