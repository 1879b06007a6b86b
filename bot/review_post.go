package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// The review pack goes to the report channel engine.ReviewPostDays before
// review_by, once. Every replica checks each morning (and on start) whether
// the day has come; the first to claim the post's slot in the database
// queues the durable job that posts it, in one transaction (as the weekly
// report does). The slot is the post's morning: a new review_by is a new
// slot, so an agreement renewed for another year gets its pack again.

// reviewJobName names the review post in the claims table.
const reviewJobName = "agreement-review"

// JobReviewPost posts the review pack of one claimed slot.
const JobReviewPost = "review.post"

// reviewPostHour is the hour, in the policy's zone, the pack is posted on
// its day.
const reviewPostHour = 9

// reviewPostSchedule checks every morning at reviewPostHour.
var reviewPostSchedule = fmt.Sprintf("0 %d * * *", reviewPostHour)

// ReviewPostArgs: post the review pack for the agreement due for review
// on ReviewBy (YYYY-MM-DD).
type ReviewPostArgs struct {
	Slot     string `json:"slot"` // the slot's instant, RFC 3339
	ReviewBy string `json:"review_by"`
}

func (ReviewPostArgs) Kind() string  { return JobReviewPost }
func (ReviewPostArgs) Queue() string { return engine.QueueReports }

// reviewPostSlot is the instant the review pack is due under p: on
// engine.ReviewPostDay at reviewPostHour; ok is false without a review
// date or a report channel.
func reviewPostSlot(p *engine.Policy) (slot time.Time, ok bool) {
	day := engine.ReviewPostDay(p)
	if day.IsZero() || p.Report.Channel == "" {
		return time.Time{}, false
	}
	return day.Add(reviewPostHour * time.Hour), true
}

// ClaimReviewPost queues the review pack's post when its slot has come and
// the review date has not passed, unless a replica did so before. It
// reports whether this call queued it.
func (b *Bot) ClaimReviewPost(ctx context.Context, now time.Time, by string) (bool, error) {
	p := b.service.Policy()
	slot, ok := reviewPostSlot(p)
	if !ok || now.Before(slot) || !now.Before(p.ReviewBy.AddDate(0, 0, 1)) {
		return false, nil
	}
	reviewBy := p.ReviewBy.In(p.Location).Format(time.DateOnly)
	key := slot.UTC().Format(time.RFC3339)
	job := engine.Job{UniqueKey: "review:" + reviewBy, Args: ReviewPostArgs{Slot: key, ReviewBy: reviewBy}}
	claimed, err := b.store.ClaimSlot(ctx, reviewJobName, slot, by, job)
	if err != nil {
		return false, fmt.Errorf("claiming the review pack's post of %s: %w", reviewBy, err)
	}
	if claimed {
		b.logger.Info("posting the review pack", "review_by", reviewBy)
	}
	return claimed, nil
}

// postScheduledReview posts the review pack of a claimed slot to the
// report channel. A retry finds a post that went out before a crash
// (postOnce) instead of posting it twice.
func (b *Bot) postScheduledReview(ctx context.Context, job engine.Job, args ReviewPostArgs) error {
	p := b.service.Policy()
	if p.ReviewBy.IsZero() || p.ReviewBy.In(p.Location).Format(time.DateOnly) != args.ReviewBy {
		b.logger.Info("dropping the review pack of a review date the policy no longer names", "review_by", args.ReviewBy)
		return nil
	}
	channel := p.Report.Channel
	if channel == "" {
		b.logger.Warn("the review pack has no channel to go to: the policy file no longer names one", "review_by", args.ReviewBy)
		return nil
	}
	key := engine.PostKey{Kind: msgReview, Key: args.ReviewBy}
	_, err := b.postOnce(ctx, job, engine.Destination{Channel: channel}, key, func() (view.Message, error) {
		rv, err := b.Review(ctx, 0, b.service.Now())
		if err != nil {
			return view.Message{}, err
		}
		m := ReviewMessage(rv, p, false)
		intro := view.Section{Lines: []view.Text{view.T(view.Plan, " ", view.B(fmt.Sprintf("The agreement is due for review on %s.",
			p.ReviewBy.In(p.Location).Format("Monday 2 January 2006"))),
			" Here is the pack for Sales and Marketing to read before they meet; managers and the agreement's owners can ask slabot for it again any time.")}}
		m.Blocks = append(m.Blocks[:1], append([]view.Block{intro}, m.Blocks[1:]...)...)
		return m, nil
	})
	return err
}

// msgReview is the kind of the review pack's post.
const msgReview = "review"
