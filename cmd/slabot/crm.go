package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
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

func cmdWebhooks(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("webhooks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", "", "list deliveries in these states only (comma-separated: pending, parked, delivered); default pending and parked")
	limit := fs.Int("limit", 50, "list at most this many deliveries, oldest first")
	redeliver := fs.Int64("redeliver", 0, "send the delivery with this id again now, with a fresh day of retries (after fixing the endpoint)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: slabot webhooks [--state S,…] [--limit N] | slabot webhooks --redeliver ID")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if err == nil {
			fs.Usage()
		}
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
	return webhooksCommand(ctx, db, *state, *limit, *redeliver, stdout, stderr)
}

func webhooksCommand(ctx context.Context, db *storage.DB, state string, limit int, redeliver int64, stdout, stderr io.Writer) int {
	if redeliver != 0 {
		if err := db.RedeliverWebhook(ctx, redeliver, time.Now(), webhook.RedeliverJob); err != nil {
			fmt.Fprintf(stderr, "slabot webhooks: delivery %d could not be sent again: %v\n", redeliver, engine.ErrorMessage(err))
			return 1
		}
		fmt.Fprintf(stdout, "Delivery %d will be sent again now (a running slabot sends it), with a fresh day of retries.\n", redeliver)
		return 0
	}
	filter := storage.WebhookFilter{Limit: limit}
	if state != "" {
		for _, s := range strings.Split(state, ",") {
			s = strings.TrimSpace(s)
			if s != storage.DeliveryPending && s != storage.DeliveryParked && s != storage.DeliveryDelivered {
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
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.State, d.EventType, d.Subject, d.Endpoint,
			d.Attempts, last, oneLine(d.LastError, 80))
	}
	w.Flush()
	if limit > 0 && len(list) == limit {
		fmt.Fprintf(stdout, "These are the oldest %d; there may be more: slabot webhooks --limit %d.\n", limit, 4*limit)
	}
	fmt.Fprintln(stdout, "Send a parked delivery again with: slabot webhooks --redeliver ID")
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
// ids are looked up with HUBSPOT_TOKEN when it is set, and
// HUBSPOT_CLIENT_SECRET lets HubSpot's v3 signature stand in for the token.
func hubSpotIntake(cfg Config, intake *api.Intake, svc *engine.Service, logger *slog.Logger) *api.HubSpotIntake {
	var owners api.HubSpotOwners
	if cfg.HubSpotToken != "" {
		owners = &hubspot.Client{BaseURL: cfg.HubSpotAPIURL, Token: cfg.HubSpotToken, HTTP: &http.Client{Timeout: 10 * time.Second}}
	}
	return api.NewHubSpotIntake(intake, svc.Policy, owners, cfg.HubSpotClientSecret, logger)
}
