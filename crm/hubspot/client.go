// Package hubspot writes what reps do in chat back to HubSpot: touches as
// calls, emails, meetings and notes on the lead's contact; acknowledgements,
// returns and breaches as notes. It talks to HubSpot's CRM API v3 (objects,
// search, owners) and v4 (default associations) with a private app token.
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

// Client calls HubSpot's API with a private app token.
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
	// RetryAfter is how long a 429 asks to wait (from its headers).
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
	if resp.StatusCode == http.StatusTooManyRequests {
		e.Daily = strings.EqualFold(b.PolicyName, "DAILY")
		e.RetryAfter = rateLimitWait(resp.Header, e.Daily)
	}
	return e
}

// rateLimitWait reads how long a 429 asks to wait: Retry-After when given,
// else the length of HubSpot's rate-limit interval
// (X-HubSpot-RateLimit-Interval-Milliseconds), else ten seconds; an hour for
// the daily limit, which resets at midnight in the portal's zone.
func rateLimitWait(h http.Header, daily bool) time.Duration {
	if s := h.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
		if t, err := http.ParseTime(s); err == nil {
			return max(time.Until(t), time.Second)
		}
	}
	if daily {
		return time.Hour
	}
	if ms, err := strconv.Atoi(h.Get("X-HubSpot-RateLimit-Interval-Milliseconds")); err == nil && ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return 10 * time.Second
}

// Object is a CRM record as HubSpot returns it.
type Object struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
}

// Create creates an object of type objectType (calls, emails, meetings,
// notes) and returns its id.
func (c *Client) Create(ctx context.Context, objectType string, properties map[string]string) (string, error) {
	var out Object
	err := c.do(ctx, http.MethodPost, "crm/v3/objects/"+url.PathEscape(objectType),
		map[string]any{"properties": properties}, &out)
	if err != nil {
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

// AssociateWithContact links an object to a contact with HubSpot's default
// association type; doing it twice is harmless.
func (c *Client) AssociateWithContact(ctx context.Context, objectType, objectID, contactID string) error {
	path := fmt.Sprintf("crm/v4/objects/%s/%s/associations/default/contacts/%s",
		url.PathEscape(objectType), url.PathEscape(objectID), url.PathEscape(contactID))
	return c.do(ctx, http.MethodPut, path, nil, nil)
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
