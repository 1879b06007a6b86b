package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/storagetest"
)

func TestAPersonWhoBlockedSlabotIsRememberedUntilCleared(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	const user = "7faf8ab2-3d56-4244-b585-20c8a42ed2b8"
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

	if reason, err := db.UnreachableReason(ctx, engine.PlatformTeams, user); err != nil || reason != "" {
		t.Fatalf("before any mark: %q, %v; want none", reason, err)
	}
	marked, err := db.MarkUnreachable(ctx, engine.PlatformTeams, user, "they blocked slabot", at)
	if err != nil || !marked {
		t.Fatalf("first mark: %v, %v; want newly marked", marked, err)
	}
	marked, err = db.MarkUnreachable(ctx, engine.PlatformTeams, user, "a second reason", at.Add(time.Minute))
	if err != nil || marked {
		t.Fatalf("second mark: %v, %v; want it marked already", marked, err)
	}
	if reason, err := db.UnreachableReason(ctx, engine.PlatformTeams, user); err != nil || reason != "they blocked slabot" {
		t.Errorf("reason %q, %v; want the first one's", reason, err)
	}
	if reason, _ := db.UnreachableReason(ctx, engine.PlatformSlack, user); reason != "" {
		t.Errorf("the Teams mark shows on Slack: %q", reason)
	}
	cleared, err := db.ClearUnreachable(ctx, engine.PlatformTeams, user)
	if err != nil || !cleared {
		t.Fatalf("clear: %v, %v", cleared, err)
	}
	if cleared, _ := db.ClearUnreachable(ctx, engine.PlatformTeams, user); cleared {
		t.Error("a second clear cleared something")
	}
	if reason, _ := db.UnreachableReason(ctx, engine.PlatformTeams, user); reason != "" {
		t.Errorf("after the clear: %q", reason)
	}
}
