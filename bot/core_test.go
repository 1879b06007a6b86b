package bot_test

// The core's tests drive commands, actions and notifications through an
// in-memory chat (bottest.Chat), on a real PostgreSQL of their own, with
// the engine's clock moved by hand: no platform, no sockets, no sleeps.
// What a person reads is compared as neutral markup (bottest.Render).

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/bottest"
	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// corePolicy is the agreement of the flow tests: a demo request must be
// touched within 15 minutes (reminders 10 and 2 minutes before), or the
// manager hears of it and the lead moves on; anything else within 4 hours,
// or it goes back to Marketing.
const corePolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "#sales-ops"
    reps: [ana@example.com, bo@example.com]
rules:
  - name: demo-request
    match: {source: demo_request}
    first_touch: 15m
    touches: {count: 8, within: 15d}
    remind_before: [10m, 2m]
    on_breach: [notify_manager, reassign]
  - name: default
    first_touch: 4h
    touches: {count: 6, within: 14d}
    on_breach: [notify_manager, return_to_marketing]
`

// People of the flow tests, by their user id on the in-memory chat.
const (
	ana      = "U0ANA"
	bo       = "U0BO"
	maria    = "U0MARIA"
	stranger = "U0EVE"
)

var corePeople = []engine.ChatIdentity{
	{UserID: ana, Email: "ana@example.com", Name: "Ana Alvarez", TimeZone: "America/New_York"},
	{UserID: bo, Email: "bo@example.com", Name: "Bo Berg", TimeZone: "Europe/Berlin"},
	{UserID: maria, Email: "maria@example.com", Name: "Maria Manager", TimeZone: "America/New_York"},
	{UserID: stranger, Email: "eve@example.com", Name: "Eve Else", TimeZone: "UTC"},
}

// coreChat is the in-memory chat as the bot's port: what bot.Chat asks
// that only bot's own types can say is answered here (bottest does not
// import bot, so that the bot's own tests may use it).
type coreChat struct{ *bottest.Chat }

// Terms are the in-memory platform's words.
func (coreChat) Terms() bot.Terms {
	return bot.Terms{Name: "the chat", PickPerson: "pick the person as the chat offers them as you type @", Channel: "#smarketing"}
}

// core is the bot on a bottest.Env.
type core struct {
	*bottest.Env
	t       *testing.T
	bot     *bot.Bot
	presses int
}

func newCore(t *testing.T, policy string) *core {
	t.Helper()
	t.Parallel()
	env := bottest.NewEnv(t, engine.PlatformSlack, policy, corePeople...)
	b := bot.New(bot.Config{Store: env.DB, Service: env.Service, Chat: coreChat{env.Chat}, Logger: env.Logger})
	env.Jobs.Serve(append(b.Handlers(), env.Service.TimerHandlers(nil)...)...)
	return &core{Env: env, t: t, bot: b}
}

// runDue runs the jobs due by the clock, failing the test on an error.
func (c *core) runDue() []bottest.Ran {
	c.t.Helper()
	ran, err := c.Jobs.RunDue(context.Background())
	if err != nil {
		c.t.Fatalf("running the due jobs: %v", err)
	}
	return ran
}

// at moves the clock to d after the start and runs what is due by then.
func (c *core) at(d time.Duration) {
	c.t.Helper()
	c.Clock.Set(bottest.Start.Add(d))
	c.runDue()
}

func (c *core) handOff(h engine.HandOff) *engine.Lead {
	c.t.Helper()
	res, err := c.Service.HandOff(context.Background(), h)
	if err != nil {
		c.t.Fatal(err)
	}
	c.runDue()
	return res.Lead
}

// demoLead is bottest.DemoLead, a demo request for Ana.
func demoLead(id string) engine.HandOff { return bottest.DemoLead(id) }

func (c *core) lead(id int64) *engine.Lead {
	c.t.Helper()
	l, err := c.DB.LeadByID(context.Background(), id)
	if err != nil {
		c.t.Fatal(err)
	}
	return l
}

func (c *core) events(id int64) []engine.Event {
	c.t.Helper()
	events, err := c.DB.Events(context.Background(), id)
	if err != nil {
		c.t.Fatal(err)
	}
	return events
}

// eventKinds lists the kinds of a lead's events, oldest first.
func (c *core) eventKinds(id int64) []string {
	var kinds []string
	for _, e := range c.events(id) {
		kinds = append(kinds, e.Kind)
	}
	return kinds
}

// posts are the posts in a person's chat ("@" and their user id) or a
// channel, of one kind ("" for all).
func (c *core) posts(conversation, kind string) []bottest.Post {
	var out []bottest.Post
	for _, p := range c.Chat.Posts(conversation) {
		if kind == "" || p.Key.Kind == kind {
			out = append(out, p)
		}
	}
	return out
}

// card is the lead's card in a person's chat, as it reads now.
func (c *core) card(userID string, l *engine.Lead) bottest.Post {
	c.t.Helper()
	var found []bottest.Post
	for _, p := range c.posts("@"+userID, "card") {
		if p.Key.LeadID == l.ID {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		c.t.Fatalf("%d cards for lead %d in %s's chat; want 1", len(found), l.ID, userID)
	}
	return found[0]
}

// texts renders each post as it reads now.
func texts(posts []bottest.Post) []string {
	out := make([]string, len(posts))
	for i, p := range posts {
		out[i] = bottest.Render(p.Last())
	}
	return out
}

// control finds the first control on m that match accepts, with the id
// of its row and the value it sends (a button's value, or the option
// match picked on a choice).
func control(m view.Message, match func(view.Control) (value string, ok bool)) (row string, ctl view.Control, value string, found bool) {
	for _, b := range m.Blocks {
		actions, ok := b.(view.Actions)
		if !ok {
			continue
		}
		for _, ctl := range actions.Controls {
			if value, ok := match(ctl); ok {
				return actions.ID, ctl, value, true
			}
		}
	}
	return "", nil, "", false
}

// press presses the button labelled label on m as the person with email,
// as an adapter would: ActionOn reads the press, and the bot acts (or, for
// a button that asks a form first, the form is returned). A refusal is
// returned as the line the person would read.
func (c *core) press(email string, m view.Message, label string) (form view.Form, refusal string) {
	c.t.Helper()
	row, ctl, value, found := control(m, func(ctl view.Control) (string, bool) {
		btn, ok := ctl.(view.Button)
		return btn.Value, ok && btn.Label == label
	})
	if !found {
		c.t.Fatalf("no button %q on:\n%s", label, bottest.Render(m))
	}
	act, ok := bot.ActionOn(engine.Actor{Email: email}, row, ctl.(view.Button).Action, value)
	if !ok {
		c.t.Fatalf("the button %q acts on nothing", label)
	}
	if bot.NeedsForm(act.Verb) {
		f, err := c.bot.FormFor(context.Background(), act.Actor, act.LeadID, act.Verb)
		return f, c.refusal(err)
	}
	return view.Form{}, c.act(act)
}

// pick picks the option labelled option of the choice with placeholder on
// m, as the person with email.
func (c *core) pick(email string, m view.Message, placeholder, option string) string {
	c.t.Helper()
	row, ctl, value, found := control(m, func(ctl view.Control) (string, bool) {
		ch, ok := ctl.(view.Choice)
		if !ok || ch.Placeholder != placeholder {
			return "", false
		}
		for _, o := range ch.Options {
			if o.Label == option {
				return o.Value, true
			}
		}
		return "", false
	})
	if !found {
		c.t.Fatalf("no choice %q with %q on:\n%s", placeholder, option, bottest.Render(m))
	}
	act, ok := bot.ActionOn(engine.Actor{Email: email}, row, ctl.(view.Choice).Action, value)
	if !ok {
		c.t.Fatalf("the option %q acts on nothing", option)
	}
	return c.act(act)
}

// act carries out an action as a click of its own (a platform's click id
// makes each one so), runs what it queued, and returns the refusal the
// person reads ("" for none).
func (c *core) act(a bot.Action) string {
	c.t.Helper()
	c.presses++
	a.Key = fmt.Sprintf("press:%d", c.presses)
	_, err := c.bot.Act(context.Background(), a)
	refusal := c.refusal(err)
	c.runDue()
	return refusal
}

// submit submits form f with inputs as the person with email.
func (c *core) submit(email string, f view.Form, inputs map[string]string) string {
	c.t.Helper()
	// The form's subject is the lead it acts on, as the platform carries
	// it back with the values.
	id, err := strconv.ParseInt(f.Subject, 10, 64)
	if err != nil {
		c.t.Fatalf("the form %s acts on %q, not a lead", f.ID, f.Subject)
	}
	return c.act(bot.Action{Actor: engine.Actor{Email: email}, Verb: f.ID, LeadID: id, Inputs: inputs})
}

// refusal is the line a person reads for a refused action ("" for none);
// an error that is not theirs fails the test.
func (c *core) refusal(err error) string {
	c.t.Helper()
	if err == nil {
		return ""
	}
	line, ok := bot.Refusal(err)
	if !ok {
		c.t.Fatalf("the action failed: %v", err)
	}
	return line.String()
}

// answer is the answer to a command userID typed, as neutral markup;
// what the command does after its answer (posting the report) is done, as
// an adapter does it once the answer is shown.
func (c *core) answer(userID, text string) string {
	c.t.Helper()
	r := c.bot.Answer(context.Background(), userID, "/sla", text)
	if r.After != nil {
		if err := r.After(context.Background()); err != nil {
			c.t.Fatalf("after answering /sla %s: %v", text, err)
		}
	}
	c.runDue()
	out := bottest.Render(r.Message)
	if r.Share {
		out = "(shared)\n" + out
	}
	return out
}

var update = flag.Bool("update", false, "rewrite the golden files of the core's tests with what the bot says now")

// golden compares got with testdata/name.golden, line by line; -update
// rewrites the file instead. A golden file is what people read, to review
// as such when it changes.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	diff(t, path, lines(string(want)), lines(got))
}

func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

// lines splits a rendering at its line ends, for a diff that reads.
func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }
