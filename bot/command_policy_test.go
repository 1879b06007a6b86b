package bot

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// TestPolicyAnswerShowsWebhookHostsOnly: a webhook address is a credential
// (Zapier, Make and n8n carry their secret in its path), and /sla policy
// is open to anyone in the workspace and can be shared to a channel.
func TestPolicyAnswerShowsWebhookHostsOnly(t *testing.T) {
	t.Setenv("HOOK_SECRET", "whsec_"+base64.StdEncoding.EncodeToString([]byte("a secret of thirty-two bytes....")))
	policy, problems := engine.ParsePolicy([]byte("teams: [{name: t, manager: m@x.test, reps: [r@x.test]}]\n"+
		"rules: [{name: d, first_touch: 4h}]\n"+
		"webhooks:\n  - url: https://hooks.zapier.com/hooks/catch/123456/abcdefs3cr3t/?token=qwerty\n    secret_env: HOOK_SECRET\n"), time.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	var text strings.Builder
	for _, b := range policyReply(policy).Message.Blocks {
		switch b := b.(type) {
		case view.Heading:
			text.WriteString(b.Text + "\n")
		case view.Section:
			for _, l := range b.Lines {
				text.WriteString(l.Plain() + "\n")
			}
		case view.Context:
			for _, l := range b.Lines {
				text.WriteString(l.Plain() + "\n")
			}
		}
	}
	got := text.String()
	if !strings.Contains(got, "hooks.zapier.com") {
		t.Fatalf("the answer does not name the webhook's host:\n%s", got)
	}
	for _, secret := range []string{"abcdefs3cr3t", "qwerty", "/hooks/catch"} {
		if strings.Contains(got, secret) {
			t.Errorf("the answer shows %q of the webhook's address:\n%s", secret, got)
		}
	}
}
