package bot

import (
	"context"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file posts the weekly report and its chart, now or for a scheduled slot.

// JobWeeklyReport is the durable job that posts the report of one
// scheduled slot. Its handler is part of Handlers.
const JobWeeklyReport = "report.weekly"

// Keys of a scheduled report's progress (storage.DB.SaveRunProgress).
const (
	progressChannel = "channel"
	progressTS      = "ts"
	progressChart   = "chart"
)

// PostWeeklyReport posts the report of week, with its chart, to the
// agreement's report channel now. It does not check whether the week was
// reported before: it is for people asking for the report (`/sla report`,
// `slabot report`); the schedule goes through a durable job that posts
// each slot once.
func (b *Bot) PostWeeklyReport(ctx context.Context, week engine.Period) error {
	channel := b.service.Policy().Report.Channel
	if channel == "" {
		return engine.Errorf(engine.EINVALID, "The agreement names no report channel: add %s to the policy file.", b.reportChannelExample())
	}
	report, err := b.WeeklyReport(ctx, week)
	if err != nil {
		return err
	}
	msg, err := ReportMessage(report)
	if err != nil {
		return err
	}
	// Asked for by a person: posted now, whatever was posted before.
	return b.postReport(ctx, engine.Job{}, channel, msg, engine.PostKey{Kind: msgReport, Key: ISOWeek(report.Report.Week)}, nil)
}

// reportChannelExample is a report channel as the policy names it on this
// deployment's platform (Terms.Channel).
func (b *Bot) reportChannelExample() string {
	channel := "#smarketing"
	if b.chat != nil {
		channel = b.chat.Terms().Channel
	}
	return `report: {channel: "` + channel + `"}`
}

// Message kinds of the report's posts.
const (
	msgReport      = "report"
	msgReportChart = "report_chart"
)

// reportRun is what went out of one report so far (the progress keys
// above), and how to record more; save nil records nothing.
type reportRun struct {
	progress map[string]string
	save     func(key, value string) error
}

// done reports whether every part of the report went out.
func (r *reportRun) done(imagesInline bool) bool {
	return r.progress[progressTS] != "" && (imagesInline || r.progress[progressChart] != "")
}

func (r *reportRun) record(key, value string) error {
	r.progress[key] = value
	if r.save == nil {
		return nil
	}
	return r.save(key, value)
}

// postReport posts the report to channel, each part once: on a platform
// whose messages carry pictures, one post; on another, the figures, then
// the chart where the figures went (a channel id: uploads take no names).
func (b *Bot) postReport(ctx context.Context, job engine.Job, channel string, msg view.Message, key engine.PostKey, run *reportRun) error {
	if run == nil {
		run = &reportRun{progress: map[string]string{}}
	}
	figures, charts := msg, []view.Image(nil)
	if !b.chat.ImagesInline() {
		figures, charts = splitImages(msg)
	}
	if run.progress[progressTS] == "" {
		ref, err := b.postOnce(ctx, job, engine.Destination{Channel: channel}, key, func() (view.Message, error) { return figures, nil })
		if err != nil {
			return err
		}
		if err := run.record(progressChannel, ref.Conversation); err != nil {
			return err
		}
		if err := run.record(progressTS, ref.MessageID); err != nil {
			return err
		}
	}
	if len(charts) == 0 || run.progress[progressChart] != "" {
		return nil
	}
	chartKey := key
	chartKey.Kind = msgReportChart
	chart := view.Message{Summary: charts[0].Alt, Blocks: []view.Block{charts[0]}}
	ref, err := b.chat.Post(ctx, engine.Destination{Channel: run.progress[progressChannel]}, chart, chartKey)
	if err != nil {
		return err
	}
	return run.record(progressChart, ref.MessageID)
}

// splitImages separates a message's pictures from the rest.
func splitImages(m view.Message) (view.Message, []view.Image) {
	var rest []view.Block
	var images []view.Image
	for _, blk := range m.Blocks {
		if img, ok := blk.(view.Image); ok {
			images = append(images, img)
			continue
		}
		rest = append(rest, blk)
	}
	m.Blocks = rest
	return m, images
}

// postScheduledReport posts the report of one claimed slot. Each part is
// recorded as it goes out, so a retry goes on where the last attempt
// stopped, and a post that went out just before a crash is found again.
func (b *Bot) postScheduledReport(ctx context.Context, job engine.Job, args WeeklyReportArgs) error {
	runs := b.store
	name, slotText, weekText := args.Job, args.Slot, args.Week
	slot, err := time.Parse(time.RFC3339, slotText)
	if name == "" || err != nil {
		b.logger.Error("dropping a report job slabot cannot read", "job", job.ID)
		return nil
	}
	policy := b.service.Policy()
	week, err := engine.ParseISOWeek(weekText, policy.Location)
	if err != nil {
		b.logger.Error("dropping a report job slabot cannot read", "job", job.ID, "err", err)
		return nil
	}
	channel := policy.Report.Channel
	if channel == "" {
		b.logger.Warn("a scheduled report has no channel to go to: the policy file no longer names one", "week", weekText)
		return nil
	}
	progress, err := runs.RunProgress(ctx, name, slot)
	if err != nil {
		return err
	}
	run := &reportRun{progress: progress, save: func(key, value string) error {
		return runs.SaveRunProgress(ctx, name, slot, key, value)
	}}
	if run.done(b.chat.ImagesInline()) {
		return nil
	}
	report, err := b.WeeklyReport(ctx, week)
	if err != nil {
		return err
	}
	msg, err := ReportMessage(report)
	if err != nil {
		return err
	}
	return b.postReport(ctx, job, channel, msg, engine.PostKey{Kind: msgReport, Key: ISOWeek(week) + "@" + slot.UTC().Format(time.RFC3339)}, run)
}
