package slack

import (
	"testing"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot/view"
)

func TestATableIsAListTitledByItsFirstColumn(t *testing.T) {
	t.Parallel()
	table := view.Table{
		Columns: []string{"By rep", "On time", "Open", "Away"},
		Rows: [][]view.Text{
			{view.T(view.B("Ana <a@x>")), view.T("67% on time"), view.T("4 open"), nil},
			{view.T(view.B("Bo")), view.T("100% on time"), view.T("1 open"), view.T(view.Away, " away")},
			{view.T("Cy")},
		},
	}
	blocks, _ := Blocks(view.Message{Blocks: []view.Block{table}})
	if len(blocks) != 1 {
		t.Fatalf("%d blocks, want one section", len(blocks))
	}
	got := blocks[0].(*slack.SectionBlock).Text.Text
	want := "*By rep*\n" +
		"• *Ana &lt;a@x&gt;*: 67% on time · 4 open\n" +
		"• *Bo*: 100% on time · 1 open · :palm_tree: away\n" +
		"• Cy"
	if got != want {
		t.Errorf("the table reads\n%s\nwant\n%s", got, want)
	}
}

func TestATableWithoutHeadersHasNoTitle(t *testing.T) {
	t.Parallel()
	got := Lines(tableLines(view.Table{Rows: [][]view.Text{{view.T("a"), view.T("1")}}}))
	if want := "• a: 1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestALongTableStaysWithinASection(t *testing.T) {
	t.Parallel()
	var rows [][]view.Text
	for range 500 {
		rows = append(rows, []view.Text{view.T(view.B("someone@example.com")), view.T("100% on time")})
	}
	blocks, _ := Blocks(view.Message{Blocks: []view.Block{view.Table{Columns: []string{"By rep"}, Rows: rows}}})
	if n := len(blocks[0].(*slack.SectionBlock).Text.Text); n > MaxSectionText {
		t.Errorf("a section of %d bytes", n)
	}
}

func TestMrkdwnSetsEachSpan(t *testing.T) {
	t.Parallel()
	link := view.Link("Acme & co", "https://crm.example/1")
	boldLink := link
	boldLink.Style = view.Strong
	cases := []struct {
		line view.Text
		want string
	}{
		{view.T(view.Alarm, " ", view.B("First touch overdue"), " — due <now>"), ":rotating_light: *First touch overdue* — due &lt;now&gt;"},
		{view.T(view.I("Returned because:"), " ", view.C("a_b")), "_Returned because:_ `a_b`"},
		{view.T(link, " ", boldLink), "<https://crm.example/1|Acme &amp; co> *<https://crm.example/1|Acme &amp; co>*"},
		{view.T(view.Marker(view.Done)), ":white_check_mark:"},
	}
	for _, c := range cases {
		if got := Mrkdwn(c.line); got != c.want {
			t.Errorf("Mrkdwn = %q, want %q", got, c.want)
		}
	}
}

func TestABoldTitleWithItsMarkerIsOneBoldRun(t *testing.T) {
	t.Parallel()
	if got, want := Mrkdwn(view.Bold(view.Calendar, " October 2026, final figures")), "*:calendar: October 2026, final figures*"; got != want {
		t.Errorf("Mrkdwn = %q, want %q", got, want)
	}
	// Bold spans with a plain one between stay apart; links stay apart.
	if got, want := Mrkdwn(view.T(view.B("a"), view.B("b"), " ", view.B("c"))), "*ab* *c*"; got != want {
		t.Errorf("Mrkdwn = %q, want %q", got, want)
	}
}
