package bot

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"

	"github.com/slabot/slabot/engine"
)

// The weekly report runs on the agreement's calendar (report.schedule in
// its time zone) in every replica. Each firing claims its slot, the
// scheduled instant, in the database and queues the durable job that
// posts the report, in one transaction: exactly one replica claims a slot,
// and the post survives the replica that claimed it (see storage/locks.go).

// reportJobName names the weekly report in the claims table and to gocron.
const reportJobName = "weekly-report"

// ScheduleOptions tune RunReportSchedule; the zero value is fine.
type ScheduleOptions struct {
	// ID names this replica in the claims (default host-pid).
	ID string
	// Clock drives the scheduler (default the real clock); tests may pass
	// a clockwork fake.
	Clock clockwork.Clock
}

// RunReportSchedule posts the weekly report on the agreement's schedule
// until ctx is done. Without a report channel it has nothing to do and
// returns at once.
func (b *Bot) RunReportSchedule(ctx context.Context, opts ScheduleOptions) error {
	policy := b.service.Policy()
	cfg := policy.Report
	if cfg.Channel == "" {
		b.logger.Info("the agreement names no report channel: no weekly report will be posted")
		return nil
	}
	spec := cfg.Schedule
	if spec == "" {
		spec = engine.DefaultReportSchedule
	}
	sched, err := engine.ParseSchedule(spec)
	if err != nil {
		return fmt.Errorf("the report schedule: %w", err)
	}
	runs := b.store
	loc := policy.Location
	if loc == nil {
		loc = time.UTC
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.ID == "" {
		host, _ := os.Hostname()
		opts.ID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	s, err := gocron.NewScheduler(gocron.WithLocation(loc), gocron.WithClock(opts.Clock), gocron.WithLogger(b.logger))
	if err != nil {
		return fmt.Errorf("starting the report scheduler: %w", err)
	}
	fire := func(ctx context.Context) {
		b.claimReportSlot(ctx, runs, latestSlot(sched, opts.Clock.Now(), loc), loc, opts.ID)
	}
	job, err := s.NewJob(gocron.CronJob(spec, cfg.WithSeconds()), gocron.NewTask(fire),
		gocron.WithName(reportJobName), gocron.WithSingletonMode(gocron.LimitModeReschedule), gocron.WithContext(ctx))
	if err != nil {
		_ = s.Shutdown()
		return fmt.Errorf("scheduling the weekly report %q: %w", spec, err)
	}
	// The review pack, engine.ReviewPostDays before review_by: checked
	// each morning, and now, so a replica that was down that morning
	// posts it late rather than never.
	checkReview := func(ctx context.Context) {
		if _, err := b.ClaimReviewPost(ctx, opts.Clock.Now(), opts.ID); err != nil {
			b.logger.Error("could not claim the review pack's post; another replica or the next check may post it", "err", err)
		}
	}
	if _, err := s.NewJob(gocron.CronJob(reviewPostSchedule, false), gocron.NewTask(checkReview),
		gocron.WithName(reviewJobName), gocron.WithSingletonMode(gocron.LimitModeReschedule), gocron.WithContext(ctx)); err != nil {
		_ = s.Shutdown()
		return fmt.Errorf("scheduling the review pack's check: %w", err)
	}
	checkReview(ctx)
	s.Start()
	next, _ := job.NextRun()
	b.logger.Info("the weekly report is scheduled", "schedule", spec, "zone", loc.String(), "channel", cfg.Channel,
		"next", next.In(loc).Format(time.RFC3339))
	<-ctx.Done()
	if err := s.Shutdown(); err != nil {
		b.logger.Warn("stopping the report scheduler", "err", err)
	}
	return nil
}

// nexter is a cron schedule (robfig/cron's Schedule, as engine.ParseSchedule returns).
type nexter interface{ Next(time.Time) time.Time }

// slotTolerance lets a timer that fires a hair early still name its slot.
const slotTolerance = 100 * time.Millisecond

// latestSlot is the scheduled instant a firing at now stands for: the
// latest one at or before now (read in loc). It looks back at least a
// minute, or the gap between the next two slots, so a firing delayed by a
// busy machine still finds its own slot.
func latestSlot(sched nexter, now time.Time, loc *time.Location) time.Time {
	now = now.In(loc).Add(slotTolerance)
	n1 := sched.Next(now)
	lookback := max(time.Minute, sched.Next(n1).Sub(n1))
	var slot time.Time
	for t := sched.Next(now.Add(-lookback)); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		slot = t
	}
	if slot.IsZero() {
		slot = now.Add(-slotTolerance).Truncate(time.Second)
	}
	return slot
}

// claimReportSlot claims slot and queues its report, unless another
// replica did so first.
func (b *Bot) claimReportSlot(ctx context.Context, runs ScheduleStore, slot time.Time, loc *time.Location, by string) {
	week := ReportWeek(slot, loc)
	key := slot.UTC().Format(time.RFC3339)
	job := engine.Job{UniqueKey: "report:" + key,
		Args: WeeklyReportArgs{Job: reportJobName, Slot: key, Week: ISOWeek(week)}}
	claimed, err := runs.ClaimSlot(ctx, reportJobName, slot, by, job)
	// A database that hiccups at the wrong second must not lose the week's
	// report: try again for a little while.
	for attempt := 1; err != nil && attempt <= 5 && ctx.Err() == nil; attempt++ {
		b.logger.Warn("claiming the weekly report's slot failed; trying again", "slot", key, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt) * time.Second):
		}
		claimed, err = runs.ClaimSlot(ctx, reportJobName, slot, by, job)
	}
	switch {
	case err != nil:
		b.logger.Error("could not claim the weekly report's slot; another replica may post it", "slot", key, "err", err)
	case claimed:
		b.logger.Info("posting the weekly report", "slot", key, "week", ISOWeek(week))
	default:
		b.logger.Debug("another replica posts this weekly report", "slot", key)
	}
}

// WeeklyReportArgs: post the report of one claimed slot of a calendar job.
type WeeklyReportArgs struct {
	Job  string `json:"job"`
	Slot string `json:"slot"` // the slot's instant, RFC 3339
	Week string `json:"week"` // the ISO week the report covers
}

func (WeeklyReportArgs) Kind() string  { return JobWeeklyReport }
func (WeeklyReportArgs) Queue() string { return engine.QueueReports }
