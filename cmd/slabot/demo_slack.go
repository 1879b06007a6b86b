package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot/slack/slackfake"
)

// demoChat is the chat platform a demo plays on: a simulator of it with
// the demo's people, and how they press buttons, fill in forms and type
// commands there.
type demoChat interface {
	// describe names the simulator and says how slabot talks to it.
	describe() (simulator, connection string)
	// channels are the report and escalation channels as the policy
	// names them on this platform.
	channels() (report, escalation string)
	// configure adds the people and the channels to the simulator and
	// points slabot's settings at it.
	configure(cfg *Config)
	// connect waits until slabot and the simulator talk to each other.
	connect(ctx context.Context, app *App) error
	// press has who press a button (action, with value for a choice) on
	// the newest message about leadID in owner's chat (a stranger may
	// press someone else's card).
	press(ctx context.Context, who, owner demoPerson, leadID int64, action, value string) error
	// fill presses a button that opens a form and submits each set of
	// values in turn (an empty set shows the form's checks).
	fill(ctx context.Context, person demoPerson, leadID int64, action string, submissions ...map[string]string) error
	// command types a command, as person, where they work.
	command(ctx context.Context, person demoPerson, text string) error
	// watch prints what slabot posts and updates until ctx ends.
	watch(ctx context.Context, d *demo)
	close()
}

// slackDemo plays the demo on the Slack simulator.
type slackDemo struct {
	fake  *slackfake.Server
	names map[string]string // Slack user or channel id → how to call it
}

func newSlackDemo() *slackDemo {
	s := &slackDemo{fake: slackfake.New(), names: map[string]string{"C0OPS": "#sales-ops", "C0SMK": "#smarketing"}}
	s.fake.AddChannel("C0OPS", "sales-ops")
	s.fake.AddChannel("C0SMK", "smarketing")
	for _, p := range demoPeople {
		s.fake.AddUser(slackfake.User{ID: p.ID, Name: strings.ToLower(strings.Fields(p.Name)[0]), RealName: p.Name, Email: p.Email, TZ: p.TZ})
		s.names[s.fake.DMChannel(p.ID)] = p.Name + "'s DM"
		s.names[p.ID] = p.Name
	}
	return s
}

func (s *slackDemo) channels() (string, string) { return "#smarketing", "#sales-ops" }

func (s *slackDemo) describe() (string, string) {
	return "a Slack simulator", "connected to Slack over Socket Mode"
}

func (s *slackDemo) configure(cfg *Config) {
	cfg.Chat, cfg.SlackBotToken, cfg.SlackAppToken, cfg.SlackAPIURL = "slack", slackfake.BotToken, slackfake.AppToken, s.fake.APIURL()
}

func (s *slackDemo) connect(ctx context.Context, _ *App) error {
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := s.fake.WaitForConnections(wctx, 1); err != nil {
		return fmt.Errorf("the bot did not connect to the Slack simulator: %w", err)
	}
	return nil
}

func (s *slackDemo) close() { s.fake.Close() }

// message finds the newest message about a lead in a person's DM.
func (s *slackDemo) message(ctx context.Context, person demoPerson, leadID int64) (slackfake.Message, error) {
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// The predicate runs under the fake's lock: no calls into the fake in it.
	dm := s.fake.DMChannel(person.ID)
	return s.fake.WaitForMessage(wctx, func(m slackfake.Message) bool {
		return m.Channel == dm && m.Metadata != nil && fmt.Sprint(m.Metadata.EventPayload["lead_id"]) == fmt.Sprint(leadID)
	})
}

func (s *slackDemo) press(ctx context.Context, who, owner demoPerson, leadID int64, action, value string) error {
	msg, err := s.message(ctx, owner, leadID)
	if err != nil {
		return fmt.Errorf("the card is not there: %w", err)
	}
	_, err = s.fake.ClickButton(ctx, who.ID, msg, action, value)
	return err
}

func (s *slackDemo) fill(ctx context.Context, person demoPerson, leadID int64, action string, submissions ...map[string]string) error {
	if err := s.press(ctx, person, person, leadID, action, ""); err != nil {
		return err
	}
	view, err := s.waitView(ctx, person.ID, action)
	if err != nil {
		return err
	}
	for _, values := range submissions {
		state := map[string]map[string]any{}
		for k, v := range values {
			state[k] = map[string]any{"value": v}
		}
		if _, err := s.fake.SubmitView(ctx, person.ID, view, state); err != nil {
			return err
		}
	}
	return nil
}

// waitView waits for the modal the bot opened for a user.
func (s *slackDemo) waitView(ctx context.Context, userID, callbackID string) (slack.View, error) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		views := s.fake.OpenViews(userID)
		for i := len(views) - 1; i >= 0; i-- {
			if views[i].CallbackID == callbackID {
				return views[i], nil
			}
		}
		select {
		case <-ctx.Done():
			return slack.View{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return slack.View{}, fmt.Errorf("the %s form never opened", callbackID)
}

func (s *slackDemo) command(ctx context.Context, person demoPerson, text string) error {
	_, err := s.fake.SlashCommand(ctx, person.ID, "C0OPS", "/sla", text)
	return err
}

// watch prints every message the bot posts or updates, as its recipient
// would see it in Slack.
func (s *slackDemo) watch(ctx context.Context, d *demo) {
	seen := map[string]int{}
	files := map[string]bool{}
	poll(ctx, 50*time.Millisecond, func() {
		msgs := s.fake.AllMessages()
		sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].PostedAt.Before(msgs[j].PostedAt) })
		for _, m := range msgs {
			key := m.Channel + "/" + m.TS
			updates, known := seen[key]
			if known && updates == m.Updates {
				continue
			}
			seen[key] = m.Updates
			s.show(d, m, known)
		}
		for _, f := range s.fake.Files() {
			if !f.Completed || files[f.ID] {
				continue
			}
			files[f.ID] = true
			d.saveChart(f.Title, f.Content, "was uploaded")
		}
	})
}

func (s *slackDemo) show(d *demo, m slackfake.Message, update bool) {
	where := s.names[m.Channel]
	if where == "" {
		where = m.Channel
	}
	verb := "posts to"
	switch {
	case update:
		verb = "updates a message in"
	case m.Ephemeral:
		verb = "shows " + s.names[m.To] + " privately in"
	}
	var blocks slack.Blocks
	if len(m.Blocks) > 0 {
		blocks, _ = m.DecodeBlocks()
	}
	body := d.style.Blocks(blocks, m.Text, "    │ ")
	if update && len(blocks.BlockSet) > 2 {
		// An update repeats the card: show its top (what is due) and its
		// history line (who did what), not the lead's details again.
		kept := blocks.BlockSet[:2]
		for _, bl := range blocks.BlockSet[2:] {
			if bl.BlockType() == slack.MBTContext {
				kept = append(kept, bl)
			}
		}
		blocks.BlockSet = kept
		body = d.style.Blocks(blocks, m.Text, "    │ ") + "    │ " + d.style.Dim("…") + "\n"
	}
	d.post(verb, where, body)
}

// saveChart writes the report's chart where --chart says and tells so;
// the speed chart of /sla speed goes beside it, named …-speed.png.
func (d *demo) saveChart(title string, png []byte, how string) {
	path, what := d.chartPath, "the report's chart"
	if strings.HasPrefix(title, "Speed to lead") || strings.HasPrefix(title, "speed-to-lead") {
		ext := filepath.Ext(path)
		path, what, how = strings.TrimSuffix(path, ext)+"-speed"+ext, "the speed chart", strings.Replace(how, "with the report", "with the answer", 1)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		d.say("could not write the chart: %v", err)
		return
	}
	abs, _ := filepath.Abs(path)
	d.say("%s %s (%q) %s; a copy is at %s", d.style.Accent("📎"), what, title, how, abs)
}
