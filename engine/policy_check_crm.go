package engine

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The CRM loop's part of the policy: the webhooks slabot calls with lead
// events, and how HubSpot's contact properties map onto a hand-off.

// Webhook is one endpoint told about lead events.
type Webhook struct {
	URL string
	// Events are the CRM event types the endpoint receives; all of them
	// when the file lists none.
	Events []string
	// SecretEnv names the environment variable that holds the endpoint's
	// signing secret, whsec_ followed by base64.
	SecretEnv string
	// Line is where the webhook starts in the policy file.
	Line int
}

// Host names the endpoint by its host alone, for people to read: tools
// such as Zapier, Make or n8n carry their secret in the address's path.
func (w Webhook) Host() string {
	if u, err := url.Parse(w.URL); err == nil && u.Host != "" {
		return u.Host
	}
	return "an endpoint"
}

// Wants reports whether the endpoint receives events of type typ.
func (w Webhook) Wants(typ string) bool {
	return len(w.Events) == 0 || slices.Contains(w.Events, typ)
}

// CRMConfig is the policy's crm section.
type CRMConfig struct {
	HubSpot HubSpotConfig
	// ParkedWebhookRetention is how long a parked webhook delivery is
	// kept for `slabot webhooks --redeliver` (crm.parked_webhook_retention;
	// DefaultParkedWebhookRetention when the file sets none).
	ParkedWebhookRetention time.Duration
}

// DefaultParkedWebhookRetention keeps a parked delivery a month.
const DefaultParkedWebhookRetention = 30 * durDay

// ParkedRetention is how long parked webhook deliveries are kept.
func (c CRMConfig) ParkedRetention() time.Duration {
	if c.ParkedWebhookRetention > 0 {
		return c.ParkedWebhookRetention
	}
	return DefaultParkedWebhookRetention
}

// HubSpotConfig is crm.hubspot: Map names, for a hand-off field, the
// HubSpot contact property that fills it, over the stock mapping; Form
// lists the other properties shown as the lead's form answers.
type HubSpotConfig struct {
	Map  map[string]string
	Form []string
}

// HubSpotFields are the hand-off fields crm.hubspot.map may set.
var HubSpotFields = []string{"external_id", "email", "first_name", "last_name", "name", "title", "phone",
	"company", "domain", "employees", "industry", "country", "score", "source", "segment", "owner", "value", "crm_url"}

var (
	webhookKeys = []string{"url", "events", "secret_env"}
	crmKeys     = []string{"hubspot", "parked_webhook_retention"}
	hubSpotKeys = []string{"map", "form"}
)

// WebhookSecretPrefix starts every webhook signing secret (Standard Webhooks).
const WebhookSecretPrefix = "whsec_"

// WebhookSecret reads and decodes the signing key held by the variable
// named env: the base64 after whsec_. The error says what to fix.
func WebhookSecret(env string) ([]byte, error) {
	v, ok := os.LookupEnv(env)
	if !ok || strings.TrimSpace(v) == "" {
		return nil, fmt.Errorf("the environment variable %s is not set: set it to the endpoint's signing secret, whsec_ followed by base64 (e.g. whsec_$(openssl rand -base64 32))", env)
	}
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, WebhookSecretPrefix) {
		return nil, fmt.Errorf("%s does not start with whsec_: a Standard Webhooks secret is whsec_ followed by base64", env)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(v, WebhookSecretPrefix))
	if err != nil {
		return nil, fmt.Errorf("the part of %s after whsec_ is not valid base64: %v", env, err)
	}
	if len(key) < 16 {
		return nil, fmt.Errorf("the secret in %s is only %d bytes long: use at least 24 random bytes (openssl rand -base64 32)", env, len(key))
	}
	return key, nil
}

func (c *policyChecker) webhooks(p *Policy, n *yaml.Node) {
	for i, item := range c.items(n, "webhooks", "webhooks") {
		path := fmt.Sprintf("webhooks[%d]", i)
		keys := c.mapping(item, path, webhookKeys)
		if item.Kind != yaml.MappingNode {
			continue
		}
		w := Webhook{Line: item.Line}
		ok := true
		if un := keys["url"]; un == nil {
			c.errorf(item, path+".url", "is missing: give the address to POST events to, like https://hooks.example.com/slabot")
			ok = false
		} else if s, good := c.str(un, path+".url"); good {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				c.errorf(un, path+".url", "%q is not an http(s) address: write it in full, like https://hooks.example.com/slabot", s)
				ok = false
			}
			w.URL = s
		} else {
			ok = false
		}
		if en := keys["events"]; en != nil {
			items, good := c.strList(en, path+".events")
			ok = ok && good
			for _, it := range items {
				if !slices.Contains(CRMEventTypes, it.val) {
					msg := fmt.Sprintf("%q is not an event slabot sends", it.val)
					if s := closestKey(it.val, CRMEventTypes); s != "" {
						msg += fmt.Sprintf(": did you mean %q?", s)
					} else {
						msg += ": the events are " + AndList(CRMEventTypes)
					}
					c.errorf(it.node, it.path, "%s", msg)
					ok = false
					continue
				}
				w.Events = append(w.Events, it.val)
			}
		}
		if sn := keys["secret_env"]; sn == nil {
			c.errorf(item, path+".secret_env", "is missing: name the environment variable that holds the endpoint's signing secret (the secret itself never goes in this file)")
			ok = false
		} else if s, good := c.str(sn, path+".secret_env"); good {
			if strings.HasPrefix(s, WebhookSecretPrefix) {
				c.errorf(sn, path+".secret_env", "holds a secret, not the name of a variable: put the secret in an environment variable (say SLABOT_WEBHOOK_SECRET) and write its name here")
				ok = false
			} else if _, err := WebhookSecret(s); err != nil {
				c.errorf(sn, path+".secret_env", "%s", err.Error())
				ok = false
			}
			w.SecretEnv = s
		} else {
			ok = false
		}
		if ok {
			p.Webhooks = append(p.Webhooks, w)
		}
	}
}

func (c *policyChecker) crm(p *Policy, n *yaml.Node) {
	keys := c.mapping(n, "crm", crmKeys)
	if rn := keys["parked_webhook_retention"]; rn != nil {
		if d, ok := c.positiveDuration(rn, "crm.parked_webhook_retention"); ok {
			if d < durDay {
				c.errorf(rn, "crm.parked_webhook_retention", "%s is less than a day: keep parked deliveries long enough to send them again after an outage, like 30d", FormatDuration(d))
			} else {
				p.CRM.ParkedWebhookRetention = d
			}
		}
	}
	hn := keys["hubspot"]
	if hn == nil {
		return
	}
	hk := c.mapping(hn, "crm.hubspot", hubSpotKeys)
	if fn := hk["form"]; fn != nil {
		items, _ := c.strList(fn, "crm.hubspot.form")
		for _, it := range items {
			if prop := strings.ToLower(strings.TrimSpace(it.val)); prop != "" && !slices.Contains(p.CRM.HubSpot.Form, prop) {
				p.CRM.HubSpot.Form = append(p.CRM.HubSpot.Form, prop)
			}
		}
	}
	mn := hk["map"]
	if mn == nil {
		return
	}
	fields := c.mapping(mn, "crm.hubspot.map", HubSpotFields)
	if len(fields) == 0 {
		return
	}
	p.CRM.HubSpot.Map = map[string]string{}
	for field, vn := range fields {
		if prop, ok := c.str(vn, "crm.hubspot.map."+field); ok {
			p.CRM.HubSpot.Map[field] = strings.ToLower(prop)
		}
	}
}

// crmSummary says, for Summary, where lead events go and which HubSpot
// properties differ from the stock ones.
func (p *Policy) crmSummary() string {
	var b strings.Builder
	if len(p.Webhooks) > 0 {
		b.WriteString("\nLead events go out as signed webhooks (Standard Webhooks), in order per lead, retried for a day:\n")
		for _, w := range p.Webhooks {
			events := "every event"
			if len(w.Events) > 0 {
				events = AndList(w.Events)
			}
			// The host only: a hook address may carry its secret in its path.
			fmt.Fprintf(&b, "- %s: %s, signed with the secret in %s.\n", w.Host(), events, w.SecretEnv)
		}
		fmt.Fprintf(&b, "A delivery still failing after a day is parked and kept %s for an operator to send again.\n",
			FormatDuration(p.CRM.ParkedRetention()))
	}
	if len(p.CRM.HubSpot.Map) > 0 {
		fields := make([]string, 0, len(p.CRM.HubSpot.Map))
		for f, prop := range p.CRM.HubSpot.Map {
			fields = append(fields, fmt.Sprintf("%s from %s", f, prop))
		}
		slices.Sort(fields)
		fmt.Fprintf(&b, "\nHubSpot hand-offs read %s; other fields use HubSpot's stock properties.\n", AndList(fields))
	}
	return b.String()
}
