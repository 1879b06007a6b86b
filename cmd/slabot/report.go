package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/chart"
	"github.com/slabot/slabot/bot/terminal"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

// cmdReport posts the weekly report now, or with --dry-run prints it and
// writes its chart without touching Slack.
func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if wantsScorecard(args) {
		return cmdReportScorecard(ctx, args, stdout, stderr)
	}
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	weekFlag := fs.String("week", "", "the ISO week to report, like 2026-W47 (default: the week the scheduled report covers now: last week on Monday to Wednesday, this week from Thursday)")
	dryRun := fs.Bool("dry-run", false, "print the report and write its chart to a file instead of posting it")
	chartPath := fs.String("chart", "", "with --dry-run, where to write the chart PNG (default: a file in the temporary directory)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: slabot report [--week 2026-W47] [--dry-run [--chart FILE.png]]\n       slabot report --month 2026-05 [--by source|segment|rule|score] [--csv FILE|-] [--json] [--as-of 2026-08-31]")
		fmt.Fprintln(stderr, "Posts the weekly smarketing report, with its chart, to the policy's report channel.")
		fmt.Fprintln(stderr, "Needs DATABASE_URL, and the chat platform's settings (SLABOT_CHAT) unless --dry-run.")
		fs.PrintDefaults()
	}
	if !parseFlags(fs, args) {
		return 2
	}
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintln(stderr, "slabot:", err)
		return 2
	}
	var missing []string
	if cfg.DatabaseURL == "" {
		missing = append(missing, "DATABASE_URL is not set: point it at slabot's PostgreSQL database.")
	}
	if !*dryRun {
		// Only the settings of the platform SLABOT_CHAT names, and of
		// those only what posting needs.
		missing = append(missing, cfg.chatProblems(false)...)
	}
	if len(missing) > 0 {
		for _, m := range missing {
			fmt.Fprintln(stderr, "slabot report:", m)
		}
		if !*dryRun {
			fmt.Fprintln(stderr, "slabot report: add --dry-run to see the report without posting it.")
		}
		return 2
	}
	now := time.Now()
	policy := loadPolicyFor("slabot report", cfg, now, stderr)
	if policy == nil {
		return 1
	}
	week := bot.ReportWeek(now, policy.Location)
	if *weekFlag != "" {
		if week, err = engine.ParseISOWeek(*weekFlag, policy.Location); err != nil {
			fmt.Fprintln(stderr, "slabot report:", engine.ErrorMessage(err))
			return 2
		}
	}
	if !*dryRun && policy.Report.Channel == "" {
		fmt.Fprintf(stderr, "slabot report: the policy file %s names no report channel: add report: {channel: \"#smarketing\"}.\n", cfg.PolicyFile)
		return 1
	}

	logger := newLogger(stderr, cfg.LogLevel)
	db, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{Logger: logger})
	if err != nil {
		fmt.Fprintln(stderr, "slabot report:", err)
		return 1
	}
	defer db.Close()
	if err := db.Ping(ctx); err != nil {
		fmt.Fprintln(stderr, "slabot report:", err)
		return 1
	}

	if *dryRun {
		view, err := bot.LoadReport(ctx, db, policy, week, now)
		if err != nil {
			fmt.Fprintln(stderr, "slabot report:", reportFailure(err))
			return 1
		}
		fmt.Fprint(stdout, terminal.Render(bot.ReportFigures(view)))
		png, err := chart.WeeklyChart(view.Report)
		if err != nil {
			fmt.Fprintln(stderr, "slabot report: drawing the chart:", err)
			return 1
		}
		path := *chartPath
		if path == "" {
			path = filepath.Join(os.TempDir(), "slabot-report-"+bot.ISOWeek(week)+".png")
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			fmt.Fprintln(stderr, "slabot report: writing the chart:", err)
			return 1
		}
		fmt.Fprintf(stdout, "\nChart (%d×%d): %s\n", chart.Width, chart.Height, path)
		return 0
	}

	service := engine.NewService(db, policy, time.Now, logger)
	poster, _, _ := newChatApp(cfg, db, service, logger, nil)
	if err := poster.PostWeeklyReport(ctx, week); err != nil {
		fmt.Fprintln(stderr, "slabot report: posting the report failed:", reportFailure(err))
		return 1
	}
	fmt.Fprintf(stdout, "Posted the report for %s to %s.\n", week.Label, policy.Report.Channel)
	return 0
}

// reportFailure adds what to do when the database has no tables yet.
func reportFailure(err error) string {
	msg := engine.ErrorMessage(err)
	if engine.ErrorCode(err) == engine.EINTERNAL {
		msg = err.Error()
	}
	if strings.Contains(err.Error(), "does not exist") {
		msg += " (is the database migrated? Run `slabot migrate`.)"
	}
	return msg
}
