package teams

import "testing"

func TestCommandText(t *testing.T) {
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
