package bot

import (
	"context"

	"github.com/slabot/slabot/bot/view"
)

// This file answers /sla report: a manager posts the weekly report now.

func (b *Bot) cmdReport(who asker) reply {
	if len(who.Manages) == 0 {
		return textReply(view.T(view.Refused, " Only a team's manager can post the weekly report on demand. It goes out on its own on the agreement's schedule."))
	}
	channel := b.service.Policy().Report.Channel
	if channel == "" {
		return textReply(view.T(view.Refused, " The agreement names no report channel. Add ", view.C(b.reportChannelExample()),
			" to the policy file, then ask again."))
	}
	r := textReply(view.T(view.Announce, " The weekly report is being posted to "+channel+"."))
	r.After = b.postReportNow
	return r
}

// SetReportPoster replaces what `/sla report` calls to post the weekly
// report now (tests use it); nil restores the default, which posts the
// report of the week a report made now covers.
func (b *Bot) SetReportPoster(post func(ctx context.Context) error) {
	if post == nil {
		b.reportPoster.Store(nil)
		return
	}
	b.reportPoster.Store(&post)
}

func (b *Bot) postReportNow(ctx context.Context) error {
	if p := b.reportPoster.Load(); p != nil {
		return (*p)(ctx)
	}
	return b.PostWeeklyReport(ctx, ReportWeek(b.service.Now(), b.service.Policy().Location))
}
