package teams_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

// Cards stay within Teams' 80 KB however much a lead or a person's queue
// holds, and still act.

func TestACardWithHugeFieldsStaysWithin80KB(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	// Characters Markdown must escape, so escaping cannot push the card
	// over the limit either.
	long := strings.Repeat("<Ü*_&>", 200)
	h := demoLead("crm-huge")
	h.Contact.Name, h.Contact.Title, h.Company.Name, h.Company.Industry, h.Source = long, long, long, long, long
	h.Context.Form = map[string]string{}
	for i := range 60 {
		h.Context.Form[fmt.Sprintf("Question %02d %s", i, strings.Repeat("*", 200))] = strings.Repeat("<answer> ", 140)
	}
	h.Context.Activity.Pages = nil
	for i := range 200 {
		h.Context.Activity.Pages = append(h.Context.Activity.Pages, fmt.Sprintf("/a/very/long/page/path/number/%d", i))
	}
	l := e.handOff(h)
	post := e.waitPost(e.personal(ana), "", nil)
	checkCardSize(t, post.Activity.Attachments[0].Content)
	mustSay(t, "a huge card", text(post.Activity.Cards()[0]), "…", "more answers in the CRM")
	res := e.click(ana, post, "lead.ack", nil)
	if res.Type != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("the click was answered %s %q", res.Type, res.Message)
	}
	raw, _ := json.Marshal(res.Card)
	checkCardSize(t, raw)
	if e.lead(l.ID).State != engine.StateAcknowledged {
		t.Error("the click did not acknowledge the lead")
	}
}

func TestAHomeCardWithManyLeadsStaysWithin80KB(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	ctx := context.Background()
	now := time.Now()
	err := e.db.InTx(ctx, func(tx engine.Tx) error {
		for i := range 70 {
			assigned := now.Add(-time.Duration(i) * time.Minute)
			l := &engine.Lead{ExternalID: fmt.Sprintf("many-%d", i),
				Contact:    engine.Contact{Name: fmt.Sprintf("Buyer %d %s", i, strings.Repeat("<&>", 60))},
				Company:    engine.Company{Name: strings.Repeat("Big*Co_", 30)},
				OwnerEmail: ana, Team: "sdr-east", Rule: "default", State: engine.StateNotified,
				HandedOffAt: assigned, ReceivedAt: assigned, AssignedAt: assigned, FirstTouchDue: assigned.Add(4 * time.Hour)}
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, ask := range []string{"home", "leads"} {
		card := e.typed(ana, ask)
		raw, _ := json.Marshal(card)
		checkCardSize(t, raw)
		mustSay(t, "the answer to "+ask, text(card), "Your open leads (70)")
	}
}

func checkCardSize(t *testing.T, card []byte) {
	t.Helper()
	if len(card) > 80*1000 {
		t.Errorf("a card of %d bytes; Teams takes at most 80 KB", len(card))
	}
	var c map[string]any
	if err := json.Unmarshal(card, &c); err != nil || c["version"] != "1.5" {
		t.Errorf("the card is not an Adaptive Card 1.5: %v %v", err, c["version"])
	}
}
