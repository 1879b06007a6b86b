package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

// How deliveries go out:
//
//   - Each event becomes one delivery per endpoint that wants it, recorded
//     with the exact body and the webhook-id it keeps on every attempt.
//   - In order per subject: a delivery waits while an earlier delivery of
//     the same lead (or rep) to the same endpoint is pending.
//   - Any 2xx is delivered. Anything else is tried again after 5 s, 15 s,
//     30 s, 1, 2, 5, 10, 30 minutes, then hourly (with jitter), until the
//     retry window (24 hours from the event) is over: then the delivery is
//     parked. 410 Gone parks it at once.
//   - A parked delivery no longer holds later ones back: the line moves on
//     and later events arrive without it (each with its own retry window,
//     counted from its own event, so after a long outage they park quickly
//     too rather than each taking another day). An operator lists parked
//     deliveries with `slabot webhooks` and sends one again with
//     --redeliver, which gives it a new window; it then arrives after the
//     events that followed it, with its own timestamp in the body.

// JobDeliver is the kind of the job that attempts one delivery.
const JobDeliver = "webhook.deliver"

// DeliverArgs attempts the delivery DeliveryID.
type DeliverArgs struct {
	DeliveryID int64 `json:"delivery_id,string"`
}

func (DeliverArgs) Kind() string  { return JobDeliver }
func (DeliverArgs) Queue() string { return engine.QueueCRM }

// DeliverJob is the job that first attempts delivery id.
func DeliverJob(id int64) engine.Job {
	return RedeliverJob(id, 0)
}

// RedeliverJob is the job of an operator's n-th redelivery of id.
func RedeliverJob(id int64, n int) engine.Job {
	return engine.Job{Args: DeliverArgs{DeliveryID: id}, UniqueKey: fmt.Sprintf("%s:%d:%d", JobDeliver, id, n)}
}

// DefaultWindow is how long a delivery is retried before it is parked.
const DefaultWindow = 24 * time.Hour

var schedule = []time.Duration{5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute,
	2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour}

// Backoff is the wait after the n-th failed attempt (n from 1), with up to
// a fifth of jitter so a recovered endpoint is not hit by every delivery
// at once.
func Backoff(n int) time.Duration {
	d := schedule[min(max(n, 1), len(schedule))-1]
	return d - time.Duration(rand.Int64N(int64(d/5)+1))
}

// Store is what delivering needs of storage.
type Store interface {
	WebhookDeliveryByID(ctx context.Context, id int64) (*storage.WebhookDelivery, error)
	EarlierWebhookDelivery(ctx context.Context, d *storage.WebhookDelivery) (*storage.WebhookDelivery, error)
	RecordWebhookAttempt(ctx context.Context, id int64, a storage.WebhookAttempt) error
}

// Deliverer attempts deliveries.
type Deliverer struct {
	Store  Store
	Client *http.Client
	// Secret returns the signing key of an endpoint (see engine.WebhookSecret).
	Secret func(endpoint string) ([]byte, error)
	Now    func() time.Time
	// Window is how long a delivery is retried (DefaultWindow when zero);
	// Backoff the wait after the n-th failure (the package's Backoff when nil).
	Window  time.Duration
	Backoff func(n int) time.Duration
	Logger  *slog.Logger
}

// Handler is the job handler of deliveries.
func (d *Deliverer) Handler() engine.JobHandler {
	return engine.Handle(func(ctx context.Context, job engine.Job, args DeliverArgs) error {
		return d.Deliver(ctx, args.DeliveryID)
	})
}

// errHeldBack says a delivery waits for an earlier one.
var errHeldBack = errors.New("an earlier event of the same lead to the same endpoint is not delivered yet")

// Deliver attempts delivery id once, unless it is done or must wait.
func (d *Deliverer) Deliver(ctx context.Context, id int64) error {
	del, err := d.Store.WebhookDeliveryByID(ctx, id)
	if engine.ErrorCode(err) == engine.ENOTFOUND {
		return engine.DropJob(err)
	}
	if err != nil {
		return err
	}
	if del.State != storage.DeliveryPending {
		return nil
	}
	now := d.Now()
	earlier, err := d.Store.EarlierWebhookDelivery(ctx, del)
	if err != nil {
		return err
	}
	if earlier != nil {
		wait := time.Second
		if w := earlier.NextAttemptAt.Sub(now); w > wait {
			wait = w + time.Second
		}
		return engine.RetryAfter(wait, errHeldBack)
	}
	status, sendErr := d.send(ctx, del, now)
	attempt := storage.WebhookAttempt{At: now, Status: status, State: storage.DeliveryPending}
	n := del.Attempts + 1
	window := d.Window
	if window <= 0 {
		window = DefaultWindow
	}
	backoff := d.Backoff
	if backoff == nil {
		backoff = Backoff
	}
	var retryIn time.Duration
	switch {
	case sendErr == nil:
		attempt.State = storage.DeliveryDelivered
	case status == http.StatusGone:
		attempt.State, attempt.Error = storage.DeliveryParked, sendErr.Error()+" (the endpoint says it is gone: parked at once)"
	case now.Sub(del.RetryFrom) >= window:
		attempt.State, attempt.Error = storage.DeliveryParked, fmt.Sprintf("%v (retried for %s: parked)", sendErr, window)
	default:
		retryIn = backoff(n)
		attempt.Error, attempt.NextAt = sendErr.Error(), now.Add(retryIn)
	}
	if err := d.Store.RecordWebhookAttempt(ctx, del.ID, attempt); err != nil {
		return err
	}
	switch attempt.State {
	case storage.DeliveryDelivered:
		d.Logger.Debug("webhook delivered", "delivery", del.ID, "type", del.EventType, "attempts", n)
		return nil
	case storage.DeliveryParked:
		d.Logger.Warn("webhook delivery parked; `slabot webhooks` lists it, --redeliver sends it again",
			"delivery", del.ID, "type", del.EventType, "endpoint", endpointHost(del.Endpoint), "attempts", n, "err", attempt.Error)
		return nil
	}
	// Each attempt of a day of retries: the parking above is what to act on.
	d.Logger.Debug("webhook delivery failed; it will be tried again", "delivery", del.ID, "type", del.EventType,
		"endpoint", endpointHost(del.Endpoint), "attempt", n, "retry_in", retryIn, "err", sendErr)
	return engine.RetryAfter(retryIn, sendErr)
}

// send makes one signed POST; it returns the status (0 when there was no
// answer) and an error unless the endpoint answered 2xx.
func (d *Deliverer) send(ctx context.Context, del *storage.WebhookDelivery, now time.Time) (int, error) {
	key, err := d.Secret(del.Endpoint)
	if err != nil {
		return 0, fmt.Errorf("the signing secret is not available: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, del.Endpoint, bytes.NewReader(del.Body))
	if err != nil {
		return 0, fmt.Errorf("the endpoint address cannot be used: %w", err)
	}
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "slabot-webhooks")
	req.Header.Set("webhook-id", del.MsgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Sign(key, del.MsgID, ts, del.Body))
	client := d.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("POST failed: %s", redactError(err, del.Endpoint))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	msg := fmt.Sprintf("the endpoint answered %s", resp.Status)
	if s := strings.TrimSpace(string(snippet)); s != "" {
		msg += ": " + strings.Join(strings.Fields(s), " ")
	}
	return resp.StatusCode, errors.New(msg)
}

// urlCredentials finds user:password@ in a URL, kept out of logs.
var urlCredentials = regexp.MustCompile(`//[^/@\s]+@`)

func redactURL(u string) string { return urlCredentials.ReplaceAllString(u, "//…@") }

// endpointHost names an endpoint in logs by its host only: automation
// tools (Zapier, Make, n8n) carry their secret in a hook URL's path.
func endpointHost(u string) string {
	if parsed, err := url.Parse(u); err == nil && parsed.Host != "" {
		return parsed.Host
	}
	return "(an endpoint of the policy)"
}

func redactError(err error, endpoint string) string {
	return strings.ReplaceAll(err.Error(), endpoint, redactURL(endpoint))
}

// Body is the JSON of an event as endpoints receive it.
type Body struct {
	Type      string         `json:"type"`
	Timestamp string         `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// MsgID is the webhook-id of an event: the same for every endpoint and
// every attempt, different for every event.
func MsgID(ev engine.CRMEventArgs) string {
	return fmt.Sprintf("msg_%s_%d", strings.NewReplacer(":", "_", "@", "_at_").Replace(ev.Subject), ev.EventID)
}

// Deliveries are the deliveries of one event to the webhooks that want it.
func Deliveries(hooks []engine.Webhook, ev engine.CRMEventArgs, now time.Time) ([]storage.WebhookDelivery, error) {
	var out []storage.WebhookDelivery
	var body []byte
	for _, h := range hooks {
		if !h.Wants(ev.Type) {
			continue
		}
		if body == nil {
			var err error
			body, err = json.Marshal(Body{Type: ev.Type, Timestamp: ev.At.UTC().Format(time.RFC3339), Data: ev.Data})
			if err != nil {
				return nil, engine.DropJob(fmt.Errorf("webhook: encode a %s event: %w", ev.Type, err))
			}
		}
		out = append(out, storage.WebhookDelivery{Endpoint: h.URL, Subject: ev.Subject, EventID: ev.EventID,
			EventType: ev.Type, MsgID: MsgID(ev), Body: body, CreatedAt: now})
	}
	return out, nil
}
