package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/slabot/slabot/storage"
)

// troubleStates are the states an operator looks at first: jobs that
// failed and will run again, jobs given up on, and jobs running now (one
// running for long belongs to a worker that died and is rescued in time).
var troubleStates = []string{"retryable", "discarded", "running"}

func cmdJobs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("jobs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	all := fs.Bool("all", false, "list jobs in every state, not only those failing, given up or running")
	state := fs.String("state", "", "list jobs in these states only (comma-separated: available, scheduled, running, retryable, completed, cancelled, discarded)")
	lead := fs.Int64("lead", 0, "list the jobs of one lead (its slabot id)")
	limit := fs.Int("limit", 50, "list at most this many jobs, newest first")
	retry := fs.Int64("retry", 0, "run the job with this id again now (after fixing what made it fail)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: slabot jobs [--all | --state S,…] [--lead ID] [--limit N] | slabot jobs --retry JOB_ID")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	cfg, ok := databaseConfig("jobs", stderr)
	if !ok {
		return 2
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{Logger: newLogger(stderr, cfg.LogLevel)})
	if err != nil {
		fmt.Fprintln(stderr, "slabot jobs:", err)
		return 1
	}
	defer db.Close()
	if *retry != 0 {
		if err := db.RetryJob(ctx, *retry); err != nil {
			fmt.Fprintf(stderr, "slabot jobs: job %d could not be retried: %v\n", *retry, err)
			return 1
		}
		fmt.Fprintf(stdout, "Job %d will run again now.\n", *retry)
		return 0
	}
	filter := storage.JobFilter{LeadID: *lead, Limit: *limit, States: troubleStates}
	switch {
	case *state != "":
		filter.States = strings.Split(*state, ",")
	case *all || *lead != 0:
		filter.States = nil
	}
	jobs, err := db.ListJobs(ctx, filter)
	if err != nil {
		fmt.Fprintln(stderr, "slabot jobs:", err)
		return 1
	}
	if len(jobs) == 0 {
		if filter.States == nil {
			fmt.Fprintln(stdout, "No jobs.")
		} else {
			fmt.Fprintf(stdout, "No jobs %s. (slabot jobs --all lists every job.)\n", strings.Join(filter.States, ", "))
		}
		return 0
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tKIND\tQUEUE\tLEAD\tSTATE\tATTEMPT\tRUN AT\tLAST ERROR")
	for _, j := range jobs {
		lead := "-"
		if j.LeadID != 0 {
			lead = strconv.FormatInt(j.LeadID, 10)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", j.ID, j.Kind, j.Queue, lead, j.State, j.Attempts, j.MaxAttempts,
			j.RunAt.Local().Format(time.DateTime), oneLine(j.LastError, 80))
	}
	w.Flush()
	return 0
}

// oneLine shortens s to one line of at most n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	if s == "" {
		return "-"
	}
	return s
}
