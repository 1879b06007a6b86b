package bot

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	slackui "github.com/slabot/slabot/bot/slack"
	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file posts the weekly report and its chart, now or for a scheduled slot.

// JobWeeklyReport is the durable job that posts the report of one
// scheduled slot. Its handler is part of Handlers.
const JobWeeklyReport = "report.weekly"

// reportMetadataType tags report messages in Slack's message metadata, so
// a retry after a crash finds the report that already went out.
const reportMetadataType = "slabot_weekly_report"

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
		return engine.Errorf(engine.EINVALID, "The agreement names no report channel: add report: {channel: \"#smarketing\"} to the policy file.")
	}
	report, err := b.WeeklyReport(ctx, week)
	if err != nil {
		return err
	}
	msg, err := ReportMessage(report)
	if err != nil {
		return err
	}
	channelID, _, err := b.postReportMessage(ctx, channel, msg, reportMetadata(report.Report.Week, time.Time{}))
	if err != nil {
		return err
	}
	_, err = b.uploadChart(ctx, channelID, report.Report.Week, msg)
	return err
}

func reportMetadata(week engine.Period, slot time.Time) slack.SlackMetadata {
	payload := map[string]any{"week": ISOWeek(week)}
	if !slot.IsZero() {
		payload["slot"] = slot.UTC().Format(time.RFC3339)
	}
	return slack.SlackMetadata{EventType: reportMetadataType, EventPayload: payload}
}

// postReportMessage posts the report's figures as Block Kit; its chart
// goes after it as a file (uploadChart), as Slack shows no image from
// bytes inside a message.
func (b *Bot) postReportMessage(ctx context.Context, channel string, msg view.Message, meta slack.SlackMetadata) (channelID, ts string, err error) {
	blocks, fallback := slackui.Blocks(msg)
	if err := b.pacer.wait(ctx, channel); err != nil {
		return "", "", err
	}
	channelID, ts, err = b.api.PostMessageContext(ctx, channel, slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionText(fallback, false), slack.MsgOptionMetadata(meta))
	if err != nil {
		return "", "", b.slackError("chat.postMessage", err)
	}
	b.metrics.sent.WithLabelValues("report").Inc()
	return channelID, ts, nil
}

// uploadChart shares the report's chart, the message's image, in the
// channel (an ID: the v2 upload's completeUploadExternal takes no names)
// and returns the file's id.
func (b *Bot) uploadChart(ctx context.Context, channelID string, week engine.Period, msg view.Message) (string, error) {
	img, ok := messageImage(msg)
	if !ok {
		return "", engine.Errorf(engine.EINTERNAL, "the weekly report has no chart to upload")
	}
	if err := b.pacer.wait(ctx, channelID); err != nil {
		return "", err
	}
	f, err := b.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Reader: bytes.NewReader(img.PNG), FileSize: len(img.PNG), Filename: "smarketing-" + ISOWeek(week) + ".png",
		Title: img.Title, AltTxt: img.Alt, Channel: channelID,
	})
	if err != nil {
		return "", b.slackError("files.uploadV2", err)
	}
	b.metrics.sent.WithLabelValues("report_chart").Inc()
	return f.ID, nil
}

// messageImage is a message's first image.
func messageImage(m view.Message) (view.Image, bool) {
	for _, blk := range m.Blocks {
		if img, ok := blk.(view.Image); ok {
			return img, true
		}
	}
	return view.Image{}, false
}

// postScheduledReport posts the report of one claimed slot. Each step is
// recorded as it succeeds, so a retry goes on where the last attempt
// stopped: the message is posted once, and a message that went out just
// before a crash is found again by its metadata.
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
	meta := reportMetadata(week, slot)
	var msg *view.Message
	load := func() (view.Message, error) {
		if msg == nil {
			report, err := b.WeeklyReport(ctx, week)
			if err != nil {
				return view.Message{}, err
			}
			m, err := ReportMessage(report)
			if err != nil {
				return view.Message{}, err
			}
			msg = &m
		}
		return *msg, nil
	}
	save := func(key, value string) error {
		progress[key] = value
		return runs.SaveRunProgress(ctx, name, slot, key, value)
	}

	if progress[progressTS] == "" && job.Attempts > 1 {
		channelID, ts, err := b.findReport(ctx, channel, meta)
		if err != nil {
			return err
		}
		if ts != "" {
			if err := save(progressChannel, channelID); err != nil {
				return err
			}
			if err := save(progressTS, ts); err != nil {
				return err
			}
		}
	}
	if progress[progressTS] == "" {
		v, err := load()
		if err != nil {
			return err
		}
		channelID, ts, err := b.postReportMessage(ctx, channel, v, meta)
		if err != nil {
			return err
		}
		if err := save(progressChannel, channelID); err != nil {
			return err
		}
		if err := save(progressTS, ts); err != nil {
			return err
		}
	}
	if progress[progressChart] == "" {
		v, err := load()
		if err != nil {
			return err
		}
		id, err := b.uploadChart(ctx, progress[progressChannel], week, v)
		if err != nil {
			return err
		}
		if err := save(progressChart, id); err != nil {
			return err
		}
	}
	return nil
}

// findReport looks through the channel's recent history for the report
// message carrying meta, returning the channel's id and the message's ts,
// or "" when there is none.
func (b *Bot) findReport(ctx context.Context, channel string, meta slack.SlackMetadata) (string, string, error) {
	channelID, err := b.channelID(ctx, channel)
	if err != nil || channelID == "" {
		return "", "", err
	}
	hist, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: channelID, Limit: 100, IncludeAllMetadata: true})
	if err != nil {
		return "", "", b.slackError("conversations.history", err)
	}
	for _, m := range hist.Messages {
		if m.Metadata.EventType == meta.EventType &&
			fmt.Sprint(m.Metadata.EventPayload["slot"]) == fmt.Sprint(meta.EventPayload["slot"]) {
			return channelID, m.Timestamp, nil
		}
	}
	return channelID, "", nil
}

// channelID turns the policy's channel, a name or an id, into an id:
// conversations.history takes ids only. "" when no channel has the name.
func (b *Bot) channelID(ctx context.Context, channel string) (string, error) {
	name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(channel), "#"))
	if looksLikeChannelID(channel) {
		return channel, nil
	}
	params := &slack.GetConversationsParameters{ExcludeArchived: true, Limit: 200, Types: []string{"public_channel", "private_channel"}}
	for {
		chans, cursor, err := b.api.GetConversationsContext(ctx, params)
		if err != nil {
			return "", b.slackError("conversations.list", err)
		}
		for _, c := range chans {
			if strings.EqualFold(c.Name, name) {
				return c.ID, nil
			}
		}
		if cursor == "" {
			return "", nil
		}
		params.Cursor = cursor
	}
}

// looksLikeChannelID: Slack's ids are a C, G or D and upper-case letters
// and digits; channel names are lower case.
func looksLikeChannelID(s string) bool {
	if len(s) < 9 || !strings.ContainsRune("CGD", rune(s[0])) {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
