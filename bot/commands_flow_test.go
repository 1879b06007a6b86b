package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/bottest"
	"github.com/slabot/slabot/engine"
)

// commandsYear is the year of the /sla tests' data set
// (bottest.SeedCommands): its November has the calendar of November 2026,
// on which the figures were worked out by hand, and the clock runs ahead
// of the wall's.
const commandsYear = 2037

// newCommandsCore is the bot at bottest.CommandsNow over the fixed data
// set of bottest.SeedCommands (whose comment works out its figures), and
// its leads by id.
func newCommandsCore(t *testing.T) (*core, map[string]*engine.Lead) {
	c := newCore(t, bottest.CommandsPolicy("2038-06-30"))
	c.Clock.Set(bottest.CommandsNow(commandsYear))
	leads, err := bottest.SeedCommands(context.Background(), c.DB, c.Service.Policy(), commandsYear)
	if err != nil {
		t.Fatal(err)
	}
	return c, leads
}

// names are the people of the flow tests by user id, for golden files.
var names = map[string]string{ana: "ana", bo: "bo", maria: "maria", stranger: "eve", mia: "mia", "U0SAM": "sam"}

// ask answers each command in turn and writes the answers one after the
// other, each under the command and who typed it.
func (c *core) ask(commands ...[2]string) string {
	c.t.Helper()
	var b strings.Builder
	for _, cmd := range commands {
		fmt.Fprintf(&b, "── %s: /sla %s\n%s\n", names[cmd[0]], bot.Readable(cmd[1]), c.answer(cmd[0], cmd[1]))
	}
	return b.String()
}

// TestEveryCommandAnswers answers every command of the grammar, and its
// refusals, over the fixed data set; testdata/commands.golden is what
// people read. The figures are those worked out by hand above.
func TestEveryCommandAnswers(t *testing.T) {
	c, leads := newCommandsCore(t)
	var posted int
	c.bot.SetReportPoster(func(context.Context) error { posted++; return nil })
	got := c.ask(
		[2]string{ana, ""}, [2]string{ana, "help"}, [2]string{ana, "stauts"},
		[2]string{ana, "status"}, [2]string{maria, "status"}, [2]string{maria, "status team month share"}, [2]string{ana, "status quarter"},
		[2]string{maria, "status " + bot.PersonToken(bo, "bo")}, [2]string{ana, "status " + bot.PersonToken(bo, "bo")}, [2]string{stranger, "status ana@example.com"},
		[2]string{maria, "status @nobody"}, [2]string{maria, "status " + bot.PersonToken(stranger, "eve")}, [2]string{ana, "status team nowhere"}, [2]string{stranger, "status"},
		[2]string{stranger, "funnel"}, [2]string{stranger, "funnel october"}, [2]string{stranger, "funnel yesterday"},
		[2]string{ana, "plan revenue=5000 deal=100 win=0.5 mql_to_sql=0.25"}, [2]string{ana, "plan revenue=abc deal=100 win=0.5"},
		[2]string{ana, "plan revenue=5000 deal=100 win=2"},
		[2]string{ana, "policy share"},
		[2]string{ana, "leads"}, [2]string{maria, "leads"}, [2]string{ana, "leads share"},
		[2]string{ana, "report"}, [2]string{maria, "report"},
		[2]string{maria, "sources"}, [2]string{maria, "sources 2037-11 by rule"}, [2]string{maria, "sources last 90d"},
		[2]string{maria, "sources cohort 2037-11 window 30d"}, [2]string{maria, "sources fortnight"}, [2]string{maria, "sources 2037-10"},
		[2]string{ana, "sources"},
		[2]string{maria, "speed"}, [2]string{maria, "speed pooled"}, [2]string{maria, "speed rule Demo-Request"}, [2]string{maria, "speed rule nope"},
		[2]string{ana, "speed"},
		[2]string{maria, "quality"}, [2]string{ana, "quality"},
		[2]string{ana, "review"}, [2]string{maria, "review months 40"},
		[2]string{ana, "home"}, [2]string{maria, "home"}, [2]string{stranger, "home"},
	)
	golden(t, "commands", got)
	diff(t, "reports posted by /sla report", 1, posted)

	// The leads answer's buttons act on their own leads: l4 is due first.
	r := c.bot.Answer(context.Background(), ana, "/sla", "leads")
	c.press("ana@example.com", r.Message, "Accept")
	if got := c.lead(leads["l4"].ID); got.State != engine.StateAcknowledged {
		t.Errorf("Accept on the leads answer's first row left l4 %s", got.State)
	}
}

func TestAwayAndBack(t *testing.T) {
	c, _ := newCommandsCore(t)
	ctx := context.Background()
	golden(t, "away", c.ask([2]string{ana, "away until 2037-11-25"}))
	rep, err := c.DB.RepByEmail(ctx, "ana@example.com")
	if err != nil || rep.Status != engine.RepAway || rep.AwayUntil.IsZero() {
		t.Fatalf("ana is %+v (%v)", rep, err)
	}
	if home := c.answer(ana, "home"); !strings.Contains(home, ":away: **You are away**") {
		t.Errorf("ana's home does not say she is away:\n%s", home)
	}
	got := c.ask(
		[2]string{ana, "back"},
		[2]string{maria, "away " + bot.PersonToken(bo, "bo") + " until monday"}, [2]string{ana, "away " + bot.PersonToken(bo, "bo")}, [2]string{ana, "away until someday"},
		[2]string{ana, "away until 2037-11-01"}, [2]string{stranger, "away"}, [2]string{maria, "back " + bot.PersonToken(bo, "bo")},
	)
	golden(t, "back", got)
	if rep, _ := c.DB.RepByEmail(ctx, "ana@example.com"); rep.Status != engine.RepActive {
		t.Errorf("ana is %s after /sla back", rep.Status)
	}
	if rep, _ := c.DB.RepByEmail(ctx, "bo@example.com"); rep.Status != engine.RepActive {
		t.Errorf("bo is %s after /sla back @bo", rep.Status)
	}
	diff(t, "the team's alerts", []string{
		":warning: ana@example.com is away until Wed Nov 25 and holds 4 open leads. Their SLA clocks keep running: reassign them in the CRM or have a teammate cover. New leads go to the rest of the team.\n",
		":warning: bo@example.com is away until Mon Nov 23 (set by maria@example.com) and holds 1 open lead. Their SLA clocks keep running: reassign them in the CRM or have a teammate cover. New leads go to the rest of the team.\n",
	}, texts(c.posts("#sales-ops", "")))
}
