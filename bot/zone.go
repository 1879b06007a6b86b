package bot

import (
	"context"
	"time"
)

// zone loads a time zone name (a person's, from the platform), falling back to the policy's zone.
func (b *Bot) zone(name string) *time.Location {
	if name != "" {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	if p := b.service.Policy(); p != nil && p.Location != nil {
		return p.Location
	}
	return time.UTC
}

// zoneOf is the time zone a person (by email) is told times in: a rep's
// own, else the policy's.
func (b *Bot) zoneOf(ctx context.Context, email string) *time.Location {
	if rep, err := b.store.RepByEmail(ctx, email); err == nil {
		return b.zone(rep.TimeZone)
	}
	return b.zone("")
}
