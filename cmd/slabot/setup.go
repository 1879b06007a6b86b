package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

// parseFlags parses a command's flags, which are all it takes: it reports
// false, the usage already shown, for exit code 2, when a flag is wrong or
// an argument is left over.
func parseFlags(fs *flag.FlagSet, args []string) bool {
	if err := fs.Parse(args); err != nil {
		return false
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return false
	}
	return true
}

// openForReading opens slabot's database for the command name, logging to
// stderr at cfg's level; nil when it cannot, the reason said on stderr.
func openForReading(ctx context.Context, name string, cfg Config, stderr io.Writer) *storage.DB {
	db, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{Logger: newLogger(stderr, cfg.LogLevel)})
	if err != nil {
		fmt.Fprintln(stderr, name+":", err)
		return nil
	}
	return db
}

// asOfDate is the instant an --as-of DATE (YYYY-MM-DD) counts outcomes
// at: the end of that day in loc, or now when the flag is empty or the
// day has not ended yet.
func asOfDate(flag string, now time.Time, loc *time.Location) (time.Time, error) {
	if flag == "" {
		return now, nil
	}
	d, err := engine.ParseCalendarDate(flag)
	if err != nil {
		return time.Time{}, err
	}
	if end := d.AddDays(1).In(loc); end.Before(now) {
		return end, nil
	}
	return now, nil
}

// loadPolicyFor loads the policy file of cfg for the command name as of
// now; when it has problems it says so on stderr, with how to check the
// file, and returns nil.
func loadPolicyFor(name string, cfg Config, now time.Time, stderr io.Writer) *engine.Policy {
	policy, problems := engine.LoadPolicy(cfg.PolicyFile, now)
	if errs := problems.Errors(); len(errs) > 0 {
		fmt.Fprintf(stderr, "%s: the policy file %s has problems (check it with `slabot policy check %s`):\n%v\n", name, cfg.PolicyFile, cfg.PolicyFile, errs)
		return nil
	}
	return policy
}

// readingSetup loads the settings and the policy of a command that only
// reads slabot's database. A non-zero code is the command's exit code,
// the reason already said on stderr.
func readingSetup(name string, stderr io.Writer) (cfg Config, policy *engine.Policy, now time.Time, code int) {
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintln(stderr, "slabot:", err)
		return cfg, nil, now, 2
	}
	if cfg.DatabaseURL == "" {
		fmt.Fprintln(stderr, name+": DATABASE_URL is not set: point it at slabot's PostgreSQL database.")
		return cfg, nil, now, 2
	}
	now = time.Now()
	if policy = loadPolicyFor(name, cfg, now, stderr); policy == nil {
		return cfg, nil, now, 1
	}
	return cfg, policy, now, 0
}
