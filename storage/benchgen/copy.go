package benchgen

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// stream copies rows into one table on a connection of its own, as they
// are sent, in batches.
type stream struct {
	table string
	cols  []string
	ch    chan [][]any
	batch [][]any
	n     int64
	done  chan error
}

const batchRows = 1024

func startStream(ctx context.Context, pool *pgxpool.Pool, cancel context.CancelCauseFunc, table string, cols ...string) *stream {
	s := &stream{table: table, cols: cols, ch: make(chan [][]any, 16), done: make(chan error, 1)}
	go func() {
		err := func() error {
			conn, err := pool.Acquire(ctx)
			if err != nil {
				return err
			}
			defer conn.Release()
			_, err = conn.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, &chanSource{ch: s.ch})
			return err
		}()
		if err != nil {
			err = fmt.Errorf("benchgen: copy into %s: %w", table, err)
			cancel(err)
			// Let the producer finish without blocking.
			for range s.ch {
			}
		}
		s.done <- err
	}()
	return s
}

// add queues one row; it fails once the copy failed or ctx is done.
func (s *stream) add(ctx context.Context, row ...any) error {
	s.batch = append(s.batch, row)
	s.n++
	if len(s.batch) < batchRows {
		return nil
	}
	return s.flush(ctx)
}

func (s *stream) flush(ctx context.Context) error {
	if len(s.batch) == 0 {
		return nil
	}
	select {
	case s.ch <- s.batch:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	s.batch = make([][]any, 0, batchRows)
	return nil
}

// finish sends what is left and waits for the copy to end.
func (s *stream) finish(ctx context.Context) error {
	err := s.flush(ctx)
	close(s.ch)
	if cerr := <-s.done; cerr != nil {
		return cerr
	}
	return err
}

// chanSource is a pgx.CopyFromSource reading batches from a channel.
type chanSource struct {
	ch    chan [][]any
	batch [][]any
	i     int
}

func (c *chanSource) Next() bool {
	c.i++
	for c.i >= len(c.batch) {
		b, ok := <-c.ch
		if !ok {
			return false
		}
		c.batch, c.i = b, 0
	}
	return true
}

func (c *chanSource) Values() ([]any, error) { return c.batch[c.i], nil }
func (c *chanSource) Err() error             { return nil }

// Rows other than the leads' own are written in the order they happened,
// as the product writes them, so their ids grow with time and a lead's
// touches and events lie scattered over the table as in a real database.
// A lead's rows all happen at or after it was received and leads are made
// in the order received, so a row can be written once a lead received
// after it is being made: until then it waits, ordered by time.

type itemKind uint8

const (
	itemTouch itemKind = iota
	itemEvent
	itemMessage
	itemAlias
)

// item is one touch, event, message or alias waiting to be written.
type item struct {
	at   int64 // unix microseconds: when the row was written
	seq  uint64
	kind itemKind
	lead int64
	id   int64 // given when written
	// s1…s4: touch kind, by, origin, note; event kind, actor; message
	// kind, recipient, conversation, message id; alias external id.
	s1, s2, s3, s4 string
	key            string // touch key ("" for none)
	t1             int64  // touch: at; message: assigned_at
	quiet          int64  // message: quiet_at (0 for none)
	data           []byte // event data (a touch's: its event's)
	actor          string // a touch's event's actor
	about          *item  // message: the event an escalation is about
	referred       bool   // event: an escalation refers to it
}

// writer holds the streams and the rows waiting to be written, in
// buckets of bucketMicros by time: a bucket is sorted and written once
// the leads being made are past its end.
type writer struct {
	leads, touches, events, messages, mqls, aliases *stream
	buckets                                         map[int64][]*item
	next                                            int64 // the first bucket not yet written
	seq                                             uint64
	ids                                             [4]int64 // last id given per item kind
	free                                            []*item
}

const bucketMicros = 10 * 60 * 1_000_000

func (w *writer) newItem() *item {
	if n := len(w.free); n > 0 {
		it := w.free[n-1]
		w.free = w.free[:n-1]
		return it
	}
	return new(item)
}

func (w *writer) push(it *item) {
	if w.buckets == nil {
		w.buckets = map[int64][]*item{}
		w.next = it.at / bucketMicros
	}
	w.seq++
	it.seq = w.seq
	k := it.at / bucketMicros
	if k < w.next {
		k = w.next // cannot happen for rows at or after their lead's receipt
	}
	w.buckets[k] = append(w.buckets[k], it)
}

// release writes every waiting row of the buckets that end at or before
// t (unix micro); final writes them all.
func (w *writer) release(ctx context.Context, t int64, final bool) error {
	upto := t / bucketMicros
	if final {
		keys := slices.Collect(maps.Keys(w.buckets))
		slices.Sort(keys)
		if len(keys) > 0 {
			upto = keys[len(keys)-1] + 1
		}
	}
	for ; w.next < upto; w.next++ {
		b := w.buckets[w.next]
		if len(b) == 0 {
			continue
		}
		delete(w.buckets, w.next)
		slices.SortFunc(b, func(x, y *item) int {
			if x.at != y.at {
				return cmp.Compare(x.at, y.at)
			}
			return cmp.Compare(x.seq, y.seq)
		})
		for _, it := range b {
			if err := w.write(ctx, it); err != nil {
				return err
			}
		}
		// Escalations refer to their event's id: recycle events only once
		// nothing after them can.
		for _, it := range b {
			if it.kind != itemEvent || !it.referred {
				*it = item{}
				w.free = append(w.free, it)
			}
		}
	}
	return nil
}

func (w *writer) write(ctx context.Context, it *item) error {
	w.ids[it.kind]++
	it.id = w.ids[it.kind]
	at := micros(it.at)
	switch it.kind {
	case itemTouch:
		var key any
		if it.key != "" {
			key = it.key
		}
		if err := w.touches.add(ctx, it.id, it.lead, it.s1, micros(it.t1), it.s2, it.s4, it.s3, key, at); err != nil {
			return err
		}
		// The touch's event, logged with it.
		w.ids[itemEvent]++
		return w.events.add(ctx, w.ids[itemEvent], it.lead, at, "touch", it.actor, it.data)
	case itemEvent:
		return w.events.add(ctx, it.id, it.lead, at, it.s1, it.s2, it.data)
	case itemMessage:
		var event any
		if it.about != nil {
			event = it.about.id
		}
		return w.messages.add(ctx, it.id, it.lead, it.s1, it.s2, "slack", it.s3, it.s4, nullMicros(it.t1), at, event, nullMicros(it.quiet))
	case itemAlias:
		return w.aliases.add(ctx, it.s1, it.lead, at)
	}
	return nil
}

func micros(u int64) time.Time { return time.UnixMicro(u).UTC() }

func nullMicros(u int64) any {
	if u == 0 {
		return nil
	}
	return micros(u)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// streamRows streams the generation's leads, touches, lead events,
// messages, aliases and MQLs into their tables with COPY, one connection
// per table, and counts them in g.stats. The first failure stops every
// stream. The triggers that mark figures stale are off meanwhile: the
// marks, one per lead, are made once at the end (workOutFigures) rather
// than on every batch of leads, touches and breaches.
func (g *gen) streamRows(ctx context.Context, pool *pgxpool.Pool) error {
	if err := setFiguresTriggers(ctx, pool, "DISABLE"); err != nil {
		return err
	}
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := &writer{}
	g.w = w
	w.leads = startStream(cctx, pool, cancel, "leads", "id", "external_id", "source", "segment", "score", "contact", "company",
		"context", "crm_url", "value", "owner_email", "team", "rule", "state", "handed_off_at", "received_at", "assigned_at",
		"first_touch_due", "acknowledged_at", "first_touch_at", "snoozed_until", "closed_at", "reassignments", "return_reason",
		"amount", "created_at", "updated_at")
	w.touches = startStream(cctx, pool, cancel, "touches", "id", "lead_id", "kind", "at", "by_email", "note", "origin", "key", "created_at")
	w.events = startStream(cctx, pool, cancel, "lead_events", "id", "lead_id", "at", "kind", "actor", "data")
	w.messages = startStream(cctx, pool, cancel, "lead_messages", "id", "lead_id", "kind", "recipient", "platform",
		"conversation", "message_id", "assigned_at", "created_at", "event_id", "quiet_at")
	w.aliases = startStream(cctx, pool, cancel, "lead_aliases", "external_id", "lead_id", "created_at")
	w.mqls = startStream(cctx, pool, cancel, "mqls", "id", "external_id", "source", "segment", "at", "created_at")

	mqlDone := make(chan error, 1)
	go func() { mqlDone <- g.writeMQLs(cctx, w.mqls) }()
	err := g.writeLeads(cctx)
	if merr := <-mqlDone; err == nil {
		err = merr
	}
	for _, s := range []*stream{w.leads, w.touches, w.events, w.messages, w.aliases, w.mqls} {
		if ferr := s.finish(cctx); err == nil {
			err = ferr
		}
	}
	if err != nil {
		if cause := context.Cause(cctx); cause != nil && cause != context.Canceled {
			err = cause
		}
		return err
	}
	g.stats.Leads, g.stats.Touches, g.stats.Events = w.leads.n, w.touches.n, w.events.n
	g.stats.Messages, g.stats.Aliases, g.stats.MQLs = w.messages.n, w.aliases.n, w.mqls.n
	return setFiguresTriggers(ctx, pool, "ENABLE")
}
