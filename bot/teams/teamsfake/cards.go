package teamsfake

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// InputIDs returns the id of every input in the card (Input.Text,
// Input.ChoiceSet…, in show-card forms too), in order.
func InputIDs(card Card) []string {
	var ids []string
	var walk func(any)
	walk = func(node any) {
		switch v := node.(type) {
		case map[string]any:
			if typ, _ := v["type"].(string); strings.HasPrefix(typ, "Input.") {
				id, _ := v["id"].(string)
				ids = append(ids, id)
			}
			for _, child := range v {
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(card)
	return ids
}

// duplicateInputIDs lists the input ids a card uses more than once.
// Adaptive Cards require an input's id to be a "Unique identifier for the
// value. Used to identify collected input when the Submit action is
// performed" (https://adaptivecards.io/explorer/Input.Text.html): with two
// inputs of one id, a submit cannot tell whose value it carries.
func duplicateInputIDs(card Card) []string {
	seen := map[string]int{}
	var dups []string
	for _, id := range InputIDs(card) {
		seen[id]++
		if seen[id] == 2 {
			dups = append(dups, id)
		}
	}
	slices.Sort(dups)
	return dups
}

// checkCards answers 400 for an activity whose card has duplicate input
// ids. Microsoft documents no server-side check of a card's inputs; the
// fake is stricter so that a test proves a card's ids unique. The answer
// takes the connector's form for an invalid payload ("400 BadArgument:
// Invalid request payload provided by the bot",
// https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/conversation-messages#status-codes-from-bot-conversational-apis).
func checkCards(w http.ResponseWriter, a *Activity) bool {
	for _, card := range a.Cards() {
		if dups := duplicateInputIDs(card); len(dups) > 0 {
			writeError(w, http.StatusBadRequest, "BadArgument", fmt.Sprintf("the Adaptive Card has more than one input with the id %s", strings.Join(dups, ", ")))
			return false
		}
	}
	return true
}
