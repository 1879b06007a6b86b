// Package crm closes the loop with the CRM: it takes the lead events the
// engine publishes (engine.CRMEventArgs jobs, queued in the transaction of
// each change) and fans each one out, in order per lead, to the outbound
// webhooks of the policy (crm/webhook) and to HubSpot (crm/hubspot).
package crm
