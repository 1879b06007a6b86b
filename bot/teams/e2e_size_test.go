package teams_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/bot/teams/teamsfake"
	"github.com/slabot/slabot/engine"
)

// postsTo lists the connector's posts to a conversation among calls.
func postsTo(calls []teamsfake.Call, conversationID string) []teamsfake.Call {
	var out []teamsfake.Call
	for _, c := range calls {
		if c.Method == http.MethodPost && c.ConversationID == conversationID {
			out = append(out, c)
		}
	}
	return out
}

// TestATooLargeMessageIsSentSmallerNeverTheSameAgain: Teams (the fake,
// its limit lowered) refuses ana's lead card with 413 MessageSizeTooBig.
// slabot sends it again smaller, never unchanged, and the short card
// still says what it is about and still acts.
func TestATooLargeMessageIsSentSmallerNeverTheSameAgain(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	e.typed(ana, "help")
	conv := e.personal(ana)
	// The fake logs a call once it has answered it.
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool { return len(postsTo(e.fake.Calls(), conv)) == 1 }); err != nil {
		t.Fatal(err)
	}
	before := len(e.fake.Calls())
	e.fake.SetMessageLimit(3000)
	l := e.handOff(demoLead("crm-413"))
	post := e.card(ana, l)
	mustSay(t, "the short card", text(post.Activity.Cards()[0]), "Dana Ruiz", "more than Teams takes")

	var posts []teamsfake.Call
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool {
		posts = postsTo(e.fake.Calls()[before:], conv)
		return len(posts) > 0 && posts[len(posts)-1].Status == http.StatusCreated
	}); err != nil {
		t.Fatalf("the accepted post is not in the fake's log: %+v", posts)
	}
	if len(posts) < 2 {
		t.Fatalf("%d posts, want the refused one and a smaller one", len(posts))
	}
	for i, p := range posts {
		last := i == len(posts)-1
		switch {
		case last && p.Status != http.StatusCreated, !last && p.Status != http.StatusRequestEntityTooLarge:
			t.Errorf("post %d answered %d", i, p.Status)
		case i > 0 && p.Size >= posts[i-1].Size:
			t.Errorf("post %d is %d bytes after one of %d: sent again no smaller", i, p.Size, posts[i-1].Size)
		}
	}
	e.fake.SetMessageLimit(0)
	if res := e.click(ana, post, "lead.ack", nil); res.Type != "application/vnd.microsoft.card.adaptive" {
		t.Errorf("the short card's button: %s %q", res.Type, res.Message)
	}
	if e.lead(l.ID).State != engine.StateAcknowledged {
		t.Error("the short card's button did not acknowledge the lead")
	}
}

// TestListsOfWideCharactersStayWithinWhatTeamsCounts: 70 leads named in
// Japanese, with emoji and in ASCII (two bytes a character in UTF-16, one
// in UTF-8). The home card and the leads list are taken by Teams at the
// first try, each within 80 KB as Teams counts it.
func TestListsOfWideCharactersStayWithinWhatTeamsCounts(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	ctx := context.Background()
	now := time.Now()
	names := []string{strings.Repeat("日本語の見込み客", 20), strings.Repeat("🚀🎯", 40), strings.Repeat("Plain ASCII name ", 10)}
	err := e.db.InTx(ctx, func(tx engine.Tx) error {
		for i := range 70 {
			assigned := now.Add(-time.Duration(i) * time.Minute)
			l := &engine.Lead{ExternalID: fmt.Sprintf("wide-%d", i),
				Contact:    engine.Contact{Name: fmt.Sprintf("%d %s", i, names[i%len(names)])},
				Company:    engine.Company{Name: names[(i+1)%len(names)]},
				OwnerEmail: ana, Team: "sdr-east", Rule: "default", State: engine.StateNotified,
				HandedOffAt: assigned, ReceivedAt: assigned, AssignedAt: assigned, FirstTouchDue: assigned.Add(4 * time.Hour)}
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	before := len(e.fake.Calls())
	for _, ask := range []string{"home", "leads"} {
		mustSay(t, "the answer to "+ask, text(e.typed(ana, ask)), "Your open leads (70)")
	}
	var posts []teamsfake.Call
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool {
		posts = postsTo(e.fake.Calls()[before:], e.personal(ana))
		return len(posts) >= 2
	}); err != nil {
		t.Fatalf("%d posts to ana's chat, want the two answers", len(posts))
	}
	for _, p := range posts {
		if p.Status != http.StatusCreated || p.Size > teams.MaxActivitySize || p.Size == 0 {
			t.Errorf("a post answered %d at %d bytes in UTF-16; want 201 within %d", p.Status, p.Size, teams.MaxActivitySize)
		}
	}
}
