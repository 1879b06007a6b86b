package teamsfake

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
)

// Click presses the Action.Execute button with verb on a card the bot
// sent (activityID in conversationID), as the person, with inputs as the
// values of the card's inputs. It sends the adaptiveCard/action invoke and
// returns the bot's answer; a redrawn card becomes what the person sees
// (CardFor). In a 1:1 chat only its person can click.
func (s *Server) Click(ctx context.Context, email, conversationID, activityID, verb string, inputs map[string]any) (*InvokeResult, error) {
	return s.ClickRow(ctx, email, conversationID, activityID, verb, "", inputs)
}

// ClickRow is Click on the Action.Execute with verb whose data names the
// row (its "row" member), for a card with a row of controls per item;
// an empty row takes the first button with the verb.
func (s *Server) ClickRow(ctx context.Context, email, conversationID, activityID, verb, row string, inputs map[string]any) (*InvokeResult, error) {
	s.mu.Lock()
	c := s.conversation[conversationID]
	p := s.people[key(email)]
	if c == nil || p == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("teamsfake: no conversation %q or person %q", conversationID, email)
	}
	if c.kind == "personal" && key(c.email) != key(email) {
		s.mu.Unlock()
		return nil, fmt.Errorf("teamsfake: %s cannot see the 1:1 chat of %s", email, c.email)
	}
	card, found := s.cardForLocked(c, email, activityID)
	if !found {
		s.mu.Unlock()
		return nil, fmt.Errorf("teamsfake: no card activity %q in %q", activityID, conversationID)
	}
	action := findExecuteInRow(card, verb, row)
	if action == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("teamsfake: the card has no Action.Execute with verb %q (row %q)", verb, row)
	}
	data := map[string]any{}
	if d, ok := action["data"].(map[string]any); ok {
		maps.Copy(data, d)
	}
	maps.Copy(data, inputs)
	value := map[string]any{
		"action":  map[string]any{"type": "Action.Execute", "id": action["id"], "verb": verb, "data": data},
		"trigger": "manual",
	}
	var a Activity
	if c.kind == "personal" {
		s.mu.Unlock()
		var err error
		if a, err = s.personActivity(email, "invoke"); err != nil {
			return nil, err
		}
	} else {
		a = s.channelActivityLocked(p, s.teams[c.teamID], conversationID, "invoke")
		s.mu.Unlock()
	}
	a.Name, a.ReplyToID, a.Value = "adaptiveCard/action", activityID, mustJSON(value)
	resp, err := s.Send(ctx, a)
	if err != nil {
		return nil, err
	}
	result := &InvokeResult{HTTPStatus: resp.Status, Body: resp.Body}
	if resp.Status != http.StatusOK || len(resp.Body) == 0 {
		return result, nil
	}
	var body struct {
		StatusCode int             `json:"statusCode"`
		Type       string          `json:"type"`
		Value      json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		return result, fmt.Errorf("teamsfake: the bot's invoke answer is not JSON: %w", err)
	}
	result.StatusCode, result.Type = body.StatusCode, body.Type
	switch body.Type {
	case "application/vnd.microsoft.card.adaptive":
		if err := json.Unmarshal(body.Value, &result.Card); err != nil {
			return result, fmt.Errorf("teamsfake: invoke answer card: %w", err)
		}
		if dups := duplicateInputIDs(result.Card); len(dups) > 0 {
			return result, fmt.Errorf("teamsfake: the redrawn card has more than one input with the id %s", strings.Join(dups, ", "))
		}
		s.mu.Lock()
		c.views[key(email)+"\x00"+activityID] = result.Card
		s.notifyLocked()
		s.mu.Unlock()
	case "application/vnd.microsoft.activity.message":
		_ = json.Unmarshal(body.Value, &result.Message)
	}
	return result, nil
}

// ClickLast clicks verb on the newest card in the person's 1:1 chat that
// shows it to them.
func (s *Server) ClickLast(ctx context.Context, email, verb string, inputs map[string]any) (*InvokeResult, error) {
	conv := s.PersonalConversation(email)
	recs := s.Activities(conv)
	for i := len(recs) - 1; i >= 0; i-- {
		card, ok := s.CardFor(email, conv, recs[i].Activity.ID)
		if ok && findExecute(card, verb) != nil {
			return s.Click(ctx, email, conv, recs[i].Activity.ID, verb, inputs)
		}
	}
	return nil, fmt.Errorf("teamsfake: no card with verb %q in the 1:1 chat of %s", verb, email)
}

// cardForLocked is the card the person sees for an activity: their
// invoke-answer view if any, else the posted card.
func (s *Server) cardForLocked(c *conversation, email, activityID string) (Card, bool) {
	if v, ok := c.views[key(email)+"\x00"+activityID]; ok {
		return v, true
	}
	for _, rec := range c.activities {
		if rec.Activity.ID == activityID {
			if cards := rec.Activity.Cards(); len(cards) > 0 {
				return cards[0], true
			}
		}
	}
	return nil, false
}

// CardFor returns the card the person sees for the activity.
func (s *Server) CardFor(email, conversationID, activityID string) (Card, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conversation[conversationID]
	if c == nil {
		return nil, false
	}
	return s.cardForLocked(c, email, activityID)
}

// findExecute finds the Action.Execute with the verb anywhere in the card
// (actions, action sets, containers, columns, show-card forms).
func findExecute(node any, verb string) map[string]any { return findExecuteInRow(node, verb, "") }

// findExecuteInRow is findExecute for the button whose data's row is row
// (any row when empty), searched in the order the card shows them.
func findExecuteInRow(node any, verb, row string) map[string]any {
	switch v := node.(type) {
	case map[string]any:
		if v["type"] == "Action.Execute" && v["verb"] == verb {
			data, _ := v["data"].(map[string]any)
			if row == "" || (data != nil && data["row"] == row) {
				return v
			}
		}
		for _, k := range cardChildKeys {
			if found := findExecuteInRow(v[k], verb, row); found != nil {
				return found
			}
		}
	case []any:
		for _, child := range v {
			if found := findExecuteInRow(child, verb, row); found != nil {
				return found
			}
		}
	}
	return nil
}
