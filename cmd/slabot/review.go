package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/terminal"
	"github.com/slabot/slabot/engine"
)

// `slabot review`: the review pack of /sla review, printed, or as JSON for
// a spreadsheet or a script. It only reads.

func cmdReview(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("review", flag.ContinueOnError)
	fs.SetOutput(stderr)
	monthsFlag := fs.Int("months", engine.DefaultReviewMonths, fmt.Sprintf("how many full months to look back (1 to %d)", engine.MaxReviewMonths))
	asOfFlag := fs.String("as-of", "", "count outcomes as they stood at the end of DATE (YYYY-MM-DD; default now); the months are the full months ended by then")
	jsonFlag := fs.Bool("json", false, "write the figures as JSON instead of text")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: slabot review [--months N] [--as-of DATE] [--json]")
		fmt.Fprintln(stderr, "Prints the review of the agreement: both sides' commitments month by month, breaches by likely cause,")
		fmt.Fprintln(stderr, "acceptance by source and the score check. Needs DATABASE_URL; sends nothing.")
		fs.PrintDefaults()
	}
	if !parseFlags(fs, args) {
		return 2
	}
	if *monthsFlag < 1 || *monthsFlag > engine.MaxReviewMonths {
		fmt.Fprintf(stderr, "slabot review: --months must be from 1 to %d, not %d.\n", engine.MaxReviewMonths, *monthsFlag)
		return 2
	}
	cfg, policy, now, code := readingSetup("slabot review", stderr)
	if code != 0 {
		return code
	}
	asOf, err := asOfDate(*asOfFlag, now, policy.Location)
	if err != nil {
		fmt.Fprintln(stderr, "slabot review: --as-of:", engine.ErrorMessage(err))
		return 2
	}
	db := openForReading(ctx, "slabot review", cfg, stderr)
	if db == nil {
		return 1
	}
	defer db.Close()
	rv, err := bot.LoadReview(ctx, db, policy, *monthsFlag, asOf)
	if err != nil {
		fmt.Fprintln(stderr, "slabot review:", reportFailure(err))
		return 1
	}
	if *jsonFlag {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(reviewJSON(rv)); err != nil {
			fmt.Fprintln(stderr, "slabot review: writing JSON:", err)
			return 1
		}
		return 0
	}
	fmt.Fprint(stdout, terminal.Render(bot.ReviewMessage(rv, policy, true)))
	return 0
}

// The JSON of `slabot review --json`.
type (
	reviewOut struct {
		From        string                `json:"from"`
		To          string                `json:"to"`
		AsOf        string                `json:"as_of"`
		Months      []reviewMonthOut      `json:"months"`
		Commitments []reviewCommitmentOut `json:"commitments"`
		Breaches    reviewBreachesOut     `json:"breaches"`
		Acceptance  []reviewAcceptanceOut `json:"acceptance"`
		ScoreBands  []reviewBandOut       `json:"score_bands"`
	}
	reviewMonthOut struct {
		Month         string `json:"month"`
		MQLs          int    `json:"mqls"`
		SQLs          int    `json:"sqls"`
		OnTime        int    `json:"first_touch_on_time"`
		Late          int    `json:"first_touch_late"`
		Pending       int    `json:"first_touch_pending"`
		CadenceMet    int    `json:"cadence_met"`
		CadenceMissed int    `json:"cadence_missed"`
		Opportunities int    `json:"opportunities"`
		Won           int    `json:"won"`
	}
	reviewCommitmentOut struct {
		Commitment string     `json:"commitment"`
		Side       string     `json:"side"`
		Target     float64    `json:"target"`
		Actual     []*float64 `json:"actual"`
		Missed     []bool     `json:"missed"`
		Flagged    []bool     `json:"flagged"`
	}
	reviewBreachesOut struct {
		Total    int                   `json:"total"`
		ByCause  map[string]int        `json:"by_cause"`
		Settings map[string]any        `json:"settings"`
		Rules    []reviewRuleBreachOut `json:"rules"`
	}
	reviewRuleBreachOut struct {
		Rule         string         `json:"rule"`
		Total        int            `json:"total"`
		ByCause      map[string]int `json:"by_cause"`
		Concentrated bool           `json:"concentrated"`
		TopReps      []string       `json:"top_reps"`
	}
	reviewAcceptanceOut struct {
		Source   string         `json:"source"`
		SQLs     int            `json:"sqls"`
		Accepted int            `json:"accepted"`
		Rejected int            `json:"rejected"`
		Awaiting int            `json:"awaiting"`
		ByReason map[string]int `json:"rejected_by_category"`
	}
	reviewBandOut struct {
		Band          string `json:"band"`
		SQLs          int    `json:"sqls"`
		Opportunities int    `json:"opportunities"`
		Won           int    `json:"won"`
	}
)

func reviewJSON(rv engine.Review) reviewOut {
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	out := reviewOut{From: day(rv.Span.Start), To: day(rv.Span.End.AddDate(0, 0, -1)), AsOf: rv.AsOf.Format(time.RFC3339),
		Months: []reviewMonthOut{}, Commitments: []reviewCommitmentOut{}, Acceptance: []reviewAcceptanceOut{}, ScoreBands: []reviewBandOut{}}
	for _, m := range rv.Months {
		f := m.Figures
		out.Months = append(out.Months, reviewMonthOut{Month: m.Period.Start.Format("2006-01"), MQLs: f.MQLs, SQLs: f.SQLs,
			OnTime: f.OnTime, Late: f.Late, Pending: f.Pending, CadenceMet: f.CadenceMet, CadenceMissed: f.CadenceMissed,
			Opportunities: f.Opportunities, Won: f.Won})
	}
	for _, c := range rv.Commitments {
		co := reviewCommitmentOut{Commitment: string(c.Key), Side: c.Side, Target: c.Target}
		for _, m := range c.Months {
			var actual *float64
			if m.Measured {
				a := m.Actual
				actual = &a
			}
			co.Actual, co.Missed, co.Flagged = append(co.Actual, actual), append(co.Missed, m.Missed), append(co.Flagged, m.Flagged)
		}
		out.Commitments = append(out.Commitments, co)
	}
	causes := func(m map[engine.BreachCause]int) map[string]int {
		out := map[string]int{}
		for _, c := range engine.BreachCauses {
			out[string(c)] = m[c]
		}
		return out
	}
	out.Breaches = reviewBreachesOut{Total: rv.Breaches.Total, ByCause: causes(rv.Breaches.ByCause),
		Settings: map[string]any{"capacity_open_leads": rv.Settings.CapacityOpenLeads, "routing_delay": engine.FormatDurationShort(rv.Settings.RoutingDelay)},
		Rules:    []reviewRuleBreachOut{}}
	for _, r := range rv.Breaches.Rules {
		out.Breaches.Rules = append(out.Breaches.Rules, reviewRuleBreachOut{Rule: r.Rule, Total: r.Total, ByCause: causes(r.ByCause),
			Concentrated: r.Concentrated, TopReps: append([]string{}, r.TopReps...)})
	}
	for _, g := range append(append([]engine.QualityFigures{}, rv.Quality.Groups...), rv.Quality.All) {
		reasons := map[string]int{}
		for c, n := range g.ByCategory {
			reasons[string(c)] = n
		}
		out.Acceptance = append(out.Acceptance, reviewAcceptanceOut{Source: g.Group, SQLs: g.SQLs, Accepted: g.Accepted,
			Rejected: g.Rejected, Awaiting: g.Awaiting, ByReason: reasons})
	}
	for _, r := range rv.ByScore.Rows {
		out.ScoreBands = append(out.ScoreBands, reviewBandOut{Band: r.Group, SQLs: r.SQLs, Opportunities: r.Opportunities, Won: r.Won})
	}
	return out
}
