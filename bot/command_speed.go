package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/chart"
	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file answers /sla speed: the period's leads by how fast they were
// first touched, and how often each band became an opportunity or was
// won, with 95% intervals, within each rule unless pooled; and its chart.

// maxSpeedTables is the most rules /sla speed lists (the largest).
const maxSpeedTables = 6

func (b *Bot) cmdSpeed(ctx context.Context, who asker, c command, name string) (reply, error) {
	if err := b.scorecardAccess(who, "Speed to lead", name); err != nil {
		return reply{}, err
	}
	span, err := b.scorecardSpanOf(c)
	if err != nil {
		return reply{}, err
	}
	policy := b.service.Policy()
	rule := ""
	if c.Rule != "" {
		r := policy.Rule(c.Rule)
		if r == nil {
			var names []string
			for _, r := range policy.Rules {
				names = append(names, r.Name)
			}
			return reply{}, engine.Errorf(engine.ENOTFOUND, "There is no rule %s in the agreement; the rules are %s.", engine.Quote(c.Rule), engine.AndList(names))
		}
		rule = r.Name
	}
	s, err := b.store.Speed(ctx, policy, span.Period, span.AsOf, rule, c.Pooled)
	if err != nil {
		return reply{}, err
	}
	m, err := speedMessage(policy, span, s, name)
	if err != nil {
		return reply{}, err
	}
	r := reply{Message: m}
	if b.chat != nil && !b.chat.ImagesInline() {
		// Slack shows no picture in a command's answer: the chart goes to
		// the asker's chat with slabot, as its own post.
		figures, charts := splitImages(m)
		r.Message = figures
		if len(charts) > 0 && who.UserID != "" {
			r.Message.Blocks = append(r.Message.Blocks, view.Context{Lines: []view.Text{view.T("The chart is in your chat with slabot.")}})
			r.After = func(ctx context.Context) error {
				person, err := b.chat.FindPersonByID(ctx, who.UserID)
				if err != nil {
					return err
				}
				_, err = b.chat.Post(ctx, engine.Destination{Person: &person}, view.Message{Summary: charts[0].Title, Blocks: []view.Block{charts[0]}},
					engine.PostKey{Kind: "speed-chart", Key: who.UserID + "@" + b.service.Now().UTC().Format(time.RFC3339Nano)})
				return err
			}
		}
	}
	return r, nil
}

// speedMessage is the answer: a section per rule, the findings, and the
// chart.
func speedMessage(p *engine.Policy, span engine.ScorecardSpan, s engine.Speed, name string) (view.Message, error) {
	title := "Speed to lead: " + span.Period.Label
	if s.Rule != "" {
		title += " · " + s.Rule
	}
	blocks := []view.Block{
		view.Heading{Text: title},
		view.Context{Lines: []view.Text{view.T("Leads received in " + span.Period.Label + ", by time to first touch in business hours; outcomes as of " +
			span.AsOf.In(p.Location).Format("Mon Jan 2, 3:04 PM") + " (" + zoneName(p) + ").")}},
	}
	if s.Pooled {
		blocks = append(blocks, view.Section{Lines: []view.Text{view.T(view.Warning, " ", view.B("All rules pooled."),
			" Fast rules tend to hold the best leads (a demo request is answered faster and wins more), so pooled, speed looks more profitable than it is. Drop ",
			view.C("pooled"), " to compare within each rule.")}})
	}
	total := 0
	for _, t := range s.Tables {
		total += t.Leads
	}
	if total == 0 {
		blocks = append(blocks, view.Section{Lines: []view.Text{view.T(view.Calendar, " No lead of "+span.Period.Label+" has been touched or missed yet.")}})
		return view.Message{Summary: title + ": no leads yet", Blocks: blocks}, nil
	}
	tables := largestTables(s.Tables, maxSpeedTables)
	for _, t := range tables {
		head := "All leads"
		if t.Rule != "" {
			head = "Rule " + t.Rule
		}
		lines := []view.Text{view.T(view.B(head), " · "+plural(t.Leads, "lead", "leads"))}
		for _, c := range t.Cells {
			if c.Leads == 0 {
				continue
			}
			line := fmt.Sprintf("%s · %s · opportunity %s · won %s", c.Label, plural(c.Leads, "lead", "leads"), rateText95(c.Opportunities), rateText95(c.Won))
			if c.TooFew {
				line = fmt.Sprintf("%s · %s · too few to judge", c.Label, plural(c.Leads, "lead", "leads"))
			}
			lines = append(lines, view.T(line))
		}
		blocks = append(blocks, view.Section{Lines: lines})
	}
	var notes []view.Text
	if len(s.Tables) > len(tables) {
		notes = append(notes, view.T(fmt.Sprintf("%d smaller rules are left out: ask for one with ", len(s.Tables)-len(tables)), view.C(name+" speed rule NAME"), "."))
	}
	switch {
	case len(s.Findings) > 0:
	case !anyComparable(s.Tables):
		notes = append(notes, view.T(view.Pending, fmt.Sprintf(" No rule has two bands of %d leads or more yet, so no band is compared with another.", engine.MinLeadsToJudge)))
	default:
		notes = append(notes, view.T(view.Done, fmt.Sprintf(" No band differs from another beyond its 95%% interval (bands of %d leads or more, fastest against slowest).", engine.MinLeadsToJudge)))
	}
	for _, f := range s.Findings {
		notes = append(notes, view.T(view.Warning, " "+f.String()))
	}
	if s.NotYet > 0 {
		notes = append(notes, view.T(plural(s.NotYet, "lead is", "leads are")+" not touched yet and still within their deadline: in no band yet."))
	}
	blocks = append(blocks, view.Section{Lines: notes})
	if !s.Pooled {
		blocks = append(blocks, view.Context{Lines: []view.Text{view.T("Compared within each rule: pooling rules mixes speed with lead quality. ",
			view.C(name+" speed pooled"), " shows them together.")}})
	}
	png, err := chart.SpeedChart(s)
	if err != nil {
		return view.Message{}, err
	}
	blocks = append(blocks, view.Image{PNG: png, Alt: speedAltText(s), Title: "Speed to lead, " + span.Period.Label, Name: "speed-to-lead.png"})
	summary := fmt.Sprintf("Speed to lead, %s: %s", span.Period.Label, plural(total, "lead", "leads"))
	return view.Message{Summary: summary, Blocks: blocks}, nil
}

// rateText95 writes a rate with its interval: "25% (18–33%)".
func rateText95(r engine.Rate) string {
	f := func(x float64) string { return strings.TrimSuffix(engine.FormatPercent(x, engine.PercentRate), "%") }
	return fmt.Sprintf("%s%% (%s–%s%%)", f(r.Share), f(r.Low), f(r.High))
}

// largestTables keeps the n largest tables, in their order.
func largestTables(tables []engine.SpeedTable, n int) []engine.SpeedTable {
	if len(tables) <= n {
		return tables
	}
	out := append([]engine.SpeedTable(nil), tables...)
	for len(out) > n {
		small := 0
		for i, t := range out {
			if t.Leads < out[small].Leads {
				small = i
			}
		}
		out = append(out[:small], out[small+1:]...)
	}
	return out
}

// speedAltText describes the chart for those who cannot see it.
func speedAltText(s engine.Speed) string {
	var parts []string
	for _, t := range s.Tables {
		for _, c := range t.Cells {
			if !c.TooFew {
				who := t.Rule
				if who == "" {
					who = "all leads"
				}
				parts = append(parts, fmt.Sprintf("%s %s: won %s", who, c.Label, rateText95(c.Won)))
			}
		}
	}
	if len(parts) == 0 {
		return "Speed to lead: no band has enough leads to judge."
	}
	return view.Clip("Won rate by time to first touch: "+strings.Join(parts, "; "), 1000)
}

// anyComparable reports whether some table has two bands with enough
// leads to compare.
func anyComparable(tables []engine.SpeedTable) bool {
	for _, t := range tables {
		n := 0
		for _, c := range t.Cells[:engine.SpeedBandNever] {
			if !c.TooFew {
				n++
			}
		}
		if n >= 2 {
			return true
		}
	}
	return false
}
