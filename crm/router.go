package crm

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/slabot/slabot/crm/webhook"
	"github.com/slabot/slabot/engine"
)

// Store is what the router needs of storage.
type Store interface {
	PruneCRM(ctx context.Context, before, parkedBefore time.Time) (int64, error)
	EarlierCRMEventPending(ctx context.Context, subject string, jobID int64) (bool, error)
	AddWebhookDeliveries(ctx context.Context, deliveries []engine.WebhookDelivery, job func(id int64) engine.Job, extra []engine.Job) error
}

// Router fans each published event out: a delivery per webhook that wants
// it, and the jobs of the CRM writers (HubSpot), recorded together in one
// transaction. Events of one subject are fanned out in the order they
// happened, so their deliveries line up in that order.
type Router struct {
	Store Store
	// Policy is the agreement in force (its webhooks).
	Policy func() *engine.Policy
	// Writers return the jobs that write an event to a CRM (none when the
	// CRM does not take it).
	Writers []func(engine.CRMEventArgs) []engine.Job
	Now     func() time.Time
	Logger  *slog.Logger

	// lastPrune is when this process last pruned (unix nanoseconds).
	lastPrune atomic.Int64
}

// Retention is how long delivered webhooks and finished HubSpot writes are
// kept (parked deliveries: the policy's crm.parked_webhook_retention): well past River's own retention of their jobs (a week), so a
// late retry still finds its record.
const Retention = 30 * 24 * time.Hour

// pruneEvery is how often one process prunes.
const pruneEvery = time.Hour

var errEarlierEvent = errors.New("an earlier event of the same lead is not fanned out yet")

// Handler is the job handler of engine.CRMEventArgs.
func (r *Router) Handler() engine.JobHandler {
	return engine.Handle(r.Route)
}

// Route fans one event out.
func (r *Router) Route(ctx context.Context, job engine.Job, ev engine.CRMEventArgs) error {
	earlier, err := r.Store.EarlierCRMEventPending(ctx, ev.Subject, job.ID)
	if err != nil {
		return err
	}
	if earlier {
		return engine.RetryAfter(200*time.Millisecond, errEarlierEvent)
	}
	var hooks []engine.Webhook
	if p := r.Policy(); p != nil {
		hooks = p.Webhooks
	}
	deliveries, err := webhook.Deliveries(hooks, ev, r.Now())
	if err != nil {
		return err
	}
	var jobs []engine.Job
	for _, w := range r.Writers {
		jobs = append(jobs, w(ev)...)
	}
	r.prune(ctx)
	if len(deliveries) == 0 && len(jobs) == 0 {
		return nil
	}
	return r.Store.AddWebhookDeliveries(ctx, deliveries, webhook.DeliverJob, jobs)
}

// prune deletes old records, at most once an hour per process; a failure
// is only logged, and tried again an hour later.
func (r *Router) prune(ctx context.Context) {
	now := r.Now()
	last := r.lastPrune.Load()
	if now.UnixNano()-last < int64(pruneEvery) || !r.lastPrune.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	parked := engine.DefaultParkedWebhookRetention
	if p := r.Policy(); p != nil {
		parked = p.CRM.ParkedRetention()
	}
	n, err := r.Store.PruneCRM(ctx, now.Add(-Retention), now.Add(-parked))
	if err != nil {
		r.Logger.Warn("pruning old webhook deliveries and HubSpot writes failed", "err", err)
		return
	}
	if n > 0 {
		r.Logger.Info("pruned old webhook deliveries and HubSpot writes", "rows", n)
	}
}
