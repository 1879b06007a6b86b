package teams_test

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"strings"
	"testing"

	"github.com/slabot/slabot/bot/teams/teamsfake"
)

// /sla sources and /sla speed typed to slabot in Teams: the same answers
// as on Slack, the speed chart beside the card as a PNG within 1024 px,
// and a rep refused.
func TestScorecardCommandsOnTeams(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	onTime := e.handOff(demoLead("crm-sc-1"))
	e.click(ana, e.card(ana, onTime), "lead.touch", map[string]any{"touch_kind": "call"})
	webinar := demoLead("crm-sc-2")
	webinar.Source, webinar.OwnerEmail = "webinar", bo
	e.card(bo, e.handOff(webinar))

	// answer types to slabot and returns its answer, whose summary holds
	// prefix: the home card may land in the same chat meanwhile.
	answer := func(email, typed, prefix string) teamsfake.Activity {
		t.Helper()
		conv := e.fake.PersonalConversation(email)
		before := len(e.fake.Activities(conv))
		resp, err := e.fake.Type(ctxTimeout(t, waitLimit), email, typed)
		if err != nil || resp.Status/100 != 2 {
			t.Fatalf("%s typing %q: %v %+v", email, typed, err, resp)
		}
		var found *teamsfake.Activity
		e.waitFor("the answer to "+typed, func() bool {
			recs := e.fake.Activities(conv)
			for i := before; i < len(recs); i++ {
				if strings.Contains(recs[i].Activity.Summary, prefix) {
					found = &recs[i].Activity
					return true
				}
			}
			return false
		})
		return *found
	}
	cardText := func(a teamsfake.Activity) string {
		cards := a.Cards()
		if len(cards) == 0 {
			t.Fatalf("an answer without a card: %+v", a)
		}
		return text(cards[0])
	}

	sources := cardText(answer(maria, "sla sources", "Scorecard by source"))
	mustSay(t, "maria's sources", sources, "Scorecard by source:", "demo_request", "webinar", "All leads", "2 SQLs", "on time 100% (1 of 1)")

	speed := answer(maria, "<at>slabot</at> speed pooled", "Speed to lead")
	mustSay(t, "maria's speed", cardText(speed), "Speed to lead:", "All rules pooled", "too few to judge")
	images := 0
	for _, att := range speed.Attachments {
		if att.ContentType != "image/png" {
			continue
		}
		images++
		data, ok := strings.CutPrefix(att.ContentURL, "data:image/png;base64,")
		if !ok {
			t.Fatalf("the chart is not a PNG data: URL: %.60s", att.ContentURL)
		}
		raw, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() > 1024 || len(att.ContentURL) > 60*1024 {
			t.Errorf("the chart is %d px wide, %d bytes as a data: URL", img.Bounds().Dx(), len(att.ContentURL))
		}
	}
	if images != 1 {
		t.Errorf("%d charts beside the speed answer, want 1", images)
	}

	mustSay(t, "ana's sources", cardText(answer(ana, "sources", "The scorecard is for")), "for the managers who own the agreement")
}
