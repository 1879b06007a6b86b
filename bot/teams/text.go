package teams

import (
	"html"
	"regexp"
	"strings"
)

var (
	mentionPattern = regexp.MustCompile(`(?is)<at[^>]*>.*?</at>`)
	tagPattern     = regexp.MustCompile(`(?s)<[^>]+>`)
	spacePattern   = regexp.MustCompile(`\s+`)
)

// CommandText turns the text of a message to the bot into the text the
// /sla command takes: <at>…</at> mentions removed, HTML tags and entities
// undone, white space collapsed, and a leading "/sla" or "sla" word
// dropped. "<at>slabot</at> /sla status team week" → "status team week".
func CommandText(text string) string {
	text = mentionPattern.ReplaceAllString(text, " ")
	text = tagPattern.ReplaceAllString(text, " ")
	text = html.UnescapeString(text)
	text = strings.ReplaceAll(text, "\u00a0", " ")
	text = strings.TrimSpace(spacePattern.ReplaceAllString(text, " "))
	first, rest, _ := strings.Cut(text, " ")
	if strings.EqualFold(first, "/sla") || strings.EqualFold(first, "sla") {
		return strings.TrimSpace(rest)
	}
	return text
}
