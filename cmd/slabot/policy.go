package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

func cmdPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "simulate" {
		return cmdPolicySimulate(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "unpin" {
		return cmdPolicyUnpin(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "check" || len(args) > 2 {
		fmt.Fprintln(stderr, "usage: slabot policy check [FILE]   (FILE defaults to SLABOT_POLICY_FILE, or slabot.yaml)")
		fmt.Fprintln(stderr, "       "+strings.TrimPrefix(simulateUsage, "usage: "))
		fmt.Fprintln(stderr, "       "+strings.TrimPrefix(unpinUsage, "usage: "))
		return 2
	}
	path := ""
	if len(args) == 2 {
		path = args[1]
	} else {
		cfg, err := loadConfig()
		if err != nil {
			fmt.Fprintln(stderr, "slabot:", err)
			return 2
		}
		path = cfg.PolicyFile
	}
	policy, problems := engine.LoadPolicy(path, time.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		word := "problems"
		if len(errs) == 1 {
			word = "problem"
		}
		fmt.Fprintf(stderr, "%s has %d %s; slabot will not start with it until they are fixed:\n", path, len(errs), word)
		for _, p := range problems {
			fmt.Fprintln(stderr, "  "+p.String())
		}
		return 1
	}
	for _, w := range problems.Warnings() {
		fmt.Fprintln(stderr, "warning: "+w.String())
	}
	fmt.Fprintf(stdout, "%s is a valid agreement. In plain words:\n\n", path)
	fmt.Fprintln(stdout, policy.Summary())
	if cfg, err := loadConfig(); err == nil && strings.EqualFold(cfg.Chat, engine.PlatformTeams) {
		return checkTeamsChannels(ctx, cfg, policy, stdout, stderr)
	}
	return 0
}

// checkTeamsChannels says which Teams channel each channel name of the
// policy means (pinned, or to be pinned when slabot starts), from the
// channels slabot learnt in the database; an ambiguous name is refused,
// as `slabot run` refuses it.
func checkTeamsChannels(ctx context.Context, cfg Config, policy *engine.Policy, stdout, stderr io.Writer) int {
	if len(teams.PolicyChannels(policy)) == 0 {
		return 0
	}
	if cfg.DatabaseURL == "" {
		fmt.Fprintln(stdout, "\nSet DATABASE_URL to see which Teams channel each channel name of the policy is pinned to.")
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "slabot policy check: cannot open the database to check the Teams channels:", err)
		return 1
	}
	defer db.Close()
	pins, err := teams.CheckChannels(ctx, db, strings.ToLower(strings.TrimSpace(cfg.Teams.TenantID)), policy, false)
	if err != nil && !errors.Is(err, teams.ErrAmbiguousChannel) {
		fmt.Fprintln(stderr, "slabot policy check: cannot read the Teams channels slabot learnt:", err)
		return 1
	}
	fmt.Fprintln(stdout, "\nTeams channels of the policy:")
	for _, p := range pins {
		if errors.Is(p.Err, teams.ErrAmbiguousChannel) {
			continue
		}
		fmt.Fprintln(stdout, "  "+teams.DescribePin(p))
	}
	if err != nil {
		fmt.Fprintln(stderr, "slabot will not start until each channel name of the policy means one channel:")
		for _, p := range pins {
			if errors.Is(p.Err, teams.ErrAmbiguousChannel) {
				fmt.Fprintln(stderr, "  "+strings.TrimPrefix(p.Err.Error(), teams.ErrAmbiguousChannel.Error()+": "))
			}
		}
		return 1
	}
	return 0
}

func cmdPlan(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	revenue := fs.Float64("revenue", 0, "monthly revenue goal, e.g. 5000")
	dealSize := fs.Float64("deal-size", 0, "average deal size, e.g. 100")
	winRate := fs.Float64("win-rate", 0, "share of SQLs won, e.g. 0.5")
	mqls := fs.Int("mqls", 0, "monthly MQLs Marketing delivers, e.g. 1800")
	mqlToSQL := fs.Float64("mql-to-sql", 0, "share of MQLs that become SQLs, e.g. 0.25")
	sqlToWon := fs.Float64("sql-to-won", 0, "share of SQLs won, e.g. 0.15")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: slabot plan --revenue 5000 --deal-size 100 --win-rate 0.5 [--mql-to-sql 0.25]")
		fmt.Fprintln(stderr, "       slabot plan --mqls 1800 --mql-to-sql 0.25 --sql-to-won 0.15")
		fmt.Fprintln(stderr, "       slabot plan              (plans from the targets of the policy file)")
		fs.PrintDefaults()
	}
	if !parseFlags(fs, args) {
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var (
		plan engine.Plan
		err  error
	)
	switch {
	case set["revenue"] || set["deal-size"] || set["win-rate"]:
		plan, err = engine.PlanFromRevenue(*revenue, *dealSize, *winRate, *mqlToSQL)
	case set["mqls"] || set["sql-to-won"]:
		plan, err = engine.PlanFromMQLs(*mqls, *mqlToSQL, *sqlToWon)
	default:
		cfg, cerr := loadConfig()
		if cerr != nil {
			fmt.Fprintln(stderr, "slabot:", cerr)
			return 2
		}
		policy, problems := engine.LoadPolicy(cfg.PolicyFile, time.Now())
		if errs := problems.Errors(); len(errs) > 0 {
			fmt.Fprintf(stderr, "slabot plan: %s has problems (see `slabot policy check`), so give the numbers as flags:\n", cfg.PolicyFile)
			fs.Usage()
			return 1
		}
		t := policy.Targets
		switch {
		case t.Revenue > 0 && t.DealSize > 0 && t.WinRate > 0:
			plan, err = engine.PlanFromRevenue(t.Revenue, t.DealSize, t.WinRate, t.MQLToSQL)
		case t.MQLs > 0:
			plan, err = engine.PlanFromMQLs(t.MQLs, t.MQLToSQL, t.SQLToWon)
		default:
			fmt.Fprintf(stderr, "slabot plan: %s sets no revenue or MQL targets, so give the numbers as flags:\n", cfg.PolicyFile)
			fs.Usage()
			return 2
		}
		if err == nil {
			fmt.Fprintf(stdout, "From the targets in %s:\n", cfg.PolicyFile)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "slabot plan:", engine.ErrorMessage(err))
		return 2
	}
	fmt.Fprintln(stdout, strings.TrimRight(plan.String(), "\n"))
	return 0
}

const unpinUsage = `usage: slabot policy unpin "Team/Channel"   (Teams: the name is pinned afresh when slabot next starts)`

// cmdPolicyUnpin removes the pin of one of the policy's Teams channel
// names, for an operator who checked that the name now means another
// channel (its team was deleted and made again, say): slabot pins it
// afresh when it next starts, or refuses it if it is ambiguous.
func cmdPolicyUnpin(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || strings.TrimSpace(args[0]) == "" {
		fmt.Fprintln(stderr, unpinUsage)
		return 2
	}
	name := strings.TrimSpace(args[0])
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintln(stderr, "slabot:", err)
		return 2
	}
	if cfg.DatabaseURL == "" {
		fmt.Fprintln(stderr, "slabot policy unpin: DATABASE_URL is not set: the pins are kept in slabot's database.")
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "slabot policy unpin: cannot open the database:", err)
		return 1
	}
	defer db.Close()
	id, err := db.UnpinChatChannel(ctx, engine.PlatformTeams, teams.PinName(name))
	switch {
	case engine.ErrorCode(err) == engine.ENOTFOUND:
		fmt.Fprintf(stdout, "%s is not pinned to any channel; nothing to do.\n", name)
		return 0
	case err != nil:
		fmt.Fprintln(stderr, "slabot policy unpin:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s is no longer pinned to channel %s. slabot pins it afresh when it next starts (run `slabot policy check` to see to which channel).\n", name, id)
	return 0
}
