package teams_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/bot/teams/teamsfake"
	"github.com/slabot/slabot/engine"
)

// nothingHappened checks that slabot neither wrote to Teams nor recorded
// who a refused sender was.
func (e *teamsEnv) nothingHappened(t *testing.T, email string) {
	t.Helper()
	if _, err := e.db.ChatIdentityByEmail(context.Background(), engine.PlatformTeams, email); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("slabot recorded who %s is from a refused activity: %v", email, err)
	}
	settle(time.Now().Add(time.Second))
	if calls := e.fake.Calls(); len(calls) != 0 {
		t.Errorf("slabot called Teams %d times after a refused activity: first %s %s", len(calls), calls[0].Method, calls[0].Path)
	}
}

func TestAnActivityFromAnotherTenantOrChannelIsRefusedWithNothingRecordedOrSent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		modify func(*teamsfake.Activity, *teamsfake.Server)
	}{
		{"another tenant", func(a *teamsfake.Activity, _ *teamsfake.Server) {
			other := teamsfake.NewGUID()
			a.ChannelData = json.RawMessage(`{"tenant":{"id":"` + other + `"}}`)
			a.Conversation.TenantID = other
		}},
		{"another Bot Framework channel", func(a *teamsfake.Activity, fake *teamsfake.Server) {
			// The registration also has Web Chat: the key is endorsed for it.
			fake.RotateKey(true)
			fake.SetEndorsements("msteams", "webchat")
			a.ChannelID = "webchat"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newTeamsEnv(t)
			a, err := e.fake.MessageActivity(ana, "help")
			if err != nil {
				t.Fatal(err)
			}
			tc.modify(&a, e.fake)
			resp, err := e.fake.Send(ctxTimeout(t, waitLimit), a)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != http.StatusForbidden {
				t.Errorf("answered %d, want 403", resp.Status)
			}
			e.nothingHappened(t, ana)
			// The same person, from Teams in the tenant, is answered.
			if got := text(e.typed(ana, "help")); got == "" {
				t.Error("the genuine message got an empty answer")
			}
		})
	}
}

func TestASenderWithoutAnEntraObjectIDIsAStranger(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	// Maria, ana's manager, has written before: slabot knows her.
	e.typed(maria, "help")
	before, err := e.db.ChatIdentityByEmail(context.Background(), engine.PlatformTeams, maria)
	if err != nil {
		t.Fatal(err)
	}
	mariaInTeams, _ := e.fake.Person(maria)

	// Eve claims to be maria by a sign-in name in from.id, without an
	// object id, and marks ana away.
	a, err := e.fake.MessageActivity(stranger, "away "+ana)
	if err != nil {
		t.Fatal(err)
	}
	a.From = &teamsfake.Account{ID: maria, Name: "Maria Manager"}
	conv := e.personal(stranger)
	if resp, err := e.fake.Send(ctxTimeout(t, waitLimit), a); err != nil || resp.Status/100 != 2 {
		t.Fatalf("eve's message: %v %+v", err, resp)
	}
	recs, err := e.fake.WaitActivities(ctxTimeout(t, waitLimit), conv, 1)
	if err != nil {
		t.Fatal("eve got no answer: ", err)
	}
	mustSay(t, "the answer to someone slabot cannot tell", text(recs[0].Activity.Cards()[0]), "cannot find that account")
	reps, err := e.db.Reps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reps {
		if r.Email == ana && r.Status == engine.RepAway {
			t.Error("a sender without an object id marked ana away as her manager")
		}
	}
	after, err := e.db.ChatIdentityByEmail(context.Background(), engine.PlatformTeams, maria)
	if err != nil {
		t.Fatal(err)
	}
	if after.UserID != before.UserID || after.ConversationID != before.ConversationID || after.UserID != strings.ToLower(mariaInTeams.AADObjectID) {
		t.Errorf("maria's stored identity changed: %+v → %+v", before, after)
	}
	if n := len(e.fake.Activities(e.personal(maria))); n != 1 {
		t.Errorf("maria's chat holds %d messages, want only the answer to her own help", n)
	}

	t.Run("A29IDTiedToAnObjectIDIsThatPerson", func(t *testing.T) {
		a, err := e.fake.MessageActivity(maria, "status team week")
		if err != nil {
			t.Fatal(err)
		}
		a.From.AADObjectID = "" // her 29: id came with her object id before
		before := len(e.fake.Activities(e.personal(maria)))
		if resp, err := e.fake.Send(ctxTimeout(t, waitLimit), a); err != nil || resp.Status/100 != 2 {
			t.Fatalf("maria's message: %v %+v", err, resp)
		}
		recs, err := e.fake.WaitActivities(ctxTimeout(t, waitLimit), e.personal(maria), before+1)
		if err != nil {
			t.Fatal(err)
		}
		mustSay(t, "the answer to maria by her 29: id", text(recs[before].Activity.Cards()[0]), "SLA status: team sdr-east")
	})
}

func TestAnAppIDTypedInUpperCaseWorks(t *testing.T) {
	t.Parallel()
	// Microsoft sends the app id in lower case: in the token's aud, in the
	// bot's 28: id and in the app catalog's externalId (the fake compares
	// all three as typed).
	e := newTeamsEnv(t, func(c *envConfig) {
		c.editConfig = func(cfg *teams.Config) { cfg.AppID = strings.ToUpper(cfg.AppID) }
	})
	if strings.ToLower(e.fake.AppID()) != e.fake.AppID() {
		t.Fatal("the fake's app id is not in lower case as Microsoft's is")
	}
	mustSay(t, "the answer to help", text(e.typed(ana, "help")), "status")
	// Bo has not installed slabot: the card installs it through Graph,
	// which finds the app by its externalId.
	if _, err := e.fake.Uninstall(ctxTimeout(t, waitLimit), bo); err != nil {
		t.Fatal(err)
	}
	h := demoLead("crm-upper-case")
	h.OwnerEmail = bo
	e.card(bo, e.handOff(h))
	if p, _ := e.fake.Person(bo); !p.Installed {
		t.Error("bo got the card without the app being installed again")
	}
}

func TestAMentionNamesThePersonMentioned(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	ctx := ctxTimeout(t, waitLimit)
	ask := func(email, typed string, mentioned ...string) string {
		t.Helper()
		conv := e.personal(email)
		before := len(e.fake.Activities(conv))
		resp, err := e.fake.TypeMentioning(ctx, email, typed, mentioned...)
		if err != nil || resp.Status/100 != 2 {
			t.Fatalf("%s typing %q: %v %+v", email, typed, err, resp)
		}
		recs, err := e.fake.WaitActivities(ctx, conv, before+1)
		if err != nil {
			t.Fatalf("no answer to %q: %v", typed, err)
		}
		return text(recs[before].Activity.Cards()[0])
	}
	boAway := func() bool {
		reps, err := e.db.Reps(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reps {
			if r.Email == bo {
				return r.Status == engine.RepAway
			}
		}
		t.Fatal("bo is no rep")
		return false
	}

	// Bo has never written to slabot: the connector's member lookup in
	// the team slabot shares with him says who the mention names.
	e.addBotToSales()
	status := ask(maria, "<at>slabot</at> status "+e.fake.Mention(bo), bo)
	mustSay(t, "maria's status of bo", status, "SLA status: "+bo)
	if e.fake.MemberLookups() != 1 {
		t.Errorf("%d member lookups, want 1", e.fake.MemberLookups())
	}
	// A rep cannot mark another away; the manager can.
	ask(ana, "away "+e.fake.Mention(bo), bo)
	if boAway() {
		t.Fatal("ana marked bo away")
	}
	ask(maria, "away "+e.fake.Mention(bo), bo)
	if !boAway() {
		t.Error("maria's away with a mention of bo did not mark bo away")
	}
	if e.fake.MemberLookups() != 1 {
		t.Errorf("%d member lookups, want still 1: bo's 29: id was tied to his account the first time", e.fake.MemberLookups())
	}
	if reps, _ := e.db.Reps(context.Background()); len(reps) > 0 {
		for _, r := range reps {
			if r.Email == maria && r.Status == engine.RepAway {
				t.Error("maria marked herself away")
			}
		}
	}
}

func TestRemovalAndDeletionForgetWhatIsGoneAndTellTheManager(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	sales := e.addBotToSales()
	ctx := ctxTimeout(t, waitLimit)
	if _, err := teams.CheckChannels(ctx, e.db, e.fake.TenantID(), e.service.Policy(), true); err != nil {
		t.Fatal(err)
	}
	reports, escalations := sales.ChannelID("Reports"), sales.ChannelID("Escalations")
	if pin, err := e.db.ChatChannelPin(ctx, engine.PlatformTeams, "sales/reports"); err != nil || pin != reports {
		t.Fatalf("Sales/Reports pinned to %q (%v), want %s", pin, err, reports)
	}
	known := func(id string) bool {
		_, err := e.db.ChatChannelByID(context.Background(), engine.PlatformTeams, id)
		return err == nil
	}
	told := func(what string) bool {
		for _, r := range e.fake.Activities(e.personal(maria)) {
			for _, c := range r.Activity.Cards() {
				if strings.Contains(text(c), what) && strings.Contains(text(c), "is gone") {
					return true
				}
			}
		}
		return false
	}

	if resp, err := e.fake.DeleteChannel(ctx, sales.ID, reports, maria); err != nil || resp.Status/100 != 2 {
		t.Fatalf("deleting Reports: %v %+v", err, resp)
	}
	e.waitFor("the deleted channel to be forgotten", func() bool { return !known(reports) })
	if pin, err := e.db.ChatChannelPin(ctx, engine.PlatformTeams, "sales/reports"); err != nil || pin != reports {
		t.Errorf("the pin on the deleted channel: %q, %v; want it kept, so the name is not moved", pin, err)
	}
	e.waitFor("maria to hear that Sales/Reports is gone", func() bool { return told("Sales/Reports") })
	if !known(escalations) {
		t.Error("slabot forgot a channel that was not deleted")
	}

	if resp, err := e.fake.RemoveBotFromTeam(ctx, sales.ID, maria); err != nil || resp.Status/100 != 2 {
		t.Fatalf("removing slabot from Sales: %v %+v", err, resp)
	}
	e.waitFor("the team's channels to be forgotten", func() bool { return !known(escalations) && !known(sales.ID) })
	e.waitFor("maria to hear that Sales/Escalations is gone", func() bool { return told("Sales/Escalations") })
	// What the policy names there is refused with the reason, not sent.
	res := teams.ResolveChannel(ctx, e.db, e.fake.TenantID(), "Sales/Escalations", true)
	if res.Channel != nil || res.Err == nil {
		t.Errorf("Sales/Escalations still resolves after slabot left the team: %+v", res)
	}

	// Anyone may create a team called Sales and add slabot: the name
	// stays on the channel it was pinned to, and says how to move it.
	lookalike := e.fake.AddTeam("Sales", "Escalations", "Reports")
	if resp, err := e.fake.AddBotToTeam(ctx, lookalike.ID, bo); err != nil || resp.Status/100 != 2 {
		t.Fatalf("adding slabot to the look-alike team: %v %+v", err, resp)
	}
	e.waitFor("the look-alike team's channels to be learnt", func() bool { return known(lookalike.ChannelID("Escalations")) })
	res = teams.ResolveChannel(ctx, e.db, e.fake.TenantID(), "Sales/Escalations", true)
	if res.Channel != nil || res.Err == nil || !strings.Contains(res.Err.Error(), "slabot policy unpin") {
		t.Errorf("Sales/Escalations after a look-alike team: %+v; want refused, saying how to unpin", res)
	}
	// An operator who checked unpins it; then it resolves to the one left.
	if _, err := e.db.UnpinChatChannel(ctx, engine.PlatformTeams, teams.PinName("Sales/Escalations")); err != nil {
		t.Fatal(err)
	}
	res = teams.ResolveChannel(ctx, e.db, e.fake.TenantID(), "Sales/Escalations", true)
	if res.Channel == nil || res.Channel.ID != lookalike.ChannelID("Escalations") {
		t.Errorf("Sales/Escalations after unpinning: %+v; want the one channel by that name", res)
	}
}

func TestAnAmbiguousChannelNameIsRefusedAndAPinnedOneKept(t *testing.T) {
	t.Parallel()
	t.Run("Ambiguous", func(t *testing.T) {
		ctx := ctxTimeout(t, waitLimit)
		e := newTeamsEnv(t)
		first := e.addBotToSales()
		second := e.fake.AddTeam("Sales", "Escalations", "Reports")
		if resp, err := e.fake.AddBotToTeam(ctx, second.ID, maria); err != nil || resp.Status/100 != 2 {
			t.Fatalf("adding slabot to the second Sales: %v %+v", err, resp)
		}
		e.waitFor("the second team's channels", func() bool {
			_, err := e.db.ChatChannelByID(context.Background(), engine.PlatformTeams, second.ChannelID("Escalations"))
			return err == nil
		})
		_, err := teams.CheckChannels(ctx, e.db, e.fake.TenantID(), e.service.Policy(), false)
		if !errors.Is(err, teams.ErrAmbiguousChannel) {
			t.Fatalf("the check of an ambiguous name: %v", err)
		}
		for _, id := range []string{first.ChannelID("Escalations"), second.ChannelID("Escalations"), first.ID, second.ID} {
			if !strings.Contains(err.Error(), id) {
				t.Errorf("the refusal does not list %s:\n%v", id, err)
			}
		}
		// slabot run refuses to start with it.
		app := teams.NewApp(teams.AppConfig{Teams: fakeConfig(e.fake), Store: e.db, Service: e.service,
			Logger: slog.New(slog.DiscardHandler), DirectoryInterval: -1})
		runErr := make(chan error, 1)
		runCtx, stop := context.WithCancel(ctx)
		defer stop()
		go func() { runErr <- app.Run(runCtx) }()
		select {
		case err := <-runErr:
			if !errors.Is(err, teams.ErrAmbiguousChannel) || !strings.Contains(err.Error(), "Sales/Escalations") {
				t.Errorf("run stopped with %v, want the ambiguous name", err)
			}
		case <-ctx.Done():
			t.Fatal("run started with an ambiguous channel name")
		}
		// A post there is refused, not sent to either team.
		res := teams.ResolveChannel(ctx, e.db, e.fake.TenantID(), "Sales/Escalations", true)
		if res.Channel != nil || len(res.Candidates) != 2 {
			t.Errorf("Sales/Escalations resolves to %+v", res)
		}
	})
	t.Run("PinnedBeforeASameNamedTeamCame", func(t *testing.T) {
		ctx := ctxTimeout(t, waitLimit)
		e := newTeamsEnv(t)
		first := e.addBotToSales()
		if _, err := teams.CheckChannels(ctx, e.db, e.fake.TenantID(), e.service.Policy(), true); err != nil {
			t.Fatal(err)
		}
		// Someone creates a team called Sales too, and adds slabot to it.
		second := e.fake.AddTeam("Sales", "Escalations", "Reports")
		if resp, err := e.fake.AddBotToTeam(ctx, second.ID, stranger); err != nil || resp.Status/100 != 2 {
			t.Fatalf("adding slabot to the second Sales: %v %+v", err, resp)
		}
		e.waitFor("the second team's channels", func() bool {
			_, err := e.db.ChatChannelByID(context.Background(), engine.PlatformTeams, second.ChannelID("Escalations"))
			return err == nil
		})
		pins, err := teams.CheckChannels(ctx, e.db, e.fake.TenantID(), e.service.Policy(), false)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pins {
			if p.Channel == nil || p.Channel.TeamID != first.ID || !p.Pinned {
				t.Errorf("%s resolves to %+v, want pinned to the first Sales team", p.Name, p.Channel)
			}
		}
		if got := teams.DescribePin(pins[0]); !strings.Contains(got, "pinned to channel "+first.ChannelID("Reports")) {
			t.Errorf("the check says %q", got)
		}
	})
}
