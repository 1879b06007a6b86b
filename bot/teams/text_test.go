package teams

import "testing"

func TestCommandText(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"status team week":                          "status team week",
		"<at>slabot</at> status team week":          "status team week",
		"<at>slabot</at>&nbsp;/sla leads":           "leads",
		"/sla plan revenue=5000 deal=100 win=0.5":   "plan revenue=5000 deal=100 win=0.5",
		"SLA   help\n":                              "help",
		"sla":                                       "",
		"slabot status":                             "slabot status",
		"<p><at id=\"0\">SLA Bot</at> home</p>":     "home",
		"  <at>a</at> <at>b</at> away until friday": "away until friday",
		"status &amp; more":                         "status & more",
	}
	for in, want := range cases {
		if got := CommandText(in); got != want {
			t.Errorf("CommandText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBaseConversationID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"19:abc@thread.tacv2;messageid=1700000000001": "19:abc@thread.tacv2",
		"19:abc@thread.tacv2":                         "19:abc@thread.tacv2",
		"a:1xyz":                                      "a:1xyz",
	} {
		if got := BaseConversationID(in); got != want {
			t.Errorf("BaseConversationID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCommandWithMentionsKeepsThePeopleAndDropsSlabot(t *testing.T) {
	t.Parallel()
	bot := "28:bot"
	act := &Activity{
		Text: "<at>slabot</at> away <at>Bo Chen</at> until <at>monday</at>",
		Entities: []Entity{
			{Type: "mention", Text: "<at>slabot</at>", Mentioned: &Account{ID: bot}},
			{Type: "clientInfo"},
			{Type: "mention", Text: "<at>Bo Chen</at>", Mentioned: &Account{ID: "29:bo", Name: "Bo Chen"}},
		},
	}
	text, mentions := CommandWithMentions(act, bot)
	if len(mentions) != 1 || mentions[0].ID != "29:bo" || mentions[0].Name != "Bo Chen" {
		t.Fatalf("mentions %+v, want Bo's only", mentions)
	}
	// A tag without a mention entity is no mention: dropped, as before.
	if text != "away \ue0000\ue001 until" {
		t.Errorf("command %q", text)
	}
	if text, mentions := CommandWithMentions(&Activity{Text: "status <at>Bo Chen</at>"}, bot); len(mentions) != 0 || text != "status" {
		t.Errorf("a mention without its entity: %q %+v", text, mentions)
	}
}
