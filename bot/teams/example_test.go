package teams_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/bot/teams/teamsfake"
)

// The Teams adapter's shape in a few lines, against the fake: a person
// types a command, the bot answers in their 1:1 chat with a card, the
// person clicks its button and gets the redrawn card back.
func Example() {
	ctx := context.Background()
	fake := teamsfake.New(teamsfake.Options{})
	defer fake.Close()

	transport := teams.NewTransport(teams.Config{
		AppID: fake.AppID(), AppPassword: fake.AppPassword(), TenantID: fake.TenantID(),
		OpenIDMetadataURL: fake.OpenIDMetadataURL(), LoginURL: fake.LoginURL(),
		GraphURL: fake.GraphURL(), ServiceURL: fake.ServiceURL(), ServiceURLHosts: fake.ServiceURLHosts(),
	}, teams.TransportOptions{})

	bot := teams.ActivityHandlerFunc(func(ctx context.Context, a *teams.Activity) (*teams.InvokeResponse, error) {
		ref := a.Reference() // store it: the service URL may change
		switch {
		case a.Type == teams.ActivityMessage && teams.CommandText(a.Text) == "leads":
			msg, err := teams.CardMessage(teams.Card{
				Body:    []teams.Element{teams.TextBlock{Text: "Acme: first touch due in 2h"}},
				Actions: []teams.Action{teams.ActionExecute{Title: "Acknowledge", Verb: "ack", Data: map[string]string{"lead": "42"}}},
			}, "Your open leads")
			if err != nil {
				return nil, err
			}
			_, err = transport.Connector.SendActivity(ctx, ref.ServiceURL, ref.ConversationID, msg)
			return nil, err
		case a.IsAdaptiveCardAction():
			action, err := a.CardAction()
			if err != nil {
				return nil, err
			}
			data, _ := action.Strings()
			return teams.CardResponse(teams.Card{Body: []teams.Element{
				teams.TextBlock{Text: "Lead " + data["lead"] + " acknowledged"},
			}}), nil
		}
		return nil, nil
	})
	server := httptest.NewServer(transport.Handler(bot, teams.HandlerOptions{}))
	defer server.Close()
	fake.SetBotEndpoint(server.URL + "/api/messages")

	rita := fake.AddPerson(teamsfake.Person{Email: "rita@example.com", Name: "Rita", Installed: true})
	if _, err := fake.Type(ctx, rita.Email, "<at>slabot</at> sla leads"); err != nil {
		fmt.Println(err)
		return
	}
	card, _, _ := fake.LastCard(rita.Email)
	fmt.Println(teamsfake.CardTexts(card), teamsfake.CardVerbs(card))

	result, err := fake.ClickLast(ctx, rita.Email, "ack", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(result.Type, teamsfake.CardTexts(result.Card))
	// Output:
	// [Acme: first touch due in 2h] [ack]
	// application/vnd.microsoft.card.adaptive [Lead 42 acknowledged]
}
