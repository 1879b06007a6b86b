package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/slabot/slabot/crm/hubspot/hubspotfake"
)

// The demo's CRM side: an automation tool's webhook endpoint, which checks
// each signature as a Standard Webhooks receiver would, and a HubSpot
// simulator that receives what reps log in chat.

const (
	demoWebhookSecretEnv = "SLABOT_DEMO_WEBHOOK_SECRET"
	demoHubSpotToken     = "pat-demo-token"
)

type demoCRM struct {
	hooks     *httptest.Server
	hubspot   *hubspotfake.Server
	secret    string
	secretEnv string // the environment variable slabot reads the secret from
}

// startCRM starts the endpoint and the HubSpot simulator, with a contact
// for each of the demo's leads.
func (d *demo) startCRM(emails ...string) (*demoCRM, error) {
	var key [32]byte
	_, _ = rand.Read(key[:])
	c := &demoCRM{secret: "whsec_" + base64.StdEncoding.EncodeToString(key[:]), secretEnv: demoWebhookSecretEnv}
	if d.settings.webhookSecretEnv != "" {
		c.secretEnv = d.settings.webhookSecretEnv
	}
	if err := os.Setenv(c.secretEnv, c.secret); err != nil {
		return nil, err
	}
	c.hooks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		verdict := "signature verified"
		if !demoVerify(c.secret, r.Header, body) {
			verdict = "SIGNATURE DOES NOT VERIFY"
		}
		var event struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		_ = json.Unmarshal(body, &event)
		d.say("  %s receives webhook %s for %v (%s)", d.style.Bold("The automation tool"), event.Type, event.Data["external_id"], verdict)
		w.WriteHeader(http.StatusNoContent)
	}))
	c.hubspot = hubspotfake.New()
	c.hubspot.AddToken(demoHubSpotToken, hubspotfake.AllScopes...)
	for _, e := range emails {
		c.hubspot.AddContact(e, nil)
	}
	return c, nil
}

// policy is the webhooks section of the demo's policy.
func (c *demoCRM) policy() string {
	return fmt.Sprintf("webhooks:\n  - url: %s/slabot\n    events: [touch.logged, lead.returned, sla.breached]\n    secret_env: %s\n",
		c.hooks.URL, c.secretEnv)
}

func (c *demoCRM) close() {
	c.hooks.Close()
	c.hubspot.Close()
	os.Unsetenv(c.secretEnv)
}

// watchHubSpot tells the transcript of each object slabot makes in HubSpot.
func (d *demo) watchHubSpot(ctx context.Context, c *demoCRM) {
	seen := map[string]bool{}
	poll(ctx, 100*time.Millisecond, func() {
		for _, typ := range []string{"calls", "emails", "meetings", "notes"} {
			for _, o := range c.hubspot.Objects(typ) {
				if seen[o.ID] || len(o.Contacts) == 0 {
					continue
				}
				seen[o.ID] = true
				text := o.Properties["hs_call_body"] + o.Properties["hs_email_text"] + o.Properties["hs_meeting_body"] + o.Properties["hs_note_body"]
				first, _, _ := strings.Cut(text, "\n")
				d.say("  %s records %s on contact %s: %q", d.style.Bold("HubSpot"), demoObjectNames[typ], o.Contacts[0], first)
			}
		}
	})
}

var demoObjectNames = map[string]string{"calls": "a call", "emails": "an email", "meetings": "a meeting", "notes": "a note"}

// demoVerify checks a Standard Webhooks signature.
func demoVerify(secret string, h http.Header, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", h.Get("webhook-id"), h.Get("webhook-timestamp"), body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}
