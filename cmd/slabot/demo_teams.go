package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/bot/teams/teamsfake"
)

// teamsDemo plays the demo on the Microsoft Teams simulator: a tenant
// with the demo's people (Chen has not installed slabot: it installs
// itself for him when he is first sent a lead) and a team "Sales" whose
// channels the policy names.
type teamsDemo struct {
	d     *demo // prints what slabot answers a click
	fake  *teamsfake.Server
	team  teamsfake.Team
	names map[string]string // conversation id → how to call it
}

func newTeamsDemo() *teamsDemo {
	t := &teamsDemo{fake: teamsfake.New(teamsfake.Options{}), names: map[string]string{}}
	for _, p := range demoPeople {
		t.fake.AddPerson(teamsfake.Person{Email: p.Email, Name: p.Name, TimeZone: p.TZ, Installed: p.ID != "U0CHEN"})
	}
	t.team = t.fake.AddTeam("Sales", "Smarketing", "Sales ops")
	for _, ch := range t.team.Channels {
		name := ch.Name
		if name == "" {
			name = "General"
		}
		t.names[ch.ID] = "Sales/" + name
	}
	return t
}

func (t *teamsDemo) describe() (string, string) {
	return "a Microsoft Teams simulator", "Teams reaches it at POST /api/messages with signed tokens"
}

func (t *teamsDemo) channels() (string, string) { return "Sales/Smarketing", "Sales/Sales ops" }

func (t *teamsDemo) configure(cfg *Config) {
	cfg.Chat = "teams"
	cfg.Teams = teams.Config{AppID: t.fake.AppID(), AppPassword: t.fake.AppPassword(), TenantID: t.fake.TenantID(),
		OpenIDMetadataURL: t.fake.OpenIDMetadataURL(), LoginURL: t.fake.LoginURL(), GraphURL: t.fake.GraphURL(),
		ServiceURL: t.fake.ServiceURL(), ServiceURLHosts: t.fake.ServiceURLHosts()}
}

// connect points the simulator at slabot's endpoint, adds slabot to the
// team (it learns the channels) and has everyone but Chen install it.
func (t *teamsDemo) connect(ctx context.Context, app *App) error {
	t.fake.SetBotEndpoint("http://" + app.Addr() + "/api/messages")
	if _, err := t.fake.AddBotToTeam(ctx, t.team.ID, "maria@example.com"); err != nil {
		return fmt.Errorf("adding slabot to the Sales team: %w", err)
	}
	for _, p := range demoPeople {
		if p.ID == "U0CHEN" {
			continue
		}
		if _, err := t.fake.Install(ctx, p.Email); err != nil {
			return fmt.Errorf("installing slabot for %s: %w", p.Name, err)
		}
	}
	return nil
}

func (t *teamsDemo) close() { t.fake.Close() }

// card finds the newest card about a lead in a person's 1:1 chat that
// has a button with verb.
func (t *teamsDemo) card(ctx context.Context, owner demoPerson, leadID int64, verb string) (conv, activityID string, err error) {
	conv = t.fake.PersonalConversation(owner.Email)
	row := fmt.Sprintf(`"row":"lead:%d"`, leadID)
	// The cards go out paced, behind the story's other posts: on a busy
	// machine one may take a while.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		recs := t.fake.Activities(conv)
		for i := len(recs) - 1; i >= 0; i-- {
			a := recs[i].Activity
			card, ok := t.fake.CardFor(owner.Email, conv, a.ID)
			if !ok || !strings.Contains(cardJSON(card), row) || !hasVerb(card, verb) {
				continue
			}
			return conv, a.ID, nil
		}
		select {
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return "", "", fmt.Errorf("no card of lead %d with %s in %s's chat", leadID, verb, owner.Name)
}

func (t *teamsDemo) press(ctx context.Context, who, owner demoPerson, leadID int64, action, value string) error {
	if who.Email != owner.Email {
		// On Teams a 1:1 chat is its person's alone: nobody else can press
		// the card in it.
		if t.d != nil {
			t.d.say("  (on Teams %s cannot see %s's chat, so there is nothing to press: the card is safe)", who.Name, owner.Name)
		}
		return nil
	}
	conv, id, err := t.card(ctx, owner, leadID, action)
	if err != nil {
		return err
	}
	inputs := map[string]any{}
	if value != "" {
		inputs[teams.InputTouchKind] = value
	}
	res, err := t.fake.Click(ctx, who.Email, conv, id, action, inputs)
	if err != nil {
		return err
	}
	return t.answered(who, res)
}

func (t *teamsDemo) fill(ctx context.Context, person demoPerson, leadID int64, action string, submissions ...map[string]string) error {
	conv, id, err := t.card(ctx, person, leadID, action)
	if err != nil {
		return err
	}
	for _, values := range submissions {
		inputs := map[string]any{}
		for k, v := range values {
			inputs[k] = v
		}
		res, err := t.fake.Click(ctx, person.Email, conv, id, action, inputs)
		if err != nil {
			return err
		}
		if err := t.answered(person, res); err != nil {
			return err
		}
	}
	return nil
}

// answered prints a click's answer when it is a message (a refusal, a
// form to fix): a redrawn card shows in the chat the watcher prints.
func (t *teamsDemo) answered(who demoPerson, res *teamsfake.InvokeResult) error {
	if res.HTTPStatus != 200 {
		return fmt.Errorf("the click answered HTTP %d: %s", res.HTTPStatus, res.Body)
	}
	if res.Message != "" && t.d != nil {
		t.d.post("answers", who.Name+" on the card", "    │ "+strings.ReplaceAll(res.Message, "**", "")+"\n")
	}
	return nil
}

func (t *teamsDemo) command(ctx context.Context, person demoPerson, text string) error {
	_, err := t.fake.Type(ctx, person.Email, "sla "+text)
	return err
}

// watch prints every activity slabot posts or updates, as its reader
// would see the card in Teams.
func (t *teamsDemo) watch(ctx context.Context, d *demo) {
	seen := map[string]int{}
	charts := map[string]bool{}
	poll(ctx, 50*time.Millisecond, func() {
		var recs []teamsfake.Recorded
		for _, conv := range t.fake.Conversations() {
			recs = append(recs, t.fake.Activities(conv)...)
		}
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].At.Before(recs[j].At) })
		for _, r := range recs {
			key := r.ConversationID + "/" + r.Activity.ID
			updates, known := seen[key]
			if known && updates == len(r.Updates) {
				continue
			}
			seen[key] = len(r.Updates)
			t.show(d, r, known)
			for _, att := range r.Activity.Attachments {
				if att.ContentType == "image/png" && !charts[key] {
					if png, ok := strings.CutPrefix(att.ContentURL, "data:image/png;base64,"); ok {
						if b, err := base64.StdEncoding.DecodeString(png); err == nil {
							charts[key] = true
							d.saveChart(att.Name, b, "came with the report")
						}
					}
				}
			}
		}
	})
}

func (t *teamsDemo) show(d *demo, r teamsfake.Recorded, update bool) {
	where := t.names[r.ConversationID]
	if where == "" {
		// A 1:1 chat opens when slabot first writes to someone.
		where = r.ConversationID
		for _, p := range demoPeople {
			if t.fake.PersonalConversation(p.Email) == r.ConversationID {
				where = p.Name + "'s chat"
				t.names[r.ConversationID] = where
			}
		}
	}
	verb := "posts to"
	if update {
		verb = "updates a card in"
	}
	var lines []string
	for _, card := range r.Activity.Cards() {
		lines = append(lines, cardLines(card)...)
	}
	if len(lines) == 0 && r.Activity.Text != "" {
		lines = append(lines, r.Activity.Text)
	}
	if update && len(lines) > 4 {
		// An update repeats the card: show its top (what is due) and its
		// small print (who did what), not the lead's details again.
		kept := lines[:3]
		for _, l := range lines[3:] {
			if strings.HasPrefix(l, subtleMark) {
				kept = append(kept, l)
			}
		}
		lines = append(kept, "…")
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("    │ " + strings.TrimPrefix(l, subtleMark) + "\n")
	}
	d.post(verb, where, b.String())
}

// cardLines is a card as a person reads it: its texts (a table's cells of
// a row on one line), then its buttons; the forms behind buttons stay
// closed.
func cardLines(card teamsfake.Card) []string {
	var lines []string
	var walk func(node any)
	walk = func(node any) {
		switch v := node.(type) {
		case []any:
			for _, child := range v {
				walk(child)
			}
		case map[string]any:
			switch v["type"] {
			case "TextBlock":
				if text, _ := v["text"].(string); text != "" {
					if subtle, _ := v["isSubtle"].(bool); subtle {
						text = subtleMark + text // small print: what happened so far
					}
					lines = append(lines, strings.ReplaceAll(text, "**", ""))
				}
				return
			case "Table":
				rows, _ := v["rows"].([]any)
				for _, row := range rows {
					var cells []string
					for _, cell := range row.(map[string]any)["cells"].([]any) {
						before := len(lines)
						walk(cell.(map[string]any)["items"])
						cells = append(cells, strings.Join(lines[before:], " "))
						lines = lines[:before]
					}
					lines = append(lines, strings.TrimSpace(strings.Join(cells, " · ")))
				}
				return
			}
			for _, k := range []string{"body", "items", "columns"} {
				walk(v[k])
			}
		}
	}
	walk(card)
	var buttons []string
	actions, _ := card["actions"].([]any)
	for _, a := range actions {
		if title, _ := a.(map[string]any)["title"].(string); title != "" {
			buttons = append(buttons, "[ "+title+" ]")
		}
	}
	if len(buttons) > 0 {
		lines = append(lines, strings.Join(buttons, " "))
	}
	return lines
}

// subtleMark tags a card's small print in cardLines.
const subtleMark = "\x00"

// cardJSON is a card as JSON, to look for what its buttons carry.
func cardJSON(card teamsfake.Card) string {
	b, _ := json.Marshal(card)
	return string(b)
}

func hasVerb(card teamsfake.Card, verb string) bool {
	for _, v := range teamsfake.CardVerbs(card) {
		if v == verb {
			return true
		}
	}
	return false
}
