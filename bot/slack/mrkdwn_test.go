package slack

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/slabot/slabot/bot/view"
)

func TestMrkdwnEscapesWhatPeopleTypedAndStylesTheRest(t *testing.T) {
	t.Parallel()
	got := Mrkdwn(view.T(view.Alarm, " ", view.B("<@U1> & co"), " said ", view.I("hi"), ", type ", view.C("/sla help"),
		" or see ", view.Link("the <CRM>", "https://crm.example/1")))
	want := ":rotating_light: *&lt;@U1&gt; &amp; co* said _hi_, type `/sla help` or see <https://crm.example/1|the &lt;CRM&gt;>"
	if got != want {
		t.Errorf("mrkdwn\n got %q\nwant %q", got, want)
	}
}

func TestEveryMarkerHasAnEmoji(t *testing.T) {
	t.Parallel()
	for _, m := range view.Markers {
		if e := markers[m]; !strings.HasPrefix(e, ":") || !strings.HasSuffix(e, ":") {
			t.Errorf("marker %q renders as %q; want an emoji shortcode", m, e)
		}
	}
}

func TestBlocksKeepWithinSlackLimits(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 4000)
	blocks, fallback := Blocks(view.Message{Summary: long, Blocks: []view.Block{
		view.Heading{Text: long},
		view.Section{Lines: []view.Text{view.T(long)}},
		view.Actions{ID: "lead:1", Controls: []view.Control{
			view.Button{Action: "a", Value: "1", Label: long},
			view.Button{Action: "b", Value: "1", Label: "CRM", URL: "https://x/" + long},
		}},
		view.Image{PNG: []byte{1}, Alt: "chart"},
	}})
	if len(fallback) > MaxFallback {
		t.Errorf("fallback of %d bytes", len(fallback))
	}
	if len(blocks) != 3 {
		t.Fatalf("%d blocks; want heading, section and actions (the image is uploaded apart)", len(blocks))
	}
	raw := renderJSON(t, blocks)
	if strings.Contains(raw, "https://x/") {
		t.Error("a button with an over-long link was kept; Slack refuses the whole message for it")
	}
}

func renderJSON(t *testing.T, blocks any) string {
	t.Helper()
	b, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
