package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/slabot/slabot/api"
	"github.com/slabot/slabot/crm"
	"github.com/slabot/slabot/crm/hubspot"
	"github.com/slabot/slabot/crm/webhook"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

// The CRM loop's wiring: the handlers of the crm queue (the router that
// fans each lead event out, webhook deliveries, HubSpot writes) and the
// `slabot webhooks` command.

// crmHandlers returns the handlers of the crm queue. With HUBSPOT_TOKEN set
// it also turns on lead events for HubSpot, whether or not the policy has
// webhooks.
func crmHandlers(cfg Config, svc *engine.Service, db *storage.DB, logger *slog.Logger) ([]engine.JobHandler, error) {
	logger = logger.With("component", "crm")
	client := &http.Client{Timeout: 30 * time.Second}
	router := &crm.Router{Store: db, Policy: svc.Policy, Now: time.Now, Logger: logger}
	deliverer := &webhook.Deliverer{Store: db, Client: client, Secret: crm.WebhookSecrets(svc.Policy),
		Now: time.Now, Logger: logger}
	handlers := []engine.JobHandler{router.Handler(), deliverer.Handler()}
	hs, err := hubSpotWriter(cfg, db, client, logger)
	if err != nil {
		return nil, err
	}
	if hs != nil {
		// A missing scope is told to the first team's escalation channel.
		if p := svc.Policy(); p != nil && len(p.Teams) > 0 {
			hs.OpsTeam = p.Teams[0].Name
		}
		router.Writers = append(router.Writers, hs.Jobs)
		handlers = append(handlers, hs.Handler())
		svc.PublishToCRMWriter(hubspot.Writes)
	}
	return handlers, nil
}

// redeliverFlag is --redeliver: alone (with --state parked) it sends every
// parked delivery again; with an id (--redeliver ID or --redeliver=ID) one.
type redeliverFlag struct {
	set bool
	id  int64
}

func (f *redeliverFlag) String() string   { return "" }
func (f *redeliverFlag) IsBoolFlag() bool { return true }
func (f *redeliverFlag) Set(v string) error {
	f.set = true
	if v == "true" {
		return nil
	}
	if v == "false" {
		f.set = false
		return nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%q is not a delivery id: slabot webhooks lists them", v)
	}
	f.id = id
	return nil
}

// webhooksOptions are the flags of slabot webhooks.
type webhooksOptions struct {
	state     string
	limit     int
	redeliver redeliverFlag
	endpoint  string
	since     time.Time
}

func cmdWebhooks(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("webhooks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o webhooksOptions
	fs.StringVar(&o.state, "state", "", "deliveries in these states only (comma-separated: pending, parked, delivered); default pending and parked")
	fs.IntVar(&o.limit, "limit", 50, "list at most this many deliveries, oldest first")
	fs.Var(&o.redeliver, "redeliver", "send delivery ID again now with a fresh day of retries; with --state parked and no ID, every parked delivery")
	fs.StringVar(&o.endpoint, "endpoint", "", "with --redeliver --state parked: only deliveries to this host (like hooks.example.com)")
	since := fs.String("since", "", "with --redeliver --state parked: only deliveries parked since this time (2026-12-01 or 2026-12-01T09:00:00Z)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: slabot webhooks [--state S,…] [--limit N]\n"+
			"       slabot webhooks --redeliver ID\n"+
			"       slabot webhooks --redeliver --state parked [--endpoint HOST] [--since TIME]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	// --redeliver ID: the flag reads as a switch, so the id comes after it.
	if o.redeliver.set && o.redeliver.id == 0 && fs.NArg() == 1 {
		if err := o.redeliver.Set(fs.Arg(0)); err != nil {
			fmt.Fprintln(stderr, "slabot webhooks: --redeliver:", err)
			return 2
		}
	} else if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if *since != "" {
		t, err := parseSince(*since)
		if err != nil {
			fmt.Fprintf(stderr, "slabot webhooks: --since %q: write a date (2026-12-01) or a time (2026-12-01T09:00:00Z)\n", *since)
			return 2
		}
		o.since = t
	}
	if o.redeliver.set && o.redeliver.id == 0 && strings.TrimSpace(o.state) != engine.DeliveryParked {
		fmt.Fprintln(stderr, "slabot webhooks: --redeliver needs a delivery id, or --state parked to send every parked delivery again")
		return 2
	}
	if (o.endpoint != "" || !o.since.IsZero()) && !(o.redeliver.set && o.redeliver.id == 0) {
		fmt.Fprintln(stderr, "slabot webhooks: --endpoint and --since go with --redeliver --state parked")
		return 2
	}
	cfg, ok := databaseConfig("webhooks", stderr)
	if !ok {
		return 2
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{Logger: newLogger(stderr, cfg.LogLevel)})
	if err != nil {
		fmt.Fprintln(stderr, "slabot webhooks:", err)
		return 1
	}
	defer db.Close()
	return webhooksCommand(ctx, db, o, stdout, stderr)
}

// parseSince reads --since: a date (midnight UTC) or an RFC 3339 time.
func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

func webhooksCommand(ctx context.Context, db *storage.DB, o webhooksOptions, stdout, stderr io.Writer) int {
	if o.redeliver.set && o.redeliver.id != 0 {
		id := o.redeliver.id
		if err := db.RedeliverWebhook(ctx, id, time.Now(), webhook.RedeliverJob); err != nil {
			fmt.Fprintf(stderr, "slabot webhooks: delivery %d could not be sent again: %v\n", id, engine.ErrorMessage(err))
			return 1
		}
		fmt.Fprintf(stdout, "Delivery %d will be sent again now (a running slabot sends it), with a fresh day of retries.\n", id)
		return 0
	}
	if o.redeliver.set {
		return redeliverParked(ctx, db, storage.ParkedFilter{Host: o.endpoint, Since: o.since}, stdout, stderr)
	}
	filter := storage.WebhookFilter{Limit: o.limit}
	if o.state != "" {
		for _, s := range strings.Split(o.state, ",") {
			s = strings.TrimSpace(s)
			if s != engine.DeliveryPending && s != engine.DeliveryParked && s != engine.DeliveryDelivered {
				fmt.Fprintf(stderr, "slabot webhooks: --state %q: a delivery is pending, parked or delivered\n", s)
				return 2
			}
			filter.States = append(filter.States, s)
		}
	}
	list, err := db.ListWebhookDeliveries(ctx, filter)
	if err != nil {
		fmt.Fprintln(stderr, "slabot webhooks:", err)
		return 1
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "No webhook deliveries waiting or parked. (slabot webhooks --state delivered lists those delivered.)")
		return 0
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSTATE\tEVENT\tSUBJECT\tENDPOINT\tATTEMPTS\tLAST TRY\tLAST ERROR")
	for _, d := range list {
		last := "-"
		if !d.LastAttemptAt.IsZero() {
			last = d.LastAttemptAt.Local().Format(time.DateTime)
		}
		// The endpoint by scheme and host: a hook address may carry its secret.
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.State, d.EventType, d.Subject, webhook.EndpointOrigin(d.Endpoint),
			d.Attempts, last, oneLine(d.LastError, 80))
	}
	w.Flush()
	if o.limit > 0 && len(list) == o.limit {
		fmt.Fprintf(stdout, "These are the oldest %d; there may be more: slabot webhooks --limit %d.\n", o.limit, 4*o.limit)
	}
	fmt.Fprintln(stdout, "Send a parked delivery again with: slabot webhooks --redeliver ID\n"+
		"Send every parked delivery again (after an outage) with: slabot webhooks --redeliver --state parked [--endpoint HOST] [--since TIME]")
	return 0
}

// redeliverParked sends every parked delivery f selects again, in the
// order of their events, so each lead's events reach an endpoint in the
// order they happened; it says how far it got as it goes.
func redeliverParked(ctx context.Context, db *storage.DB, f storage.ParkedFilter, stdout, stderr io.Writer) int {
	list, err := db.ParkedWebhookDeliveries(ctx, f)
	if err != nil {
		fmt.Fprintln(stderr, "slabot webhooks:", err)
		return 1
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "No parked deliveries match: nothing to send again.")
		return 0
	}
	fmt.Fprintf(stdout, "Sending %d parked deliveries again, in the order of their events…\n", len(list))
	done, failed := 0, 0
	for i, d := range list {
		if err := db.RedeliverWebhook(ctx, d.ID, time.Now(), webhook.RedeliverJob); err != nil {
			failed++
			fmt.Fprintf(stderr, "slabot webhooks: delivery %d could not be sent again: %v\n", d.ID, engine.ErrorMessage(err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		done++
		if (i+1)%100 == 0 && i+1 < len(list) {
			fmt.Fprintf(stdout, "%d of %d queued\n", i+1, len(list))
		}
	}
	fmt.Fprintf(stdout, "%d of %d deliveries will be sent again now (a running slabot sends them), each with a fresh day of retries.\n", done, len(list))
	if failed > 0 {
		fmt.Fprintf(stdout, "%d could not be queued (see above); run the same command again to retry them.\n", failed)
		return 1
	}
	return 0
}

// hubSpotWriter is the HubSpot writer when HUBSPOT_TOKEN is set, else nil.
func hubSpotWriter(cfg Config, db *storage.DB, client *http.Client, logger *slog.Logger) (*hubspot.Writer, error) {
	if cfg.HubSpotToken == "" {
		return nil, nil
	}
	if u, err := url.Parse(cfg.HubSpotAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("HUBSPOT_API_URL %q is not an http(s) URL", cfg.HubSpotAPIURL)
	}
	return &hubspot.Writer{Client: &hubspot.Client{BaseURL: cfg.HubSpotAPIURL, Token: cfg.HubSpotToken, HTTP: client},
		Store: db, Now: time.Now, Logger: logger}, nil
}

// hubSpotIntake serves POST /v1/hubspot/handoffs beside the intake: owner
// ids are looked up with HUBSPOT_TOKEN when it is set,
// HUBSPOT_CLIENT_SECRET lets HubSpot's signature stand in for the token,
// and HUBSPOT_SCORE_PROPERTY names the score property.
func hubSpotIntake(cfg Config, intake *api.Intake, svc *engine.Service, logger *slog.Logger) *api.HubSpotIntake {
	var owners api.HubSpotOwners
	if cfg.HubSpotToken != "" {
		owners = &hubspot.Client{BaseURL: cfg.HubSpotAPIURL, Token: cfg.HubSpotToken, HTTP: &http.Client{Timeout: 10 * time.Second}}
	}
	hs := api.NewHubSpotIntake(intake, svc.Policy, owners, cfg.HubSpotClientSecret, logger)
	hs.ScoreProperty = strings.TrimSpace(cfg.HubSpotScoreProp)
	return hs
}
