package bot

import (
	"strings"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file answers /sla policy: the agreement in plain words.

// policySectionText is how much text of the agreement a section takes,
// leaving a tenth of a section for the marks and escapes a platform adds.
const policySectionText = maxSectionText * 9 / 10

// policyReply is the agreement in plain words: its first paragraph as the
// title, then a section per paragraph, a long one cut into a few.
func policyReply(p *engine.Policy) reply {
	summary := p.Summary()
	paras := strings.Split(summary, "\n\n")
	blocks := []view.Block{view.Heading{Text: paras[0]}}
	for _, para := range paras[1:] {
		for _, chunk := range chunkLines(policyLines(para), policySectionText) {
			if len(blocks) < maxMessageBlocks {
				blocks = append(blocks, view.Section{Lines: chunk})
			}
		}
	}
	if p.ReviewBy.IsZero() {
		blocks = append(blocks[:min(len(blocks), maxMessageBlocks-1)],
			view.Context{Lines: []view.Text{view.T("The agreement sets no review date: add review_by to the policy file.")}})
	}
	title, _, _ := strings.Cut(summary, "\n")
	return reply{Message: view.Message{Summary: title, Blocks: blocks}}
}

// policyLines sets a paragraph of the agreement's summary: "- " items as
// bullets, and a first line ending in a colon as the paragraph's title.
func policyLines(para string) []view.Text {
	var lines []view.Text
	for i, line := range strings.Split(para, "\n") {
		line = view.ClipBytes(line, maxSectionText)
		switch rest, item := strings.CutPrefix(line, "- "); {
		case item:
			lines = append(lines, view.T("• "+rest))
		case i == 0 && strings.HasSuffix(line, ":"):
			lines = append(lines, view.T(view.B(line)))
		default:
			lines = append(lines, view.T(line))
		}
	}
	return lines
}

// chunkLines splits lines into runs of at most n bytes of text each, a
// line's end included, so each run fits a section.
func chunkLines(lines []view.Text, n int) [][]view.Text {
	var out [][]view.Text
	var cur []view.Text
	size := 0
	for _, line := range lines {
		l := len(line.Plain())
		if len(cur) > 0 && size+1+l > n {
			out = append(out, cur)
			cur, size = nil, 0
		}
		if len(cur) > 0 {
			size++
		}
		cur = append(cur, line)
		size += l
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
