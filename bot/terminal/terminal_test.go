package terminal

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/bot/view"
)

func TestAMessageIsPrintedAsItIsWithoutMarkup(t *testing.T) {
	m := view.Message{Summary: "Review", Blocks: []view.Block{
		view.Heading{Text: "Review of the agreement"},
		view.Section{Lines: []view.Text{
			view.T(view.Alarm, " ", view.B("Marketing:"), " MQLs missed 3 months running"),
			view.T("The report is posted at ", view.C("0 9 * * 1"), " (*cron*, _as typed_)"),
			view.T("See ", view.Link("the CRM", "https://crm.example/x"), " or ", view.Link("https://a.example", "https://a.example")),
		}},
		view.Table{Columns: []string{"Month", "On time"}, Rows: [][]view.Text{
			{view.T("2026-09"), view.T(view.OnTarget, " 80%")},
			{view.T("2026-10"), view.T("7%")},
		}},
		view.Divider{},
		view.Image{Alt: "MQLs by week", PNG: []byte{1}},
		view.Actions{Controls: []view.Control{view.Button{Label: "Acknowledge"}, view.Choice{Placeholder: "Snooze"}}},
		view.Context{Lines: []view.Text{view.T(view.I("Counted from slabot's records."))}},
	}}
	want := `Review of the agreement
=======================

🚨 Marketing: MQLs missed 3 months running
The report is posted at 0 9 * * 1 (*cron*, _as typed_)
See the CRM (https://crm.example/x) or https://a.example

Month    On time
2026-09  🟢 80%
2026-10  7%

---

[picture: MQLs by week]

[Acknowledge] [Snooze ▾]

Counted from slabot's records.
`
	if diff := cmp.Diff(want, Render(m)); diff != "" {
		t.Errorf("Render (-want +got):\n%s", diff)
	}
}

func TestAMessageWithoutBlocksIsItsSummary(t *testing.T) {
	if got := Render(view.Message{Summary: "Nothing to report."}); got != "Nothing to report.\n" {
		t.Errorf("Render = %q", got)
	}
}
