// Package teamsfake is a Microsoft Teams–compatible fake for tests and the
// demo: one httptest server that plays the Bot Framework's OpenID metadata
// and signing keys (with endorsements), the Entra token endpoint, the Bot
// Connector of Teams and the few Microsoft Graph calls slabot makes.
//
// The real clients of package teams talk to it unchanged; point them at
// OpenIDMetadataURL, LoginURL, GraphURL and ServiceURL:
//
//	fake := teamsfake.New(teamsfake.Options{})
//	defer fake.Close()
//	fake.SetBotEndpoint(botServer.URL + "/api/messages")
//	ann := fake.AddPerson(teamsfake.Person{Email: "ann@example.com", Name: "Ann", Installed: true})
//	resp, err := fake.Type(ctx, ann.Email, "/sla status")
//
// It also plays the people and Teams itself: people install and uninstall
// the app, type messages and click Action.Execute buttons, and the bot is
// added to teams. Each of those is an activity the fake signs with a real
// RS256 key and POSTs to the bot's endpoint, returning the bot's answer.
// Everything the bot sends is recorded per conversation with timestamps.
//
// Failure injection: a share of connector calls answered 429 with
// Retry-After, the next calls answered 412/502/504, people without the app
// (403), people who blocked the bot (SetBlocked: 403 MessageWritesBlocked
// while Graph answers 409), a team the bot was removed from without an
// event (LoseBotFromTeam: 403 BotNotInConversationRoster), a message
// limit counted in UTF-16 (413 MessageSizeTooBig; SetMessageLimit), cards
// whose input ids repeat (400), a service URL that moves, and key
// rotation. Tokens for negative tests can be altered with TokenOptions.
//
// The fake keeps its own protocol types (it does not import package
// teams), so a field the client gets wrong shows up here. All exported
// methods are safe for concurrent use.
package teamsfake
