// Package hubspot writes what reps do in chat back to HubSpot: touches as
// calls, emails, meetings and notes on the lead's contact; acknowledgements,
// returns and breaches as notes. It talks to HubSpot's CRM API v3 (objects,
// search, owners), associating each engagement with its contact as it is
// created, with a Service Key (or a legacy private app's token).
package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultAPIURL is HubSpot's API base.
const DefaultAPIURL = "https://api.hubapi.com/"

// Client calls HubSpot's API with a Service Key or a private app token,
// both sent as a bearer token.
type Client struct {
	// BaseURL is HUBSPOT_API_URL, ending in a slash.
	BaseURL string
	Token   string
	HTTP    *http.Client
}

// APIError is an answer other than 2xx.
type APIError struct {
	Status   int
	Category string
	Message  string
	// MissingScopes are the scopes a 403 names.
	MissingScopes []string
	// RetryAfter is how long a 429, 423 or 477 asks to wait in its
	// Retry-After header (an hour for the daily limit); 0 when it does not
	// say, and the job queue's backoff applies.
	RetryAfter time.Duration
	// Daily is set when a 429 is the daily limit.
	Daily bool
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("HubSpot answered %d", e.Status)
	if e.Category != "" {
		s += " " + e.Category
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// StatusOf is the HTTP status of a HubSpot error, 0 for none (no answer).
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

type errorBody struct {
	Message    string `json:"message"`
	Category   string `json:"category"`
	PolicyName string `json:"policyName"`
	Errors     []struct {
		Context struct {
			RequiredScopes         []string `json:"requiredScopes"`
			RequiredGranularScopes []string `json:"requiredGranularScopes"`
		} `json:"context"`
	} `json:"errors"`
}

// do sends one request and decodes a 2xx answer into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("hubspot: encode the request to %s: %w", path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+"/"+path, body)
	if err != nil {
		return fmt.Errorf("hubspot: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := c.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("hubspot: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("hubspot: %s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return apiError(resp, raw)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("hubspot: %s %s: the answer is not the JSON expected: %w", method, path, err)
		}
	}
	return nil
}

func apiError(resp *http.Response, raw []byte) *APIError {
	var b errorBody
	_ = json.Unmarshal(raw, &b)
	e := &APIError{Status: resp.StatusCode, Category: b.Category, Message: b.Message}
	for _, x := range b.Errors {
		e.MissingScopes = append(e.MissingScopes, x.Context.RequiredGranularScopes...)
		if len(x.Context.RequiredGranularScopes) == 0 {
			e.MissingScopes = append(e.MissingScopes, x.Context.RequiredScopes...)
		}
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusLocked, StatusMigrationInProgress:
		// HubSpot's error handling guide: a 429 (rate limits), a 423 Locked
		// (a portal syncing much data at once) and a 477 Migration in
		// Progress (a portal moving between data centres) carry Retry-After.
		// https://developers.hubspot.com/docs/api-reference/error-handling
		e.Daily = resp.StatusCode == http.StatusTooManyRequests && strings.EqualFold(b.PolicyName, "DAILY")
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		if e.RetryAfter == 0 && e.Daily {
			// The daily limit resets at midnight in the portal's zone: an
			// hour's wait is HubSpot's own answer, not a guess at a blip.
			e.RetryAfter = time.Hour
		}
	}
	return e
}

// StatusMigrationInProgress is HubSpot's 477: the portal is being moved
// between data hosting locations; try again after Retry-After.
const StatusMigrationInProgress = 477

// Retryable reports whether HubSpot asked to be tried again later (429,
// 423, 477) or failed on its side (5xx).
func (e *APIError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusLocked ||
		e.Status == StatusMigrationInProgress || e.Status >= 500
}

// retryAfter reads Retry-After: seconds or an HTTP date; 0 when absent.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return max(time.Duration(n)*time.Second, time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), time.Second)
	}
	return 0
}

// Object is a CRM record as HubSpot returns it.
type Object struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
}

// ContactAssociationType is HubSpot's defined association type from each
// engagement type to a contact, as listed in the v4 associations guide
// (https://developers.hubspot.com/docs/api-reference/crm-associations-v4/guide,
// "Association type ID values": call 194, email 198, meeting 200, note 202).
var ContactAssociationType = map[string]int{"calls": 194, "emails": 198, "meetings": 200, "notes": 202}

// Create creates an object of type objectType (calls, emails, meetings,
// notes), associated with the contact contactID in the same request, and
// returns its id.
func (c *Client) Create(ctx context.Context, objectType string, properties map[string]string, contactID string) (string, error) {
	body := map[string]any{"properties": properties}
	if contactID != "" {
		typeID, ok := ContactAssociationType[objectType]
		if !ok {
			return "", fmt.Errorf("hubspot: no association type from %s to contacts", objectType)
		}
		body["associations"] = []any{map[string]any{
			"to":    map[string]any{"id": contactID},
			"types": []any{map[string]any{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": typeID}},
		}}
	}
	var out Object
	if err := c.do(ctx, http.MethodPost, "crm/v3/objects/"+url.PathEscape(objectType), body, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("hubspot: the created %s came back without an id", objectType)
	}
	return out.ID, nil
}

// Filter is one condition of a search.
type Filter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        string `json:"value"`
}

// Search returns the first object of objectType matching every filter,
// or nil.
func (c *Client) Search(ctx context.Context, objectType string, filters ...Filter) (*Object, error) {
	var out struct {
		Total   int      `json:"total"`
		Results []Object `json:"results"`
	}
	body := map[string]any{"filterGroups": []any{map[string]any{"filters": filters}}, "limit": 1}
	if err := c.do(ctx, http.MethodPost, "crm/v3/objects/"+url.PathEscape(objectType)+"/search", body, &out); err != nil {
		return nil, err
	}
	if len(out.Results) == 0 {
		return nil, nil
	}
	return &out.Results[0], nil
}

// ContactByEmail finds the contact with this email; "" when there is none.
func (c *Client) ContactByEmail(ctx context.Context, email string) (string, error) {
	o, err := c.Search(ctx, "contacts", Filter{PropertyName: "email", Operator: "EQ", Value: strings.ToLower(email)})
	if err != nil || o == nil {
		return "", err
	}
	return o.ID, nil
}

// OwnerEmail reads the email of a HubSpot owner (crm/v3/owners/{id}).
func (c *Client) OwnerEmail(ctx context.Context, ownerID string) (string, error) {
	var out struct {
		Email string `json:"email"`
	}
	if err := c.do(ctx, http.MethodGet, "crm/v3/owners/"+url.PathEscape(ownerID), nil, &out); err != nil {
		return "", err
	}
	return strings.ToLower(out.Email), nil
}
