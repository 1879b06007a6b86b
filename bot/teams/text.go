package teams

import (
	"fmt"
	"html"
	"regexp"
	"strings"

	"github.com/slabot/slabot/bot"
)

var (
	mentionPattern = regexp.MustCompile(`(?is)<at[^>]*>.*?</at>`)
	tagPattern     = regexp.MustCompile(`(?s)<[^>]+>`)
	spacePattern   = regexp.MustCompile(`\s+`)
)

// CommandText turns the text of a message to the bot into the text the
// /sla command takes: <at>…</at> mentions removed, HTML tags and entities
// undone, marks of the core's person token scrubbed (only an adapter
// makes one: see App.withPeople), white space collapsed, and a leading
// "/sla" or "sla" word dropped. "<at>slabot</at> /sla status team week" → "status team week".
func CommandText(text string) string {
	text = mentionPattern.ReplaceAllString(text, " ")
	text = tagPattern.ReplaceAllString(text, " ")
	text = bot.ScrubPersonTokens(html.UnescapeString(text))
	text = strings.ReplaceAll(text, "\u00a0", " ")
	text = strings.TrimSpace(spacePattern.ReplaceAllString(text, " "))
	first, rest, _ := strings.Cut(text, " ")
	if strings.EqualFold(first, "/sla") || strings.EqualFold(first, "sla") {
		return strings.TrimSpace(rest)
	}
	return text
}

// Mention is a person a message mentions: their Teams id (the mention
// entity's mentioned.id, a 29: id) and the name Teams showed.
type Mention struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// mentionMarker stands for the i-th person mentioned in a command's text
// until the person is known; characters of Unicode's private use area,
// which nobody types.
func mentionMarker(i int) string { return fmt.Sprintf("\ue000%d\ue001", i) }

// MentionsAsPeople puts the core's person token (bot.PersonToken) in the
// place of each marker CommandWithMentions left: the person's user id on
// Teams (userIDs[i], their Entra object id) and the name Teams showed.
func MentionsAsPeople(text string, mentions []Mention, userIDs []string) string {
	for i, m := range mentions {
		text = strings.ReplaceAll(text, mentionMarker(i), bot.PersonToken(userIDs[i], m.Name))
	}
	return text
}

// CommandWithMentions is CommandText for a message that may mention
// people: Teams writes a mention as <at>Bo Chen</at> in the text and names
// the person in a mention entity whose text is that same tag
// (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/channel-and-group-conversations,
// "Work with mentions"). The mention of the bot itself (botID) is
// dropped; each other mention with its entity becomes a marker, and the
// person it names is returned in order. A tag without an entity is
// dropped, as CommandText does.
func CommandWithMentions(act *Activity, botID string) (string, []Mention) {
	used := make([]bool, len(act.Entities))
	var mentions []Mention
	text := mentionPattern.ReplaceAllStringFunc(act.Text, func(tag string) string {
		for i, e := range act.Entities {
			if used[i] || !strings.EqualFold(e.Type, "mention") || e.Mentioned == nil || e.Text != tag {
				continue
			}
			used[i] = true
			if e.Mentioned.ID == "" || e.Mentioned.ID == botID {
				return " "
			}
			name := strings.TrimSpace(html.UnescapeString(tagPattern.ReplaceAllString(tag, "")))
			mentions = append(mentions, Mention{ID: e.Mentioned.ID, Name: name})
			return " " + mentionMarker(len(mentions)-1) + " "
		}
		return " "
	})
	return CommandText(text), mentions
}
