package storage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/storagetest"
)

func TestAPostIsRecordedAroundItsSend(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t)

	// Two attempts race to send the same post: both see one record.
	var wg sync.WaitGroup
	posts := make([]*engine.ChatPost, 4)
	for i := range posts {
		wg.Go(func() {
			p, err := db.IntendPost(ctx, engine.PlatformTeams, "card:7:1", "a:conv")
			if err != nil {
				t.Error(err)
			}
			posts[i] = p
		})
	}
	wg.Wait()
	for _, p := range posts {
		if p == nil || p.Key != "card:7:1" || p.Conversation != "a:conv" || !p.SentAt.IsZero() || p.MessageID != "" {
			t.Fatalf("intent %+v; want the unsent record of card:7:1 in a:conv", p)
		}
	}

	sent := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if err := db.PostSent(ctx, engine.PlatformTeams, "card:7:1", "a:conv", "1700000000001", sent); err != nil {
		t.Fatal(err)
	}
	again, err := db.IntendPost(ctx, engine.PlatformTeams, "card:7:1", "a:conv")
	if err != nil {
		t.Fatal(err)
	}
	if again.MessageID != "1700000000001" || !again.SentAt.Equal(sent) {
		t.Errorf("a retry's intent %+v; want the sent post with its message id", again)
	}
	if _, err := db.ChatPostByKey(ctx, engine.PlatformSlack, "card:7:1"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("the same key on another platform: %v; want not found", err)
	}
}

func TestChannelsAreFoundByTeamAndChannelNameInAnyCase(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t)
	ch := &engine.ChatChannel{Platform: engine.PlatformTeams, ID: "19:abc@thread.tacv2", Name: "General",
		TeamID: "19:team@thread.tacv2", TeamName: "Sales", ServiceURL: "https://smba.example/", TenantID: "t"}
	if err := db.SaveChatChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	ch.Name = "Smarketing" // renamed in Teams
	if err := db.SaveChatChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	got, err := db.ChatChannelByName(ctx, engine.PlatformTeams, "sales", "SMARKETING")
	if err != nil {
		t.Fatal(err)
	}
	if *got != *ch {
		t.Errorf("found %+v; want %+v", got, ch)
	}
	if _, err := db.ChatChannelByName(ctx, engine.PlatformTeams, "Sales", "General"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("the channel's old name still finds it: %v", err)
	}
	if byID, err := db.ChatChannelByID(ctx, engine.PlatformTeams, ch.ID); err != nil || byID.Name != "Smarketing" {
		t.Errorf("by id: %+v, %v", byID, err)
	}
}
