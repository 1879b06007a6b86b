package slack

import (
	"testing"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot/view"
)

func TestATableIsAListTitledByItsFirstColumn(t *testing.T) {
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
	got := Lines(tableLines(view.Table{Rows: [][]view.Text{{view.T("a"), view.T("1")}}}))
	if want := "• a: 1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestALongTableStaysWithinASection(t *testing.T) {
	var rows [][]view.Text
	for range 500 {
		rows = append(rows, []view.Text{view.T(view.B("someone@example.com")), view.T("100% on time")})
	}
	blocks, _ := Blocks(view.Message{Blocks: []view.Block{view.Table{Columns: []string{"By rep"}, Rows: rows}}})
	if n := len(blocks[0].(*slack.SectionBlock).Text.Text); n > MaxSectionText {
		t.Errorf("a section of %d bytes", n)
	}
}
