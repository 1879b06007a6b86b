package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slabot/slabot/engine"
)

// `slabot report --month 2026-05 --by source --csv FILE`: the monthly
// scorecard as a file, with the columns of the design's "Scorecard"
// contract, for the spreadsheet that tracks the agreement month by month.

// scorecardColumns are the contract's columns, in order.
var scorecardColumns = []string{"group", "sqls", "first_touch_on_time", "first_touch_late", "first_touch_pending",
	"first_touch_median_s", "first_touch_p90_s", "cadence_met", "cadence_missed", "returned",
	"opportunities", "won", "lost", "won_amount",
	// After the contract's, the accepted-lead loop's (issue 23): the
	// group's hand-offs accepted and rejected, the share accepted of those
	// decided (empty when none was) against targets.accepted, the category
	// that sent most back, the cards that lacked something, and contested
	// rejections by decision.
	"accepted", "rejected", "accepted_share", "accepted_target", "top_rejection", "card_missing",
	"contested_upheld", "contested_overturned"}

// wantsScorecard reports whether report's arguments ask for the scorecard
// (--month), not the weekly report.
func wantsScorecard(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool {
		return a == "--month" || a == "-month" || strings.HasPrefix(a, "--month=") || strings.HasPrefix(a, "-month=")
	})
}

func cmdReportScorecard(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	monthFlag := fs.String("month", "", "the month whose leads to count, like 2026-05")
	byFlag := fs.String("by", "source", "group the leads by source, segment, rule or score")
	csvFlag := fs.String("csv", "", "write the scorecard as CSV to FILE (- for standard output; the default without --json)")
	jsonFlag := fs.Bool("json", false, "write the scorecard as JSON to standard output")
	asOfFlag := fs.String("as-of", "", "count outcomes as they stood at the end of DATE (YYYY-MM-DD; default now)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: slabot report --month 2026-05 [--by source|segment|rule|score] [--csv FILE|-] [--json] [--as-of 2026-08-31]")
		fmt.Fprintln(stderr, "Writes the month's scorecard: the leads received in the month, grouped, with their outcomes as of now.")
		fmt.Fprintln(stderr, "Needs DATABASE_URL.")
		fs.PrintDefaults()
	}
	if !parseFlags(fs, args) {
		return 2
	}
	if *jsonFlag && *csvFlag == "-" {
		fmt.Fprintln(stderr, "slabot report: --json and --csv - would both write to standard output: give --csv a file.")
		return 2
	}
	by, err := engine.ParseGroupBy(*byFlag)
	if err != nil {
		fmt.Fprintln(stderr, "slabot report:", engine.ErrorMessage(err))
		return 2
	}
	cfg, policy, now, code := readingSetup("slabot report", stderr)
	if code != 0 {
		return code
	}
	month, err := engine.ParseScorecardMonth(*monthFlag, policy.Location)
	if err != nil {
		fmt.Fprintln(stderr, "slabot report:", engine.ErrorMessage(err))
		return 2
	}
	asOf, err := asOfDate(*asOfFlag, now, policy.Location)
	if err != nil {
		fmt.Fprintln(stderr, "slabot report: --as-of:", engine.ErrorMessage(err))
		return 2
	}

	db := openForReading(ctx, "slabot report", cfg, stderr)
	if db == nil {
		return 1
	}
	defer db.Close()
	sc, err := db.Scorecard(ctx, policy, by, month, asOf, 0)
	if err != nil {
		fmt.Fprintln(stderr, "slabot report:", reportFailure(err))
		return 1
	}
	rows := append(slices.Clone(sc.Rows), sc.All)
	// The leads' acceptance as of now (--as-of does not apply to it).
	facts, err := db.QualityFacts(ctx, month.Start, month.End)
	if err != nil {
		fmt.Fprintln(stderr, "slabot report:", reportFailure(err))
		return 1
	}
	quality := engine.ComputeQualityBy(facts, engine.QualityGroupOf(policy, by), policy.Targets.Accepted)
	byGroup := map[string]engine.QualityFigures{engine.AllGroup: quality.All}
	for _, g := range quality.Groups {
		byGroup[g.Group] = g
	}
	records := make([][]string, len(rows))
	for i, r := range rows {
		records[i] = append(scorecardRecord(r), qualityRecord(byGroup[r.Group], quality.Target)...)
	}

	if *jsonFlag {
		if err := writeScorecardJSON(stdout, records); err != nil {
			fmt.Fprintln(stderr, "slabot report: writing JSON:", err)
			return 1
		}
		if *csvFlag == "" {
			return 0
		}
	}
	out, closeOut := stdout, func() error { return nil }
	if *csvFlag != "" && *csvFlag != "-" {
		f, err := os.Create(*csvFlag)
		if err != nil {
			fmt.Fprintln(stderr, "slabot report:", err)
			return 1
		}
		out, closeOut = f, f.Close
	}
	err = writeScorecardCSV(out, records)
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(stderr, "slabot report: writing CSV:", err)
		return 1
	}
	return 0
}

// scorecardRecord is a row's values in the contract's column order: plain
// numbers, seconds of business time, "" for a median of nothing.
func scorecardRecord(r engine.ScorecardRow) []string {
	seconds := func(d time.Duration) string {
		if r.TimeToFirstTouch.Count == 0 {
			return ""
		}
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
	}
	n := strconv.Itoa
	return []string{r.Group, n(r.SQLs), n(r.OnTime), n(r.Late), n(r.Pending),
		seconds(r.TimeToFirstTouch.Median), seconds(r.TimeToFirstTouch.P90), n(r.CadenceMet), n(r.CadenceMissed), n(r.Returned),
		n(r.Opportunities), n(r.Won), n(r.Lost), strconv.FormatFloat(r.WonAmount, 'f', -1, 64)}
}

// qualityRecord is a group's acceptance, in the columns after the
// contract's.
func qualityRecord(q engine.QualityFigures, target float64) []string {
	n := strconv.Itoa
	share := ""
	if q.Decided {
		share = strconv.FormatFloat(q.AcceptedShare, 'f', 4, 64)
	}
	top, _, _ := q.TopRejection()
	return []string{n(q.Accepted), n(q.Rejected), share, strconv.FormatFloat(target, 'f', -1, 64), string(top),
		n(q.CardMissing), n(q.Upheld), n(q.Overturned)}
}

func writeScorecardCSV(w io.Writer, records [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(scorecardColumns); err != nil {
		return err
	}
	for _, rec := range records {
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeScorecardJSON writes the same fields per group: numbers as
// numbers, a median of nothing as null.
func writeScorecardJSON(w io.Writer, records [][]string) error {
	out := make([]map[string]any, 0, len(records))
	for _, rec := range records {
		m := map[string]any{"group": rec[0]}
		for i, col := range scorecardColumns[1:] {
			v := rec[i+1]
			switch {
			case v == "":
				m[col] = nil
			case col == "top_rejection":
				m[col] = v
			default:
				m[col] = json.Number(v)
			}
		}
		out = append(out, m)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
