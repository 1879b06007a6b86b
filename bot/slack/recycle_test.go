package slack_test

import (
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

// recyclePolicy sends returning contacts back to their previous owner. Bo
// comes first in the round robin, so a lead that reaches Ana without
// naming her went there because she had the contact before.
const recyclePolicy = `
timezone: UTC
report:
  channel: "#smarketing"
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [bo@example.com, ana@example.com]
rules:
  - name: default
    first_touch: 4h
recycle: {route_to: previous_owner, within: 180d}
`

// recycleEnv is the bot with the recycle policy and a #smarketing channel.
func recycleEnv(t *testing.T) *env {
	fake := newFakeSlack(t)
	fake.AddChannel("C0SMK", "smarketing")
	return newEnv(t, withFake(fake), withPolicy(recyclePolicy))
}

func TestAReturningContactWhosePreviousOwnerIsAwayIsRoutedAsUsualAndTheCardSaysWhy(t *testing.T) {
	t.Parallel()
	e := recycleEnv(t)
	ctx := ctxTimeout(t, 30*time.Second)
	first := e.handOff(demoLead("crm-away"))
	if _, err := e.service.ReturnNotNow(ctx, first.ID, engine.Actor{Email: "ana@example.com"}, e.service.Now().AddDate(0, 1, 0).Format(time.DateOnly), ""); err != nil {
		t.Fatal(err)
	}
	until := e.service.Now().Add(10 * 24 * time.Hour)
	if _, err := e.service.SetAvailability(ctx, engine.Actor{Email: "ana@example.com"}, "ana@example.com", true, until); err != nil {
		t.Fatal(err)
	}
	again := demoLead("crm-away-2")
	again.OwnerEmail, again.Contact.Email = "", first.Contact.Email
	res, err := e.service.HandOff(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if res.Lead.OwnerEmail != "bo@example.com" {
		t.Fatalf("with Ana away the returning contact went to %q, want bo@example.com by the round robin", res.Lead.OwnerEmail)
	}
	text := cardText(e.card(bo, res.Lead))
	want := "Not sent back to its previous owner: ana@example.com is away until " + until.UTC().Format("Jan 2") + ", so it was routed as usual."
	if !strings.Contains(text, want) || !strings.Contains(text, "Seen before") {
		t.Errorf("the card does not say %q:\n%s", want, text)
	}
}
