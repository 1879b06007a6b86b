package bot

import "time"

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
