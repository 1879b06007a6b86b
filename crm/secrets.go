package crm

import (
	"fmt"

	"github.com/slabot/slabot/engine"
)

// WebhookSecrets returns the lookup of an endpoint's signing key: the
// secret_env of the policy's webhook with that URL, read from the
// environment on every attempt (a rotated secret is used at once).
func WebhookSecrets(policy func() *engine.Policy) func(endpoint string) ([]byte, error) {
	return func(endpoint string) ([]byte, error) {
		if p := policy(); p != nil {
			for _, w := range p.Webhooks {
				if w.URL == endpoint {
					return engine.WebhookSecret(w.SecretEnv)
				}
			}
		}
		return nil, fmt.Errorf("no webhook of the policy has this address any more")
	}
}
