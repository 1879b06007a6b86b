package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

// slabot policy simulate: a period's real hand-offs replayed under a
// proposed policy beside the current one. It only reads the database.

const simulateUsage = "usage: slabot policy simulate PROPOSED.yaml [--from DATE] [--to DATE] [--json]"

// replayNotice is said with every replay, so nobody takes it for a forecast.
const replayNotice = "This is a replay of what happened, not a forecast: the same hand-offs, touches, outcomes and absences, " +
	"judged under each policy. Under other deadlines people may have worked differently, and the replay cannot know how."

// simulateOptions are the command line of one simulation.
type simulateOptions struct {
	proposed, current string // policy files
	from, to          string // YYYY-MM-DD, inclusive; "" for the last full quarter
	json              bool
}

func cmdPolicySimulate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var opt simulateOptions
	fs := flag.NewFlagSet("policy simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&opt.from, "from", "", "first day of the period, YYYY-MM-DD (default: the last full quarter)")
	fs.StringVar(&opt.to, "to", "", "last day of the period, YYYY-MM-DD, included")
	fs.BoolVar(&opt.json, "json", false, "print the figures as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, simulateUsage)
		fmt.Fprintln(stderr, "Replays a period's hand-offs under PROPOSED.yaml beside the current policy (SLABOT_POLICY_FILE).")
		fs.PrintDefaults()
	}
	// Flags may come before or after the file.
	var files []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return 2
	}
	opt.proposed = files[0]
	cfg, ok := databaseConfig("policy simulate", stderr)
	if !ok {
		return 2
	}
	opt.current = cfg.PolicyFile
	db, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{MaxConns: 2})
	if err != nil {
		fmt.Fprintln(stderr, "slabot policy simulate:", err)
		return 1
	}
	defer db.Close()
	return simulate(ctx, opt, db, time.Now(), stdout, stderr)
}

// simulate runs one simulation as of now against db.
func simulate(ctx context.Context, opt simulateOptions, db *storage.DB, now time.Time, stdout, stderr io.Writer) int {
	current, ok := loadSimulatedPolicy(opt.current, "current", now, stderr)
	if !ok {
		return 1
	}
	proposed, ok := loadSimulatedPolicy(opt.proposed, "proposed", now, stderr)
	if !ok {
		return 1
	}
	period, err := simulationPeriod(opt.from, opt.to, current.Location, now)
	if err != nil {
		fmt.Fprintln(stderr, "slabot policy simulate:", err)
		return 2
	}
	var bar *progress
	if p := newProgress(stderr, 0); p.terminal {
		bar = p
	}
	moves := engine.NewRuleMoves(current, proposed, period, now)
	results, err := db.Replay(ctx, period, now, []*engine.Policy{current, proposed}, func(done, total int) {
		if bar != nil {
			bar.total = int64(total)
			bar.update(int64(done))
		}
	}, moves.Add)
	if bar != nil {
		bar.done()
	}
	if err != nil {
		fmt.Fprintln(stderr, "slabot policy simulate:", err)
		return 1
	}
	out := simulationOf(period, results[0], results[1])
	if opt.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintln(stderr, "slabot policy simulate:", err)
			return 1
		}
		fmt.Fprintln(stderr, replayNotice)
		return 0
	}
	writeSimulation(stdout, out, opt, current, proposed)
	writeRuleChanges(stdout, out, moves.Moves())
	peak := fmt.Sprint(results[0].PeakOpen)
	if results[1].PeakOpen != results[0].PeakOpen {
		peak += fmt.Sprintf(" → %d", results[1].PeakOpen)
	}
	fmt.Fprintf(stdout, "\nThe most open leads one rep held at once in the period: %s.\n", peak)
	return 0
}

func loadSimulatedPolicy(path, which string, now time.Time, stderr io.Writer) (*engine.Policy, bool) {
	p, problems := engine.LoadPolicy(path, now)
	if errs := problems.Errors(); len(errs) > 0 {
		fmt.Fprintf(stderr, "slabot policy simulate: the %s policy %s has problems:\n", which, path)
		for _, e := range errs {
			fmt.Fprintln(stderr, "  "+e.String())
		}
		return nil, false
	}
	return p, true
}

// simulationPeriod is [from, to] as whole days in loc, or the last full
// quarter before now. A missing from is the quarter's first day before to;
// a missing to is yesterday.
func simulationPeriod(from, to string, loc *time.Location, now time.Time) (engine.Period, error) {
	if from == "" && to == "" {
		this, err := engine.PeriodContaining("quarter", now, loc)
		if err != nil {
			return engine.Period{}, err
		}
		return engine.PeriodContaining("quarter", this.Start.Add(-time.Hour), loc)
	}
	day := func(s, what string) (engine.CalendarDate, error) {
		d, err := engine.ParseCalendarDate(strings.TrimSpace(s))
		if err != nil {
			return d, fmt.Errorf("--%s %q is not a date: write it as YYYY-MM-DD", what, s)
		}
		return d, nil
	}
	var first, last engine.CalendarDate
	var err error
	if to == "" {
		last = engine.DateOf(now.In(orLocal(loc))).AddDays(-1)
	} else if last, err = day(to, "to"); err != nil {
		return engine.Period{}, err
	}
	if from == "" {
		q, err := engine.PeriodContaining("quarter", last.In(orLocal(loc)), loc)
		if err != nil {
			return engine.Period{}, err
		}
		first = engine.DateOf(q.Start)
	} else if first, err = day(from, "from"); err != nil {
		return engine.Period{}, err
	}
	if last.Before(first) {
		return engine.Period{}, fmt.Errorf("--to %s is before --from %s", last, first)
	}
	l := orLocal(loc)
	return engine.Period{Start: first.In(l), End: last.AddDays(1).In(l), Label: first.String() + " to " + last.String()}, nil
}

func orLocal(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

// The JSON contract (design.md, "Policy replay").
type (
	simulation struct {
		From  string           `json:"from"`
		To    string           `json:"to"`
		Leads int              `json:"leads"`
		Rules []simulationRule `json:"rules"`
	}
	simulationRule struct {
		Rule     string         `json:"rule"`
		Current  *simulationFig `json:"current"`
		Proposed *simulationFig `json:"proposed"`
	}
	simulationFig struct {
		Leads      int            `json:"leads"`
		OnTime     int            `json:"on_time"`
		Late       int            `json:"late"`
		Pending    int            `json:"pending"`
		MedianS    int64          `json:"median_s"`
		P90S       int64          `json:"p90_s"`
		Breaches   map[string]int `json:"breaches"`
		Reassigned int            `json:"reassigned"`
		Returned   int            `json:"returned"`
		Reminders  int            `json:"reminders"`
	}
)

func simulationOf(period engine.Period, current, proposed engine.ReplayResult) simulation {
	s := simulation{
		From:  engine.DateOf(period.Start).String(),
		To:    engine.DateOf(period.End.Add(-time.Nanosecond)).String(),
		Leads: current.Total.Leads,
		Rules: []simulationRule{},
	}
	for _, c := range engine.CompareReplays(current, proposed) {
		s.Rules = append(s.Rules, simulationRule{Rule: c.Rule, Current: figOf(c.Current), Proposed: figOf(c.Proposed)})
	}
	return s
}

func figOf(f *engine.ReplayFigures) *simulationFig {
	if f == nil {
		return nil
	}
	breaches := map[string]int{string(engine.BreachFirstTouch): 0, string(engine.BreachCadence): 0}
	for k, n := range f.Breaches {
		breaches[string(k)] += n
	}
	return &simulationFig{
		Leads: f.Leads, OnTime: f.OnTime, Late: f.Late, Pending: f.Pending,
		MedianS: seconds(f.TimeToFirstTouch.Median), P90S: seconds(f.TimeToFirstTouch.P90),
		Breaches: breaches, Reassigned: f.Reassigned, Returned: f.Returned, Reminders: f.Reminders,
	}
}

// seconds rounds d to whole seconds.
func seconds(d time.Duration) int64 { return int64(d.Round(time.Second) / time.Second) }

// writeSimulation prints the comparison as a table, a rule a block: the
// current figure, and the proposed one beside it when it differs.
func writeSimulation(w io.Writer, s simulation, opt simulateOptions, current, proposed *engine.Policy) {
	zone := "UTC"
	if current.Location != nil {
		zone = current.Location.String()
	}
	fmt.Fprintf(w, "Policy replay, %s to %s (%s): %d leads received.\n", s.From, s.To, zone, s.Leads)
	fmt.Fprintf(w, "Current: %s. Proposed: %s.\n%s\n\n", opt.current, opt.proposed, replayNotice)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "rule\tleads\ton time\tlate\tpending\tmedian to first touch\t90th percentile\tbreaches: first touch\tcadence\treassigned\treturned\treminders\t")
	for _, r := range s.Rules {
		cells := []func(f *simulationFig) string{
			func(f *simulationFig) string { return fmt.Sprint(f.Leads) },
			func(f *simulationFig) string { return onTimeCell(f) },
			func(f *simulationFig) string { return fmt.Sprint(f.Late) },
			func(f *simulationFig) string { return fmt.Sprint(f.Pending) },
			func(f *simulationFig) string { return secondsText(f.MedianS) },
			func(f *simulationFig) string { return secondsText(f.P90S) },
			func(f *simulationFig) string { return fmt.Sprint(f.Breaches[string(engine.BreachFirstTouch)]) },
			func(f *simulationFig) string { return fmt.Sprint(f.Breaches[string(engine.BreachCadence)]) },
			func(f *simulationFig) string { return fmt.Sprint(f.Reassigned) },
			func(f *simulationFig) string { return fmt.Sprint(f.Returned) },
			func(f *simulationFig) string { return fmt.Sprint(f.Reminders) },
		}
		row := []string{r.Rule}
		for _, cell := range cells {
			row = append(row, changeText(r.Current, r.Proposed, cell))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	_ = tw.Flush()
	target := func(p *engine.Policy) string {
		if p.Targets.FirstTouchOnTime > 0 {
			return fmt.Sprintf("%g%%", 100*p.Targets.FirstTouchOnTime)
		}
		return fmt.Sprintf("%g%%", 100*engine.DefaultFirstTouchOnTime)
	}
	targets := target(current)
	if t := target(proposed); t != targets {
		targets += " → " + t
	}
	fmt.Fprintf(w, "\nA → B: the current policy's figure, then the proposed one's; one figure when both agree; — where a policy has no such rule.\n")
	fmt.Fprintf(w, "On time is the share of first touches made by the deadline (target %s); times count business hours.\n", targets)
}

// writeRuleChanges says which leads would fall under another rule, and
// which rules would match no lead of the period.
func writeRuleChanges(w io.Writer, s simulation, moves []engine.RuleMove) {
	name := func(r string) string {
		if r == "" {
			return "no rule"
		}
		return r
	}
	if len(moves) > 0 {
		fmt.Fprintln(w, "\nLeads that would fall under another rule:")
		for _, m := range moves {
			fmt.Fprintf(w, "  %d from %s to %s\n", m.Leads, name(m.From), name(m.To))
		}
	}
	var idle []string
	for _, r := range s.Rules {
		if r.Proposed != nil && r.Proposed.Leads == 0 {
			idle = append(idle, r.Rule)
		}
	}
	if len(idle) > 0 {
		fmt.Fprintf(w, "\nRules of the proposed policy that no lead of the period would fall under: %s.\n", strings.Join(idle, ", "))
	}
}

func changeText(cur, prop *simulationFig, cell func(*simulationFig) string) string {
	switch {
	case cur == nil:
		return "— → " + cell(prop)
	case prop == nil:
		return cell(cur) + " → —"
	}
	a, b := cell(cur), cell(prop)
	if a == b {
		return a
	}
	return a + " → " + b
}

func onTimeCell(f *simulationFig) string {
	if f.OnTime+f.Late == 0 {
		return fmt.Sprint(f.OnTime)
	}
	return fmt.Sprintf("%d (%.1f%%)", f.OnTime, 100*float64(f.OnTime)/float64(f.OnTime+f.Late))
}

// secondsText writes a duration for people: "42s", "14m", "3h05m".
func secondsText(s int64) string {
	d := time.Duration(s) * time.Second
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", s)
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, (s%3600)/60)
}
