package bot

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file answers /sla: a platform adapter records the command as a
// durable job, and the job asks Answer and shows the Reply where the
// command was typed (privately unless the user added "share"). Each
// subcommand is answered in its own command_*.go file.

// maxMessageBlocks is the most blocks a message may have (Slack's limit).
const maxMessageBlocks = 50

// Reply is an answer to a command: what it says, and to whom.
type Reply struct {
	Message view.Message
	// Share posts the answer where the command was typed, for everyone.
	Share bool
	// After runs once the answer is posted (e.g. posting the report).
	After func(ctx context.Context) error
}

// reply is the name the command files use.
type reply = Reply

// textReply is an answer of a few lines and no title; its summary is its
// text.
func textReply(lines ...view.Text) reply {
	return reply{Message: view.Message{Summary: plainSummary(lines), Blocks: []view.Block{view.Section{Lines: lines}}}}
}

// asker is who ran a command, as the agreement knows them.
type asker struct {
	UserID string
	Email  string
	// Rep is set when the asker is a rep in a team.
	Rep *engine.Rep
	// Team is the rep's team ("" for none).
	Team string
	// Manages lists the teams the asker manages.
	Manages []*engine.Team
}

func (a asker) manages(team string) bool {
	for _, t := range a.Manages {
		if team != "" && strings.EqualFold(t.Name, team) {
			return true
		}
	}
	return false
}

// whoIs finds who a platform user is: their email, whether they are a
// rep, and which teams they manage.
func (b *Bot) whoIs(ctx context.Context, userID string) (asker, error) {
	email, err := b.EmailOf(ctx, userID)
	if err != nil {
		return asker{}, err
	}
	a, err := b.askerByEmail(ctx, email)
	a.UserID = userID
	return a, err
}

// askerByEmail is who a person is in the agreement.
func (b *Bot) askerByEmail(ctx context.Context, email string) (asker, error) {
	a := asker{Email: strings.ToLower(email)}
	policy := b.service.Policy()
	if rep, err := b.store.RepByEmail(ctx, a.Email); err == nil {
		team := rep.Team
		if team == "" {
			if t := policy.TeamOf(a.Email); t != nil {
				team = t.Name
			}
		}
		if team != "" {
			a.Rep, a.Team = rep, team
		}
	} else if engine.ErrorCode(err) != engine.ENOTFOUND {
		return asker{}, err
	}
	for i := range policy.Teams {
		if a.Email != "" && policy.Teams[i].Manager == a.Email {
			a.Manages = append(a.Manages, &policy.Teams[i])
		}
	}
	return a, nil
}

// resolvePerson finds the email of a person named in a command. What it
// says of the platform, it says in the platform's words (Chat.Terms).
func (b *Bot) resolvePerson(ctx context.Context, p person) (string, error) {
	switch {
	case p.Email != "":
		return p.Email, nil
	case p.UserID != "":
		email, err := b.EmailOf(ctx, p.UserID)
		if err != nil {
			return "", err
		}
		if email == "" {
			return "", engine.Errorf(engine.ENOTFOUND, "That person has no email in %s, so I can't match them to a rep.", b.chat.Terms().Name)
		}
		return email, nil
	}
	return "", engine.Errorf(engine.ENOTFOUND, "I can't tell who @%s is: %s.", p.Handle, b.chat.Terms().PickPerson)
}

func repName(r *engine.Rep) string {
	if r.Name != "" {
		return r.Name
	}
	return r.Email
}

// Answer parses and carries out one command that the platform user userID
// typed as name (the command's name where it was typed, "/sla" by
// default): text is what followed the name.
func (b *Bot) Answer(ctx context.Context, userID, name, text string) Reply {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "/sla"
	}
	c, err := parseCommand(text)
	if err != nil {
		var pe *parseError
		switch {
		case errors.As(err, &pe) && pe.Unknown != "":
			return helpReply(name, pe)
		case errors.As(err, &pe):
			return textReply(marked(view.Unsure, pe.text(name)))
		}
		return b.failure(err)
	}
	if c.Kind == cmdHelp {
		return helpReply(name, nil)
	}
	who, err := b.whoIs(ctx, userID)
	if err != nil {
		return b.failure(err)
	}
	var r reply
	switch c.Kind {
	case cmdStatus:
		r, err = b.cmdStatus(ctx, who, c, name)
	case cmdLeads:
		r, err = b.cmdLeads(ctx, who, name)
	case cmdFunnel:
		r, err = b.cmdFunnel(ctx, c)
	case cmdSources:
		r, err = b.cmdSources(ctx, who, c, name)
	case cmdSpeed:
		r, err = b.cmdSpeed(ctx, who, c, name)
	case cmdQuality:
		r, err = b.cmdQuality(ctx, who, c)
	case cmdReview:
		r, err = b.cmdReview(ctx, who, c, name)
	case cmdPlan:
		r, err = cmdPlanReply(c, name)
	case cmdPolicy:
		r = policyReply(b.service.Policy())
	case cmdAway, cmdBack:
		r, err = b.cmdAvailability(ctx, who, c, name)
	case cmdReport:
		r = b.cmdReport(who)
	case cmdHome:
		var home view.Message
		home, err = b.homeView(ctx, who)
		r = Reply{Message: home}
	}
	if err != nil {
		return b.failure(err)
	}
	r.Share = c.Share
	return r
}

// failure turns an error into an answer: the Refusal, or an apology (with
// the detail logged) for anything else.
func (b *Bot) failure(err error) reply {
	if line, ok := Refusal(err); ok {
		return textReply(line)
	}
	b.logger.Error("a slash command failed", "err", err)
	return textReply(view.T(view.Warning, " "+engine.ErrorMessage(err)))
}

// commandExample is a command to type, with the command's name as the
// user invoked it: "/sla back".
func commandExample(name, args string) view.Span { return view.C(name + " " + args) }

// pct writes a share for people: "67%", "0.4%" rather than "0%", "99.9%"
// rather than "100%".
func pct(x float64) string { return engine.FormatPercent(x, engine.PercentShare) }

// durationText writes a duration for people: "45 s", "12 min", "2 h 5 min", "3 days 4 h".
func durationText(d time.Duration) string { return engine.FormatDurationShort(d) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}
