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
	t.Parallel()
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
	t.Parallel()
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

func TestAChannelNameIsPinnedOnceAndItsPinGoesWithTheChannel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	save := func(id, team, tenant string) {
		t.Helper()
		if err := db.SaveChatChannel(ctx, &engine.ChatChannel{Platform: engine.PlatformTeams, ID: id, Name: "Escalations",
			TeamID: team, TeamName: "Sales", TenantID: tenant}); err != nil {
			t.Fatal(err)
		}
	}
	save("19:first@thread.tacv2", "19:a@thread.tacv2", "tenant-a")
	save("19:other-tenant@thread.tacv2", "19:b@thread.tacv2", "tenant-b")
	got, err := db.ChatChannelsByName(ctx, engine.PlatformTeams, "TENANT-A", "sales", "escalations")
	if err != nil || len(got) != 1 || got[0].ID != "19:first@thread.tacv2" {
		t.Fatalf("channels of tenant-a named Sales/Escalations: %+v, %v; want the first only", got, err)
	}
	pinned, err := db.PinChatChannel(ctx, engine.PlatformTeams, "Sales/Escalations", "19:first@thread.tacv2")
	if err != nil || pinned != "19:first@thread.tacv2" {
		t.Fatalf("pin: %q, %v", pinned, err)
	}
	save("19:second@thread.tacv2", "19:c@thread.tacv2", "tenant-a")
	if again, err := db.PinChatChannel(ctx, engine.PlatformTeams, "sales/escalations", "19:second@thread.tacv2"); err != nil || again != "19:first@thread.tacv2" {
		t.Errorf("pinning again: %q, %v; want the first pin kept", again, err)
	}
	if both, _ := db.ChatChannelsByName(ctx, engine.PlatformTeams, "tenant-a", "Sales", "Escalations"); len(both) != 2 {
		t.Errorf("%d candidates after a same-named team came, want 2", len(both))
	}
	gone, err := db.ForgetChatChannels(ctx, engine.PlatformTeams, []string{"19:first@thread.tacv2"})
	if err != nil || len(gone) != 1 || gone[0].TeamID != "19:a@thread.tacv2" {
		t.Fatalf("forget: %+v, %v", gone, err)
	}
	// The pin outlives its channel: the same-named channel left is not
	// pinned in its place.
	if id, err := db.ChatChannelPin(ctx, engine.PlatformTeams, "sales/escalations"); err != nil || id != "19:first@thread.tacv2" {
		t.Errorf("the pin of a forgotten channel: %q, %v; want it kept on the forgotten channel", id, err)
	}
	if _, err := db.ChatChannelByID(ctx, engine.PlatformTeams, "19:first@thread.tacv2"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("a forgotten channel is found: %v", err)
	}
	if id, err := db.UnpinChatChannel(ctx, engine.PlatformTeams, "Sales/Escalations"); err != nil || id != "19:first@thread.tacv2" {
		t.Errorf("unpin: %q, %v; want the forgotten channel's id", id, err)
	}
	if _, err := db.ChatChannelPin(ctx, engine.PlatformTeams, "sales/escalations"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("the pin after unpinning: %v; want not found", err)
	}
	if _, err := db.UnpinChatChannel(ctx, engine.PlatformTeams, "sales/escalations"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("unpinning twice: %v; want not found", err)
	}
}

func TestAMemberIDIsTiedToOneAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	if _, err := db.UserIDOfMember(ctx, engine.PlatformTeams, "29:bo"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Fatalf("an untied member id: %v; want not found", err)
	}
	for _, id := range []string{"obj-1", "obj-2"} {
		if err := db.TieMember(ctx, engine.PlatformTeams, "29:bo", id); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := db.UserIDOfMember(ctx, engine.PlatformTeams, "29:bo"); err != nil || got != "obj-2" {
		t.Errorf("29:bo is %q (%v), want the account it last came with", got, err)
	}
}
