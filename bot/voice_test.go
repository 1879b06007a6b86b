package bot

// The core's one voice: every word it has for people is neutral text
// (view.Text), with no platform's name or syntax in it. A command to type
// is a code span, and what the core says of the platform itself comes from
// the Chat port (Chat.Terms).

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/storagetest"
)

// platformSigns are what no text of the core may carry: a platform's name,
// a code mark (each adapter sets code its own way) and the platforms'
// ways of writing a person.
var platformSigns = []string{"Slack", "Teams", "Microsoft", "`", "<@", "<at>", "</at>"}

// platformSign is the first platform sign in s, or "".
func platformSign(s string) string {
	for _, sign := range platformSigns {
		if strings.Contains(s, sign) {
			return sign
		}
	}
	return ""
}

// textsOf lists every piece of text a message shows, as lines of spans.
func textsOf(m view.Message) []view.Text {
	out := []view.Text{view.T(m.Summary)}
	for _, blk := range m.Blocks {
		switch b := blk.(type) {
		case view.Heading:
			out = append(out, view.T(b.Text))
		case view.Section:
			out = append(out, b.Lines...)
		case view.Context:
			out = append(out, b.Lines...)
		case view.Fields:
			for _, f := range b.Fields {
				out = append(out, f.Lines...)
			}
		case view.Table:
			for _, c := range b.Columns {
				out = append(out, view.T(c))
			}
			for _, row := range b.Rows {
				out = append(out, row...)
			}
		case view.Image:
			out = append(out, view.T(b.Alt), view.T(b.Title))
		case view.Actions:
			for _, c := range b.Controls {
				switch c := c.(type) {
				case view.Button:
					out = append(out, view.T(c.Label))
				case view.Choice:
					out = append(out, view.T(c.Placeholder))
					for _, o := range c.Options {
						out = append(out, view.T(o.Label))
					}
				}
			}
		}
	}
	return out
}

// mustBeNeutral fails the test where a span of the message names a
// platform or carries its syntax. It checks the spans themselves, not
// their String(), which marks code with backticks of its own.
func mustBeNeutral(t *testing.T, what string, m view.Message) {
	t.Helper()
	for _, line := range textsOf(m) {
		for _, s := range line {
			if sign := platformSign(s.Text); sign != "" {
				t.Errorf("%s says %q: %q is a platform's", what, s.Text, sign)
			}
		}
	}
}

// voiceExceptions are string literals of the core that may carry a
// platform sign, and why.
var voiceExceptions = map[string]string{
	// engine.Quote strips backticks from what people typed.
	"engine/handoff.go:`": "removes a backtick from people's text",
}

// TestNoStringOfTheCoreNamesAPlatform reads every string literal of the
// core (bot, engine, storage): none may name a platform or carry its
// syntax, so no refusal, error, hint or notification can. The policy
// checker's problems are exempt: they tell whoever writes the policy file
// how each platform's channels are written in it, and no chat shows them.
func TestNoStringOfTheCoreNamesAPlatform(t *testing.T) {
	t.Parallel()
	var checked int
	for _, dir := range []string{".", "../engine", "../storage"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			base := filepath.Base(path)
			if strings.HasSuffix(base, "_test.go") || strings.HasPrefix(base, "policy_check") {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			where := filepath.Base(filepath.Clean(dir)) + "/" + base
			if dir == "." {
				where = "bot/" + base
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ImportSpec:
					return false
				case *ast.Field:
					// A struct tag is for encoders, not people.
					if n.Type != nil {
						ast.Inspect(n.Type, func(m ast.Node) bool { return inspectLiteral(t, fset, where, m, &checked) })
					}
					return false
				}
				return inspectLiteral(t, fset, where, n, &checked)
			})
		}
	}
	if checked < 500 {
		t.Fatalf("only %d string literals read: the scan is looking in the wrong place", checked)
	}
}

func inspectLiteral(t *testing.T, fset *token.FileSet, where string, n ast.Node, checked *int) bool {
	lit, ok := n.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return true
	}
	*checked++
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		t.Fatalf("%s: %v", fset.Position(lit.Pos()), err)
	}
	if sign := platformSign(s); sign != "" && voiceExceptions[where+":"+s] == "" {
		t.Errorf("%s: %q carries %q, a platform's", fset.Position(lit.Pos()), s, sign)
	}
	return true
}

// termsChat is a Chat of a platform named Parley, which knows a few people
// by id; it posts nothing, since answers are returned, not sent.
type termsChat struct{ emails map[string]string }

var parleyTerms = Terms{Name: "Parley", PickPerson: "choose them in Parley's people picker", Channel: "~sales-room"}

func (c termsChat) Platform() string { return "parley" }
func (c termsChat) Terms() Terms     { return parleyTerms }
func (c termsChat) FindPerson(context.Context, string) (engine.ChatIdentity, error) {
	return engine.ChatIdentity{}, engine.Unreachable("nobody in this test")
}

func (c termsChat) FindPersonByID(_ context.Context, id string) (engine.ChatIdentity, error) {
	email, ok := c.emails[id]
	if !ok {
		return engine.ChatIdentity{}, engine.Errorf(engine.ENOTFOUND, "no such person")
	}
	return engine.ChatIdentity{UserID: id, Email: email}, nil
}

var errNoPosting = errors.New("this test posts nothing")

func (c termsChat) Post(context.Context, engine.Destination, view.Message, engine.PostKey) (engine.MessageRef, error) {
	return engine.MessageRef{}, errNoPosting
}

func (c termsChat) FindPosted(context.Context, engine.Destination, engine.PostKey) (engine.MessageRef, bool, error) {
	return engine.MessageRef{}, false, nil
}
func (c termsChat) Update(context.Context, engine.MessageRef, view.Message) error {
	return errNoPosting
}
func (c termsChat) PublishHome(context.Context, engine.ChatIdentity, view.Message) error {
	return errNoPosting
}
func (c termsChat) ImagesInline() bool { return true }

// TestEveryAnswerAndRefusalIsNeutral drives Answer with every command of
// the grammar, as a rep, a manager, someone outside the agreement and
// someone without an email, and with every refusal the parser and the
// commands make: no answer may name a platform or carry its syntax, a
// command to type is a code span with the command's name as it was
// typed (except in the views that are also notifications), and what is
// said of the platform comes from Chat.Terms.
func TestEveryAnswerAndRefusalIsNeutral(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	now := time.Date(2026, 11, 18, 15, 0, 0, 0, time.UTC)
	policy, problems := engine.ParsePolicy([]byte(`
report: {channel: "#smk"}
teams:
  - {name: east, manager: mia@x.test, reps: [ana@x.test, bo@x.test, gone@x.test]}
  - {name: west, manager: wes@x.test, reps: [cy@x.test]}
rules: [{name: demo, first_touch: 4h, touches: {count: 3, within: 2d}}]
`), now)
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if err := db.SyncTeams(ctx, policy.Teams); err != nil {
		t.Fatal(err)
	}
	service := engine.NewService(db, policy, func() time.Time { return now }, nil)
	if _, err := service.RepGone(ctx, "gone@x.test", "their account was closed"); err != nil {
		t.Fatal(err)
	}
	people := map[string]string{"UANA": "ana@x.test", "UBO": "bo@x.test", "UMIA": "mia@x.test", "UWES": "wes@x.test",
		"UCY": "cy@x.test", "UGONE": "gone@x.test", "UOUT": "out@x.test", "UNOMAIL": ""}
	b := New(Config{Store: db, Service: service, Chat: termsChat{emails: people}})

	ana, bo, gone, nomail, stranger := PersonToken("UANA", "ana"), PersonToken("UBO", "Bo Chen"),
		PersonToken("UGONE", "gone"), PersonToken("UNOMAIL", "nomail"), PersonToken("USTRANGER", "who")
	texts := []string{"", "help", "stauts", "xyzzy", "leads", "leads mine", "leads share", "report", "report now", "home", "home share",
		"policy", "policy share", "policy now",
		"status", "status week", "status month share", "status team", "status team east", "status team nowhere", "status all quarter",
		"status " + ana, "status " + bo + " week", "status " + nomail, "status " + stranger, "status @nobody", "status out@x.test",
		"status cy@x.test", "status " + ana + " " + bo, "status weekly", "status week month", "status blah", "status team all",
		"funnel", "funnel quarter", "funnel october", "funnel 2026-09", "funnel 2026-13", "funnel yesterday", "funnel week month",
		"sources", "sources month by segment", "sources by", "sources by colour", "sources last 90d by rule", "sources cohort 2026-05 window 180d",
		"sources 2026-13", "speed", "speed rule demo", "speed rule", "speed pooled", "speed last 9999d",
		"quality", "quality by source", "quality week month", "quality yesterday",
		"review", "review months 6", "review months 99", "review months x",
		"plan revenue=5000 deal=100 win=0.5", "plan revenue=5000 deal=100 win=0.5 mql_to_sql=0.25 share", "plan revenue=abc deal=100 win=0.5",
		"plan revenue=5000", "plan revenue 5000", "plan revnue=5000 deal=100 win=0.5", "plan revenue=5000 revenue=6000 deal=1 win=1",
		"plan revenue=50% deal=100 win=0.5", "plan revenue=5000 deal=100 win=2", "plan x=1 revenue=5000 deal=100 win=0.5",
		"away until someday", "away until", "away until 2026-02-30", "away until 2020-01-01", "away share",
		"away " + bo + " until monday", "away " + gone, "away " + nomail, "away @bo", "away " + stranger,
		"back " + bo, "back @ana @bo", "back " + gone, "away", "away until Dec 1", "back", "back share",
	}
	askers := map[string]string{"a rep": "UANA", "a manager": "UMIA", "someone outside the agreement": "UOUT", "someone without an email": "UNOMAIL"}
	for who, id := range askers {
		for _, text := range texts {
			// Typed under another name than /sla, so that a command
			// worded with the default name shows.
			const name = "/ask"
			r := b.Answer(ctx, id, name, text)
			what := who + "'s " + name + " " + readable(text)
			mustBeNeutral(t, what, r.Message)
			if c, err := parseCommand(text); err == nil && (c.Kind == cmdHome || c.Kind == cmdReview) {
				// The home view and the review are also posted where
				// nothing was typed: they name the command "/sla".
				continue
			}
			for _, line := range textsOf(r.Message) {
				for _, s := range line {
					if s.Style&view.Code != 0 && strings.HasPrefix(s.Text, "/") && !strings.HasPrefix(s.Text, name+" ") {
						t.Errorf("%s shows the command %q, not as it was typed", what, s.Text)
					}
				}
			}
		}
	}

	// What the core says of the platform, it says in the platform's words.
	for _, tc := range []struct{ text, want string }{
		{"status @nobody", parleyTerms.PickPerson},
		{"status " + nomail, "no email in " + parleyTerms.Name},
	} {
		r := b.Answer(ctx, "UMIA", "/sla", tc.text)
		if got := view.Lines(textsOf(r.Message)); !strings.Contains(got, tc.want) {
			t.Errorf("/sla %s answers %q, want the platform's words %q", readable(tc.text), got, tc.want)
		}
	}
	if got := b.reportChannelExample(); !strings.Contains(got, parleyTerms.Channel) {
		t.Errorf("a report channel is shown as %q, want the platform's way, like %q", got, parleyTerms.Channel)
	}
}
