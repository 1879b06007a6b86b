package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file answers /sla review: the review pack the agreement's owners
// read before they renew or change it, and draws it as a view for
// /sla review, `slabot review` and the post before the review date.

// ReviewStore counts the review pack where the leads are (storage.DB does).
type ReviewStore interface {
	Review(ctx context.Context, p *engine.Policy, months []engine.Period, asOf time.Time) (engine.Review, error)
}

// parseReview reads "months N", "N months" or "N".
func (c *command) parseReview(args []string) error {
	var words []string
	for _, a := range args {
		w := strings.ToLower(a)
		if w == "month" || w == "months" {
			continue
		}
		words = append(words, w)
	}
	if len(words) == 0 {
		return nil
	}
	n, err := strconv.Atoi(words[0])
	if len(words) > 1 || err != nil || n < 1 || n > engine.MaxReviewMonths {
		return usageError(cmdReview, fmt.Sprintf("Say how many full months to look back, from 1 to %d, like ", engine.MaxReviewMonths),
			view.C("months 6"), "; "+said(args...)+" is not one.")
	}
	c.Months = n
	return nil
}

// reviewAccess refuses who may not see the review: it is for the teams'
// managers and the agreement's owners (review.owners).
func (b *Bot) reviewAccess(who asker, name string) error {
	if len(who.Manages) > 0 || b.service.Policy().IsReviewOwner(who.Email) {
		return nil
	}
	return refuse(engine.EFORBIDDEN, "The review of the agreement is for the teams' managers and the agreement's owners (review.owners in the policy file). "+
		"See how you are doing with ", commandExample(name, "status"), ".")
}

func (b *Bot) cmdReview(ctx context.Context, who asker, c command, name string) (reply, error) {
	if err := b.reviewAccess(who, name); err != nil {
		return reply{}, err
	}
	rv, err := b.Review(ctx, c.Months, b.service.Now())
	if err != nil {
		return reply{}, err
	}
	return reply{Message: ReviewMessage(rv, b.service.Policy(), !c.Share)}, nil
}

// Review counts the review pack of the months full months before asOf's
// month (engine.DefaultReviewMonths when months ≤ 0), as of asOf.
func (b *Bot) Review(ctx context.Context, months int, asOf time.Time) (engine.Review, error) {
	policy := b.service.Policy()
	return LoadReview(ctx, b.store, policy, months, asOf)
}

// LoadReview counts the review pack from store: for the bot and for
// `slabot review`, which has no bot.
func LoadReview(ctx context.Context, store ReviewStore, p *engine.Policy, months int, asOf time.Time) (engine.Review, error) {
	return store.Review(ctx, p, engine.ReviewMonthsBefore(months, asOf, p.Location), asOf)
}

// maxReviewSources is how many sources the acceptance lists.
const maxReviewSources = 6

// ReviewMessage is the review pack as a message. named puts the reps'
// names beside a concentrated rule (for the manager or owner who asked);
// a post for a channel leaves them out.
func ReviewMessage(rv engine.Review, p *engine.Policy, named bool) view.Message {
	loc := rv.Span.Start.Location()
	blocks := []view.Block{
		view.Heading{Text: "Review of the agreement · " + rv.Span.Label},
		view.Context{Lines: []view.Text{view.T(reviewIntro(rv, loc))}},
	}
	blocks = append(blocks, reviewMonthsTable(rv), view.Section{Lines: flaggedLines(rv)})
	blocks = append(blocks, view.Divider{}, view.Section{Lines: causeLines(rv)})
	if t, ok := ruleCausesTable(rv, named); ok {
		blocks = append(blocks, t)
	}
	blocks = append(blocks, view.Divider{}, view.Section{Lines: acceptanceLines(rv)})
	blocks = append(blocks, view.Section{Lines: scoreCheckLines(rv)})
	blocks = append(blocks, view.Divider{})
	blocks = append(blocks, agreementBlocks(p)...)
	blocks = append(blocks, view.Context{Lines: []view.Text{view.T("To try a change before you make it: copy the policy file, edit the copy, and run ",
		view.C("slabot policy simulate proposed.yaml"),
		". It replays the last quarter's real leads under the proposal beside the current agreement and sends nothing. It is a replay, not a forecast: people may have worked differently under other deadlines.")}})
	return view.Message{Summary: reviewSummary(rv), Blocks: blocks}
}

// reviewIntro says what the figures count and as of when.
func reviewIntro(rv engine.Review, loc *time.Location) string {
	s := fmt.Sprintf("Each month counts the leads received in it, with their outcomes as of %s (%s); the month in progress is left out.",
		rv.AsOf.In(loc).Format("Mon Jan 2, 3:04 PM"), loc.String())
	if !rv.ReviewBy.IsZero() {
		s += " The agreement is to be reviewed by " + rv.ReviewBy.In(loc).Format("Monday 2 January 2006") + "."
	}
	return s
}

// reviewSummary is the review in a line, for notifications.
func reviewSummary(rv engine.Review) string {
	var flagged []string
	for _, c := range rv.Commitments {
		if c.Flagged() {
			flagged = append(flagged, c.Side+": "+c.Label)
		}
	}
	s := fmt.Sprintf("Review of the agreement, %s: %s", rv.Span.Label, countOf(rv.Breaches.Total, "breach", "breaches"))
	if len(flagged) > 0 {
		s += "; missed 3 months running: " + strings.Join(flagged, ", ")
	}
	return s + "."
}

// commitmentCell is one month's actual against its target: "412 of 500"
// with a red dot when missed, and a siren when missed three months running.
func commitmentCell(c engine.ReviewCommitment, m engine.CommitmentMonth) view.Text {
	value := func(x float64) string {
		if c.Share {
			return pct(x)
		}
		return thousands(int(x))
	}
	if !m.Measured {
		return view.T(c.Short + " —")
	}
	t := view.T(c.Short + " " + value(m.Actual))
	if c.Target > 0 {
		t = view.T(t, " of "+value(c.Target))
	}
	switch {
	case m.Flagged:
		t = view.T(t, " ", view.Alarm)
	case m.Missed:
		t = view.T(t, " ", view.Behind)
	case c.Target > 0:
		t = view.T(t, " ", view.OnTarget)
	}
	return t
}

// share writes n of d as a percentage, "—" when d is 0.
func share(n, d int) string {
	if d == 0 {
		return "—"
	}
	return pct(float64(n) / float64(d))
}

// reviewMonthsTable is the month-by-month table of both sides.
func reviewMonthsTable(rv engine.Review) view.Table {
	t := view.Table{Columns: []string{"Month", "Marketing", "Sales", "Outcomes so far"}}
	find := func(k engine.Commitment) engine.ReviewCommitment {
		for _, c := range rv.Commitments {
			if c.Key == k {
				return c
			}
		}
		return engine.ReviewCommitment{Key: k}
	}
	mqls, sqls, onTime := find(engine.CommitMQLs), find(engine.CommitSQLs), find(engine.CommitOnTime)
	for i, m := range rv.Months {
		f := m.Figures
		cell := func(c engine.ReviewCommitment) view.Text {
			if i < len(c.Months) {
				return commitmentCell(c, c.Months[i])
			}
			return view.T(c.Short + " —")
		}
		t.Rows = append(t.Rows, []view.Text{
			view.T(view.B(m.Period.Label)),
			view.T(cell(mqls), " · ", cell(sqls)),
			view.T(cell(onTime), " · cadence met "+share(f.CadenceMet, f.CadenceMet+f.CadenceMissed)),
			view.T("opportunities " + share(f.Opportunities, f.SQLs) + " · won " + share(f.Won, f.SQLs)),
		})
	}
	return t
}

// flaggedLines name the commitments missed three months running.
func flaggedLines(rv engine.Review) []view.Text {
	var lines []view.Text
	for _, c := range rv.Commitments {
		if !c.Flagged() {
			continue
		}
		last := c.Months[len(c.Months)-1]
		lines = append(lines, view.T(view.Alarm, " ", view.B(c.Side+": "+c.Label),
			fmt.Sprintf(": missed %d months running (target %s).", last.Streak, commitmentTarget(c))))
	}
	if len(lines) == 0 {
		return []view.Text{view.T(view.Done, fmt.Sprintf(" No commitment missed %d months running up to %s.",
			engine.MissedRunningFlag, lastMonthLabel(rv)))}
	}
	return lines
}

func commitmentTarget(c engine.ReviewCommitment) string {
	if c.Share {
		return pct(c.Target)
	}
	return thousands(int(c.Target)) + " a month"
}

func lastMonthLabel(rv engine.Review) string {
	if len(rv.Months) == 0 {
		return rv.Span.Label
	}
	return rv.Months[len(rv.Months)-1].Period.Label
}

// causeLabels name the causes as a reader says them.
var causeLabels = map[engine.BreachCause]string{
	engine.CauseRouting:      "Routing",
	engine.CauseCapacity:     "Capacity",
	engine.CauseConcentrated: "Concentrated",
	engine.CauseOther:        "Other",
}

// causeLines are the breaches by likely cause, each with its definition.
func causeLines(rv engine.Review) []view.Text {
	b := rv.Breaches
	lines := []view.Text{view.T(view.B("Breaches by likely cause"),
		fmt.Sprintf(": %s of these months' leads. Each breach counts once, under the first cause it meets, in this order.",
			countOf(b.Total, "breach", "breaches")))}
	if b.Total == 0 {
		return lines
	}
	for _, c := range engine.BreachCauses {
		n := b.ByCause[c]
		lines = append(lines, view.T("• ", view.B(fmt.Sprintf("%s: %s (%s)", causeLabels[c], thousands(n), share(n, b.Total))),
			" — "+c.Definition(rv.Settings)+"."))
	}
	return lines
}

// maxReviewRules caps the rules listed with their causes.
const maxReviewRules = 8

// ruleCausesTable is each rule's breaches by cause; false without breaches.
func ruleCausesTable(rv engine.Review, named bool) (view.Table, bool) {
	if len(rv.Breaches.Rules) == 0 {
		return view.Table{}, false
	}
	t := view.Table{Columns: []string{"By rule", "Breaches", "Causes"}}
	for i, r := range rv.Breaches.Rules {
		if i == maxReviewRules {
			break
		}
		var parts []string
		for _, c := range engine.BreachCauses {
			if n := r.ByCause[c]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %s", strings.ToLower(causeLabels[c]), thousands(n)))
			}
		}
		causes := view.T(strings.Join(parts, ", "))
		if r.Concentrated && r.ByCause[engine.CauseConcentrated] > 0 {
			who := fmt.Sprintf("%d reps", len(r.TopReps))
			if len(r.TopReps) == 1 {
				who = "1 rep"
			}
			if named {
				who = strings.Join(r.TopReps, " and ")
			}
			causes = view.T(causes, " ", view.Warning, " mostly "+who+": a coaching matter")
		}
		rule := r.Rule
		if rule == "" {
			rule = engine.NoGroup
		}
		t.Rows = append(t.Rows, []view.Text{view.T(view.B(rule)), view.T(countOf(r.Total, "breach", "breaches")), causes})
	}
	return t, true
}

// acceptanceLines are acceptance by source and the top rejection reasons.
func acceptanceLines(rv engine.Review) []view.Text {
	q := rv.Quality
	all := q.All
	lines := []view.Text{view.T(view.B("Acceptance by source"), fmt.Sprintf(" (target %s of the leads decided)", pct(q.Target)))}
	if all.SQLs == 0 {
		return append(lines, view.T("No leads were handed off in these months."))
	}
	for i, g := range q.Groups {
		if i == maxReviewSources {
			lines = append(lines, view.T(fmt.Sprintf("• and %d more sources", len(q.Groups)-i)))
			break
		}
		lines = append(lines, view.T("• ", acceptanceText(strings.ReplaceAll(g.Group, "_", " "), g, q.Target)))
	}
	lines = append(lines, view.T("• ", acceptanceText("All sources", all, q.Target)))
	var reasons []string
	for _, c := range rejectCategoryLabels {
		if n := all.ByCategory[c.Category]; n > 0 {
			part := fmt.Sprintf("%s %s", c.Label, thousands(n))
			if d := all.TopDetail[c.Category]; d != "" && c.Category != engine.RejectDuplicate {
				part += " (mostly " + strings.ReplaceAll(d, "_", " ") + ")"
			}
			reasons = append(reasons, part)
		}
	}
	if all.Misroutes > 0 {
		reasons = append(reasons, fmt.Sprintf("wrong owner %s (re-routed)", thousands(all.Misroutes)))
	}
	if len(reasons) > 0 {
		lines = append(lines, view.T(view.B("Top rejection reasons: "), strings.Join(reasons, ", ")))
	} else {
		lines = append(lines, view.T("No lead was rejected."))
	}
	return lines
}

func acceptanceText(label string, g engine.QualityFigures, target float64) view.Text {
	if !g.Decided {
		return view.T(view.B(label), fmt.Sprintf(": %s handed off, none decided yet", thousands(g.SQLs)))
	}
	mark := view.OnTarget
	if g.AcceptedShare < target {
		mark = view.Behind
	}
	return view.T(view.B(label), fmt.Sprintf(": %s accepted (%s of %s decided) ", pct(g.AcceptedShare),
		thousands(g.Accepted), thousands(g.Accepted+g.Rejected)), mark)
}

// scoreCheckLines are the opportunity rate by score band: the better the
// score, the higher it should be.
func scoreCheckLines(rv engine.Review) []view.Text {
	lines := []view.Text{view.T(view.B("Score check"), ": opportunities by score band, these months' leads")}
	sc := rv.ByScore
	if sc.All.SQLs == 0 {
		return append(lines, view.T("No leads to check."))
	}
	prev, inverted := -1.0, false
	for _, r := range sc.Rows {
		if r.SQLs == 0 {
			continue
		}
		rate := float64(r.Opportunities) / float64(r.SQLs)
		lines = append(lines, view.T(fmt.Sprintf("• %s: %s opportunities of %s leads (%s), %s won",
			r.Group, thousands(r.Opportunities), thousands(r.SQLs), pct(rate), thousands(r.Won))))
		if prev >= 0 && rate < prev {
			inverted = true
		}
		prev = rate
	}
	switch {
	case len(sc.Rows) < 2:
		lines = append(lines, view.T("The agreement has one score band: set report.score_bands to check the score."))
	case inverted:
		lines = append(lines, view.T(view.Warning, " A higher band turns into opportunities less often than a lower one: the score does not rank these leads."))
	default:
		lines = append(lines, view.T(view.Done, " Higher bands turn into opportunities more often: the score ranks these leads."))
	}
	return lines
}

// maxAgreementBlocks caps the agreement's paragraphs in the review.
const maxAgreementBlocks = 8

// agreementBlocks are the agreement in plain words, as /sla policy says it.
func agreementBlocks(p *engine.Policy) []view.Block {
	policy := policyReply(p).Message.Blocks
	out := []view.Block{view.Section{Lines: []view.Text{view.T(view.Plan, " ", view.B("The agreement in plain words"))}}}
	for _, blk := range policy {
		if h, ok := blk.(view.Heading); ok {
			out = append(out, view.Section{Lines: []view.Text{view.T(h.Text)}})
			continue
		}
		if len(out) > maxAgreementBlocks {
			out = append(out, view.Context{Lines: []view.Text{view.T("The rest: ", view.C("/sla policy"), ".")}})
			break
		}
		out = append(out, blk)
	}
	return out
}
