// Package webhook sends slabot's lead events to the endpoints of the
// policy's webhooks, signed per the Standard Webhooks specification
// (https://www.standardwebhooks.com), durably and in order per lead.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
)

// Sign returns the webhook-signature header of one attempt: "v1," and the
// base64 HMAC-SHA256, keyed by key (the decoded part of the secret after
// whsec_), of "{msgID}.{timestamp}.{body}".
func Sign(key []byte, msgID string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
