package engine

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
)

const crmPolicyBase = "teams: [{name: a, manager: m@example.com, reps: [r@example.com]}]\nrules: [{name: default, first_touch: 4h}]\n"

func TestPolicyReadsWebhooksAndTheHubSpotMap(t *testing.T) {
	t.Setenv("HOOK_SECRET", "whsec_"+base64.StdEncoding.EncodeToString([]byte("a secret of thirty-two bytes....")))
	src := crmPolicyBase + `webhooks:
  - url: https://hooks.example.com/slabot
    events: [touch.logged, lead.returned]
    secret_env: HOOK_SECRET
  - url: http://n8n.internal:5678/webhook/x
    secret_env: HOOK_SECRET
crm:
  hubspot:
    map: {owner: sales_rep_email, score: lead_grade}
`
	p, probs := ParsePolicy([]byte(src), policyNow)
	if p == nil {
		t.Fatalf("problems: %v", probs)
	}
	if len(p.Webhooks) != 2 || p.Webhooks[0].URL != "https://hooks.example.com/slabot" || p.Webhooks[0].SecretEnv != "HOOK_SECRET" {
		t.Fatalf("webhooks %+v", p.Webhooks)
	}
	if !p.Webhooks[0].Wants("touch.logged") || p.Webhooks[0].Wants("handoff.created") || !p.Webhooks[1].Wants("rep.away") {
		t.Errorf("event filters wrong: %+v", p.Webhooks)
	}
	if p.CRM.HubSpot.Map["owner"] != "sales_rep_email" || p.CRM.HubSpot.Map["score"] != "lead_grade" {
		t.Errorf("hubspot map %v", p.CRM.HubSpot.Map)
	}
	summary := p.Summary()
	for _, want := range []string{"hooks.example.com: touch.logged and lead.returned, signed with the secret in HOOK_SECRET",
		"n8n.internal:5678: every event", "owner from sales_rep_email and score from lead_grade", "kept 30 days"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary does not say %q:\n%s", want, summary)
		}
	}
	// A hook address is a credential: the summary (/sla policy and its
	// share) names hosts only.
	for _, secret := range []string{"/slabot", "/webhook/x", "https://"} {
		if strings.Contains(summary, secret) {
			t.Errorf("the summary shows %q of a webhook address:\n%s", secret, summary)
		}
	}
}

func TestPolicyReadsTheHubSpotFormListAndTheParkedRetention(t *testing.T) {
	src := crmPolicyBase + `crm:
  parked_webhook_retention: 14d
  hubspot:
    form: [Budget, timeline, budget]
`
	p, probs := ParsePolicy([]byte(src), policyNow)
	if p == nil || len(probs.Errors()) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	if p.CRM.ParkedRetention() != 14*durDay || !slices.Equal(p.CRM.HubSpot.Form, []string{"budget", "timeline"}) {
		t.Errorf("retention %s, form %v", p.CRM.ParkedRetention(), p.CRM.HubSpot.Form)
	}
	p, probs = ParsePolicy([]byte(crmPolicyBase+"crm: {parked_webhook_retention: 2h}\n"), policyNow)
	if errs := probs.Errors(); len(errs) != 1 || !strings.Contains(errs[0].Message, "less than a day") {
		t.Errorf("a retention of 2h: %v", errs)
	}
	if p, _ = ParsePolicy([]byte(crmPolicyBase), policyNow); p.CRM.ParkedRetention() != DefaultParkedWebhookRetention {
		t.Errorf("default retention %s", p.CRM.ParkedRetention())
	}
}

func TestPolicyCheckSaysWhatToFixInWebhooks(t *testing.T) {
	t.Setenv("GOOD_SECRET", "whsec_"+base64.StdEncoding.EncodeToString([]byte("a secret of thirty-two bytes....")))
	t.Setenv("NO_PREFIX", base64.StdEncoding.EncodeToString([]byte("a secret of thirty-two bytes....")))
	t.Setenv("BAD_BASE64", "whsec_not*base64!")
	tests := []struct {
		name, yaml, path, want string
	}{
		{"not http", "webhooks: [{url: ftp://x.example.com/, secret_env: GOOD_SECRET}]", "webhooks[0].url", "is not an http(s) address"},
		{"a misspelt event", "webhooks: [{url: https://x.example.com/, events: [touch.loged], secret_env: GOOD_SECRET}]", "webhooks[0].events[0]", `did you mean "touch.logged"?`},
		{"an unknown event", "webhooks: [{url: https://x.example.com/, events: [deal.won], secret_env: GOOD_SECRET}]", "webhooks[0].events[0]", "the events are"},
		{"no secret_env", "webhooks: [{url: https://x.example.com/}]", "webhooks[0].secret_env", "is missing"},
		{"an unset variable", "webhooks: [{url: https://x.example.com/, secret_env: NOT_SET_ANYWHERE}]", "webhooks[0].secret_env", "NOT_SET_ANYWHERE is not set"},
		{"the secret itself", "webhooks: [{url: https://x.example.com/, secret_env: whsec_abc}]", "webhooks[0].secret_env", "holds a secret, not the name of a variable"},
		{"no whsec_", "webhooks: [{url: https://x.example.com/, secret_env: NO_PREFIX}]", "webhooks[0].secret_env", "does not start with whsec_"},
		{"bad base64", "webhooks: [{url: https://x.example.com/, secret_env: BAD_BASE64}]", "webhooks[0].secret_env", "not valid base64"},
		{"a misspelt key", "webhooks: [{url: https://x.example.com/, secret_env: GOOD_SECRET, event: [touch.logged]}]", "webhooks[0].event", `did you mean "events"?`},
		{"a misspelt hubspot field", "crm: {hubspot: {map: {ownr: x}}}", "crm.hubspot.map.ownr", `did you mean "owner"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, probs := ParsePolicy([]byte(crmPolicyBase+tt.yaml+"\n"), policyNow)
			if p != nil {
				t.Fatalf("a policy despite the problem")
			}
			if !slices.ContainsFunc(probs, func(pr Problem) bool {
				return pr.Path == tt.path && strings.Contains(pr.Message, tt.want)
			}) {
				t.Errorf("want a problem at %s saying %q; got\n%v", tt.path, tt.want, probs)
			}
		})
	}
}
