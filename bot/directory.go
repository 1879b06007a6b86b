package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/slabot/slabot/engine"
)

// This file keeps the rotation in step with the platform's directory of
// people: the decision and its loop are the core's; each adapter only
// fetches its directory.

// Account is what a platform's directory says of a rep's account.
type Account int

const (
	// AccountUnknown: the directory has nobody by the rep's id or email,
	// which may be a typo in the policy file (the hand-off alert reports
	// those), not proof that the rep left.
	AccountUnknown Account = iota
	// AccountActive: the rep can sign in.
	AccountActive
	// AccountDisabled: an administrator deactivated or disabled the
	// account; the rep has left.
	AccountDisabled
)

// DirectoryChange is what a directory check does with one rep.
type DirectoryChange int

const (
	// DirectoryKeep leaves the rep as they are.
	DirectoryKeep DirectoryChange = iota
	// DirectoryRejoin puts an inactive rep whose account is active again
	// back in the rotation.
	DirectoryRejoin
	// DirectoryLeave takes a rep whose account was disabled out of the
	// rotation and escalates their open leads to their team.
	DirectoryLeave
)

// DecideDirectory is what the directory's word on a rep's account means
// for the rotation. Only reps of a team take leads, so only they change;
// only a disabled account is proof that a rep left.
func DecideDirectory(rep engine.Rep, account Account) DirectoryChange {
	switch {
	case rep.Team == "":
		return DirectoryKeep
	case rep.Status == engine.RepInactive && account == AccountActive:
		return DirectoryRejoin
	case rep.Status != engine.RepInactive && account == AccountDisabled:
		return DirectoryLeave
	}
	return DirectoryKeep
}

// Directory is a platform's directory of people as a check reads it.
type Directory struct {
	// Name names the directory in logs: the platform's.
	Name string
	// LeftBecause is why a rep whose account was disabled left, for their
	// team's alert and the lead's history.
	LeftBecause string
	// Account looks a rep up.
	Account func(ctx context.Context, rep engine.Rep) (Account, error)
}

// SyncDirectory checks every rep of a team against dir and acts on what
// DecideDirectory says: a rep whose account was disabled leaves the
// rotation and their open leads are escalated; a rep whose account is
// active again rejoins it. Several replicas may run it at once: each rep
// is handled once.
func (b *Bot) SyncDirectory(ctx context.Context, dir Directory) error {
	reps, err := b.store.Reps(ctx)
	if err != nil {
		return fmt.Errorf("list the reps to check against the directory: %w", err)
	}
	for _, r := range reps {
		if DecideDirectory(r, AccountActive) == DirectoryKeep && DecideDirectory(r, AccountDisabled) == DirectoryKeep {
			continue // nothing the directory says would change this rep: no need to ask
		}
		account, err := dir.Account(ctx, r)
		if err != nil {
			return fmt.Errorf("look a rep up in the directory: %w", err)
		}
		switch DecideDirectory(r, account) {
		case DirectoryRejoin:
			back, err := b.store.ReactivateRep(ctx, r.Email, b.service.Now())
			if err != nil {
				return fmt.Errorf("put a rep back in the rotation: %w", err)
			}
			if back {
				b.logger.Info("a rep's account is active again: back in the rotation", "directory", dir.Name, "rep_id", r.ID)
			}
		case DirectoryLeave:
			n, err := b.service.RepGone(ctx, r.Email, dir.LeftBecause)
			if err != nil {
				return fmt.Errorf("take a rep out of the rotation: %w", err)
			}
			b.logger.Info("a rep's account was disabled: out of the rotation", "directory", dir.Name, "rep_id", r.ID, "open_leads_escalated", n)
		}
	}
	return nil
}

// KeepDirectoryInSync runs sync every interval until ctx ends, logging a
// failure and trying again at the next tick. A zero or negative interval
// checks never and only waits for ctx.
func (b *Bot) KeepDirectoryInSync(ctx context.Context, every time.Duration, name string, sync func(context.Context) error) {
	if every <= 0 {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := sync(ctx); err != nil && ctx.Err() == nil {
				b.logger.Warn("checking the directory failed; trying again later", "directory", name, "err", err)
			}
		}
	}
}
