package bot

import (
	"strings"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/engine"
)

// This file answers /sla policy: the agreement in plain words.

// policyReply is the agreement in plain words, a section per paragraph.
func policyReply(p *engine.Policy) reply {
	summary := p.Summary()
	paras := strings.Split(summary, "\n\n")
	var blocks []slack.Block
	for i, para := range paras {
		if i == 0 {
			blocks = append(blocks, slack.NewHeaderBlock(plain(clip(para, maxHeader))))
			continue
		}
		lines := strings.Split(para, "\n")
		for j, line := range lines {
			line = esc(line)
			if rest, ok := strings.CutPrefix(line, "- "); ok {
				line = "• " + rest
			} else if j == 0 && strings.HasSuffix(line, ":") {
				line = "*" + line + "*"
			}
			lines[j] = line
		}
		for _, chunk := range chunkText(strings.Join(lines, "\n"), maxSectionText) {
			if len(blocks) < maxMessageBlocks {
				blocks = append(blocks, slack.NewSectionBlock(mrkdwn(chunk), nil, nil))
			}
		}
	}
	if p.ReviewBy.IsZero() {
		blocks = append(blocks[:min(len(blocks), maxMessageBlocks-1)], slack.NewContextBlock("", mrkdwn("The agreement sets no review date: add review_by to the policy file.")))
	}
	return reply{Text: firstLine(summary), Blocks: blocks}
}

// chunkText splits text at line ends into pieces of at most n bytes.
func chunkText(text string, n int) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		line = clipBytes(line, n)
		if cur.Len() > 0 && cur.Len()+1+len(line) > n {
			out = append(out, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(line)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
