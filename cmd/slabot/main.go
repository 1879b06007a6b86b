// Command slabot is the Slack bot that enforces a Sales–Marketing SLA. One
// binary runs the bot, migrates its database, checks the policy file, plans
// the funnel, imports leads and plays a demo.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // time zones work in a scratch container too

	"github.com/slabot/slabot/logging"
)

// command is one `slabot` subcommand.
type command struct {
	Name, Args, Summary string
	Run                 func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "", "connect to Slack and the database and enforce the SLA (the production mode)", cmdRun},
		{"migrate", "[up|status]", "apply database migrations, or list them with when each was applied", cmdMigrate},
		{"policy", "check [FILE] | simulate FILE [--from DATE] [--to DATE] [--json] | unpin TEAM/CHANNEL", "check the SLA policy file and print the agreement in plain words; replay a period's hand-offs under a proposed policy beside the current one; or let a Teams channel name be pinned afresh", cmdPolicy},
		{"plan", "[flags]", "the reverse funnel: deals, SQLs and MQLs needed for a revenue goal", cmdPlan},
		{"report", "[--week W] [--dry-run] | --month YYYY-MM [--by source|segment|rule|score] [--csv FILE|-] [--json] [--as-of DATE]", "post the weekly smarketing report now (--week 2026-W47 for another week), or print it and write its chart (--dry-run); or write a month's scorecard (--month)", cmdReport},
		{"review", "[--months N] [--as-of DATE] [--json]", "print the review of the agreement: both sides month by month, breaches by likely cause, acceptance and the score check (sends nothing)", cmdReview},
		{"demo", "[--speed N] [--keep-db]", "play the whole bot against a Slack simulator and a throwaway database", cmdDemo},
		{"import", "FILE.csv", "hand off leads from a CSV file (columns named like the intake API's fields)", cmdImport},
		{"jobs", "[--all | --state S] [--lead ID] [--limit N] [--retry ID]", "list failing, given-up and running jobs with their last error; run one again", cmdJobs},
		{"webhooks", "[--state S] [--redeliver [ID]]", "list webhook deliveries waiting or parked with their last error; send one again, or every parked one (--redeliver --state parked [--endpoint HOST] [--since TIME])", cmdWebhooks},
		{"help", "", "show this help", nil},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Main runs one subcommand and returns the process exit code: 0 on success,
// 1 when the work failed, 2 when the command line was wrong.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printHelp(stderr)
		return 2
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" {
		printHelp(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.Name == name && c.Run != nil {
			return c.Run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "slabot: %q is not a command. Run `slabot help` to see what slabot can do.\n", name)
	return 2
}

// newLogger is the log of every command: text on w at the level
// SLABOT_LOG_LEVEL names (info when it names none). At info and above,
// email addresses and secrets are masked (package logging): that is what
// operators ship to a log store. Debug, turned on to chase one problem,
// shows them as they are.
func newLogger(w io.Writer, level string) *slog.Logger {
	l, err := parseLogLevel(level)
	if err != nil {
		l = slog.LevelInfo
	}
	return slog.New(logging.Redact(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})))
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "slabot enforces your Sales–Marketing SLA in Slack: every new sales-qualified lead")
	fmt.Fprintln(w, "reaches its rep's DM with a deadline, and slabot nags, escalates and reports.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: slabot COMMAND [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-30s %s\n", c.Name+" "+c.Args, c.Summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Settings (environment variables):")
	for _, s := range settings {
		fmt.Fprintf(w, "  %-20s %s\n  %-20s default: %s\n", s.Name, s.Meaning, "", s.Default)
	}
}
