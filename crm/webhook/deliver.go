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
	"strconv"
	"strings"
	"time"

	"github.com/slabot/slabot/engine"
)

// How deliveries go out:
//
//   - Each event becomes one delivery per endpoint that wants it, recorded
//     with the exact body and the webhook-id it keeps on every attempt.
//   - In order per subject: a delivery waits while an earlier delivery of
//     the same lead (or rep) to the same endpoint is pending.
//   - Any 2xx is delivered. Anything else, a redirect included, is tried
//     again after 5 s, 15 s, 30 s, 1, 2, 5, 10, 30 minutes, then hourly
//     (with jitter), or later when a 429 or 503 says so in Retry-After,
//     until the retry window (24 hours from the event) is over: then the
//     delivery is parked. 410 Gone parks it at once.
//   - A parked delivery no longer holds later ones back: the line moves on
//     and later events arrive without it (each with its own retry window,
//     counted from its own event, so after a long outage they park quickly
//     too rather than each taking another day). An operator lists parked
//     deliveries with `slabot webhooks` and sends one again with
//     --redeliver ID, or every parked one with --redeliver --state parked
//     (in the order of their events), which gives each a new window; a
//     redelivery arrives after the events that followed it, with its own
//     timestamp in the body. Parked deliveries are deleted after the
//     policy's crm.parked_webhook_retention.

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
	WebhookDeliveryByID(ctx context.Context, id int64) (*engine.WebhookDelivery, error)
	EarlierWebhookDelivery(ctx context.Context, d *engine.WebhookDelivery) (*engine.WebhookDelivery, error)
	RecordWebhookAttempt(ctx context.Context, id int64, a engine.WebhookAttempt) error
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
	if del.State != engine.DeliveryPending {
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
	res := d.send(ctx, del, now)
	window := d.Window
	if window <= 0 {
		window = DefaultWindow
	}
	backoff := d.Backoff
	if backoff == nil {
		backoff = Backoff
	}
	attempt, retryIn := Decide(res, del.Attempts+1, now, del.RetryFrom, window, backoff)
	n := del.Attempts + 1
	sendErr := res.Err
	if err := d.Store.RecordWebhookAttempt(ctx, del.ID, attempt); err != nil {
		return err
	}
	switch attempt.State {
	case engine.DeliveryDelivered:
		d.Logger.Debug("webhook delivered", "delivery", del.ID, "type", del.EventType, "attempts", n)
		return nil
	case engine.DeliveryParked:
		d.Logger.Warn("webhook delivery parked; `slabot webhooks` lists it, `slabot webhooks --redeliver --state parked` sends every parked delivery again",
			"delivery", del.ID, "type", del.EventType, "endpoint", endpointHost(del.Endpoint), "attempts", n, "err", attempt.Error)
		return nil
	}
	// Each attempt of a day of retries: the parking above is what to act on.
	d.Logger.Debug("webhook delivery failed; it will be tried again", "delivery", del.ID, "type", del.EventType,
		"endpoint", endpointHost(del.Endpoint), "attempt", n, "retry_in", retryIn, "err", sendErr)
	return engine.RetryAfter(retryIn, sendErr)
}

// Result is how one attempt went: the status (0 when there was no
// answer), the wait a 429 or 503 asked for in Retry-After (0 when none),
// and an error unless the endpoint answered 2xx.
type Result struct {
	Status     int
	RetryAfter time.Duration
	Err        error
}

// maxRetryAfter caps the wait an endpoint may ask for, so that one answer
// cannot hold a delivery past its window unseen.
const maxRetryAfter = time.Hour

// Decide turns the n-th attempt's result into the delivery's next state:
//
//   - any 2xx is delivered;
//   - 410 Gone parks at once;
//   - once the retry window (counted from retryFrom) is over, any other
//     failure parks;
//   - otherwise the delivery is tried again after backoff(n), or after
//     the Retry-After of a 429 or 503 when that is longer.
//
// A 3xx is a failure like any other, and redirects are not followed; a
// Retry-After is taken into account when scheduling the next attempt
// (Standard Webhooks, standard-webhooks/standard-webhooks
// spec/standard-webhooks.md, "Delivery success and failure").
func Decide(res Result, n int, now, retryFrom time.Time, window time.Duration, backoff func(int) time.Duration) (engine.WebhookAttempt, time.Duration) {
	attempt := engine.WebhookAttempt{At: now, Status: res.Status, State: engine.DeliveryPending}
	switch {
	case res.Err == nil:
		attempt.State = engine.DeliveryDelivered
		return attempt, 0
	case res.Status == http.StatusGone:
		attempt.State, attempt.Error = engine.DeliveryParked, res.Err.Error()+" (the endpoint says it is gone: parked at once)"
		return attempt, 0
	case now.Sub(retryFrom) >= window:
		attempt.State, attempt.Error = engine.DeliveryParked, fmt.Sprintf("%v (retried for %s: parked)", res.Err, window)
		return attempt, 0
	}
	retryIn := backoff(n)
	if res.RetryAfter > retryIn {
		retryIn = min(res.RetryAfter, maxRetryAfter)
	}
	attempt.Error, attempt.NextAt = res.Err.Error(), now.Add(retryIn)
	return attempt, retryIn
}

// noRedirects answers a redirect with the 3xx itself: Go's client would
// otherwise follow it, turn the POST into a GET and count the page it
// lands on as a delivery.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// send makes one signed POST.
func (d *Deliverer) send(ctx context.Context, del *engine.WebhookDelivery, now time.Time) Result {
	key, err := d.Secret(del.Endpoint)
	if err != nil {
		return Result{Err: fmt.Errorf("the signing secret is not available: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, del.Endpoint, bytes.NewReader(del.Body))
	if err != nil {
		return Result{Err: fmt.Errorf("the address of the endpoint at %s cannot be used", EndpointOrigin(del.Endpoint))}
	}
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "slabot-webhooks")
	req.Header.Set("webhook-id", del.MsgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Sign(key, del.MsgID, ts, del.Body))
	client := http.Client{Timeout: 30 * time.Second}
	if d.Client != nil {
		client = *d.Client
	}
	client.CheckRedirect = noRedirects
	resp, err := client.Do(req)
	if err != nil {
		return Result{Err: fmt.Errorf("POST to %s failed: %s", EndpointOrigin(del.Endpoint), RedactError(err, del.Endpoint))}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return Result{Status: resp.StatusCode}
	}
	res := Result{Status: resp.StatusCode}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
	}
	msg := fmt.Sprintf("%s answered %s", EndpointOrigin(del.Endpoint), resp.Status)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		msg += " (a redirect, which is not followed: give the policy the address it points to)"
	} else if s := strings.TrimSpace(string(snippet)); s != "" {
		msg += ": " + strings.Join(strings.Fields(s), " ")
	}
	res.Err = errors.New(msg)
	return res
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date
// (RFC 9110, section 10.2.3); 0 when absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// EndpointOrigin names an endpoint by its scheme and host only: automation
// tools (Zapier, Make, n8n) carry their secret in a hook URL's path or
// query, and a URL may hold user:password@.
func EndpointOrigin(u string) string {
	if parsed, err := url.Parse(u); err == nil && parsed.Host != "" {
		return parsed.Scheme + "://" + parsed.Host
	}
	return "(an endpoint of the policy)"
}

// endpointHost names an endpoint in logs by its host only.
func endpointHost(u string) string {
	if parsed, err := url.Parse(u); err == nil && parsed.Host != "" {
		return parsed.Host
	}
	return "(an endpoint of the policy)"
}

// RedactError is the text of a failed request without the endpoint's
// full address: Go's *url.Error reads `Post "https://host/path?key": …`,
// so its URL is replaced by the scheme and host, and any other copy of
// the address in the text too.
func RedactError(err error, endpoint string) string {
	var ue *url.Error
	text := err.Error()
	if errors.As(err, &ue) {
		text = ue.Op + " " + EndpointOrigin(ue.URL) + ": " + ue.Err.Error()
		if ue.Timeout() && !strings.Contains(text, "timeout") {
			text += " (timeout)"
		}
	}
	if endpoint != "" {
		text = strings.ReplaceAll(text, endpoint, EndpointOrigin(endpoint))
	}
	return text
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
	id := fmt.Sprintf("msg_%s_%d", strings.NewReplacer(":", "_", "@", "_at_").Replace(ev.Subject), ev.EventID)
	if ev.Also {
		// A second type of the same lead event (lead.accepted beside
		// lead.acknowledged) is an event of its own.
		id += "_" + strings.ReplaceAll(ev.Type, ".", "_")
	}
	return id
}

// Deliveries are the deliveries of one event to the webhooks that want it.
func Deliveries(hooks []engine.Webhook, ev engine.CRMEventArgs, now time.Time) ([]engine.WebhookDelivery, error) {
	var out []engine.WebhookDelivery
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
		out = append(out, engine.WebhookDelivery{Endpoint: h.URL, Subject: ev.Subject, EventID: ev.EventID,
			EventType: ev.Type, MsgID: MsgID(ev), Body: body, CreatedAt: now})
	}
	return out, nil
}
