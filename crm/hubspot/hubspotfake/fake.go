// Package hubspotfake is a HubSpot-compatible API server for tests: the
// endpoints slabot calls (objects create with inline associations, search,
// v4 default associations, owners), bearer tokens (Service Keys or private
// app tokens) with scopes of their own, and injected failures: 429s with
// HubSpot's headers, 423 Locked and 477 Migration in Progress with
// Retry-After, creates whose answer is lost after the object was made, and
// a search index that finds new objects only after a few searches.
package hubspotfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
)

// Scopes a Service Key (or a private app) is granted.
const (
	ScopeContactsRead  = "crm.objects.contacts.read"
	ScopeContactsWrite = "crm.objects.contacts.write"
	ScopeOwnersRead    = "crm.objects.owners.read"
	// ScopeSalesEmailRead lets a key read email engagements' content;
	// without it HubSpot redacts them, and a search on their text finds
	// nothing (developers.hubspot.com/changelog/announcement-new-scope-
	// required-to-get-the-content-of-email-engagements).
	ScopeSalesEmailRead = "sales-email-read"
)

// AllScopes are what slabot needs.
var AllScopes = []string{ScopeContactsRead, ScopeContactsWrite, ScopeOwnersRead, ScopeSalesEmailRead}

// contactAssociationTypes are HubSpot's defined association types from an
// engagement to a contact (v4 associations guide: call 194, email 198,
// meeting 200, note 202). A create naming another type is refused.
var contactAssociationTypes = map[string]int{"calls": 194, "emails": 198, "meetings": 200, "notes": 202}

// failure is an injected answer.
type failure struct {
	status     int
	retryAfter string
}

// Object is a stored record.
type Object struct {
	ID         string
	Type       string
	Properties map[string]string
	// Contacts are the ids of the contacts it is associated with.
	Contacts []string
}

// Request is one call the fake answered.
type Request struct {
	Method, Path string
	Status       int
}

// Server is the fake.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	tokens   map[string][]string
	objects  map[string][]*Object
	owners   map[string]string
	nextID   int
	requests []Request
	tooMany  int
	lose     int
	failures []failure
	// hideFor is how many searches a new object stays out of.
	hideFor int
	hidden  map[*Object]int
}

// New starts a fake; close it with Close.
func New() *Server {
	s := &Server{tokens: map[string][]string{}, objects: map[string][]*Object{}, owners: map[string]string{}, nextID: 1000,
		hidden: map[*Object]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base URL to give slabot (HUBSPOT_API_URL), with its slash.
func (s *Server) APIURL() string { return s.Server.URL + "/" }

// AddToken lets token in with scopes.
func (s *Server) AddToken(token string, scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = scopes
}

// AddContact stores a contact and returns its id.
func (s *Server) AddContact(email string, props map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := map[string]string{"email": strings.ToLower(email)}
	for k, v := range props {
		p[k] = v
	}
	return s.add("contacts", p).ID
}

// AddOwner stores an owner.
func (s *Server) AddOwner(id, email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owners[id] = email
}

// FailNext makes the next n requests answer 429 (secondly limit).
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tooMany = n
}

// FailNextWith makes the next n requests answer status (423 Locked, 477
// Migration in Progress, 429, 502…) with Retry-After set to retryAfter
// when it is not empty, as HubSpot's error handling guide describes
// (developers.hubspot.com/docs/api-reference/error-handling).
func (s *Server) FailNextWith(n, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, failure{status: status, retryAfter: retryAfter})
	}
}

// LagSearches makes every object created from now on invisible to the
// next n searches of its type, as HubSpot's search index trails its
// writes.
func (s *Server) LagSearches(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hideFor = n
}

// LoseNextCreates makes the next n creates make their object and then
// drop the connection without an answer.
func (s *Server) LoseNextCreates(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lose = n
}

// Objects lists the stored objects of a type.
func (s *Server) Objects(objectType string) []Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Object
	for _, o := range s.objects[objectType] {
		c := *o
		c.Contacts = slices.Clone(o.Contacts)
		out = append(out, c)
	}
	return out
}

// Requests lists the calls answered.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) add(objectType string, props map[string]string) *Object {
	s.nextID++
	o := &Object{ID: fmt.Sprint(s.nextID), Type: objectType, Properties: props}
	o.Properties["hs_object_id"] = o.ID
	s.objects[objectType] = append(s.objects[objectType], o)
	return o
}

func (s *Server) find(objectType, id string) *Object {
	for _, o := range s.objects[objectType] {
		if o.ID == id {
			return o
		}
	}
	return nil
}

var engagementTypes = []string{"calls", "emails", "meetings", "notes"}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := Request{Method: r.Method, Path: r.URL.Path}
	answer := func(status int, body any) {
		rec.Status = status
		s.requests = append(s.requests, rec)
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(status)
		if body != nil {
			_ = json.NewEncoder(w).Encode(body)
		}
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	scopes, known := s.tokens[token]
	if !ok || !known {
		answer(401, map[string]any{"status": "error", "category": "INVALID_AUTHENTICATION",
			"message": "Authentication credentials not found."})
		return
	}
	if len(s.failures) > 0 {
		f := s.failures[0]
		s.failures = s.failures[1:]
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		msg := map[int]string{423: "The resource is locked while a large amount of data syncs; try again later.",
			477: "The account is being migrated between data centers; try again later."}[f.status]
		answer(f.status, map[string]any{"status": "error", "message": msg})
		return
	}
	if s.tooMany > 0 {
		s.tooMany--
		w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "100")
		w.Header().Set("X-HubSpot-RateLimit-Max", "100")
		w.Header().Set("X-HubSpot-RateLimit-Remaining", "0")
		answer(429, map[string]any{"status": "error", "message": "You have reached your secondly limit.",
			"errorType": "RATE_LIMIT", "policyName": "SECONDLY"})
		return
	}
	need := func(scope string) bool {
		if slices.Contains(scopes, scope) {
			return true
		}
		answer(403, map[string]any{"status": "error", "category": "MISSING_SCOPES",
			"message": "This app hasn't been granted all required scopes to make this call.",
			"errors": []any{map[string]any{"message": "One or more of the following scopes are required.",
				"context": map[string]any{"requiredGranularScopes": []string{scope}}}}})
		return false
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "crm" && parts[1] == "v3" && parts[2] == "owners":
		if !need(ScopeOwnersRead) {
			return
		}
		email, ok := s.owners[parts[3]]
		if !ok {
			answer(404, map[string]any{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Owner not found"})
			return
		}
		answer(200, map[string]any{"id": parts[3], "email": email, "type": "PERSON"})
	case r.Method == http.MethodPost && len(parts) == 5 && parts[:3][2] == "objects" && parts[4] == "search":
		if !need(ScopeContactsRead) {
			return
		}
		var q struct {
			FilterGroups []struct {
				Filters []struct{ PropertyName, Operator, Value string } `json:"filters"`
			} `json:"filterGroups"`
		}
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
			answer(400, map[string]any{"status": "error", "category": "VALIDATION_ERROR", "message": err.Error()})
			return
		}
		var results []any
		seesEmails := slices.Contains(scopes, ScopeSalesEmailRead)
		for _, o := range s.objects[parts[3]] {
			if n := s.hidden[o]; n > 0 {
				s.hidden[o] = n - 1
				continue
			}
			for _, g := range q.FilterGroups {
				match := true
				for _, f := range g.Filters {
					v := o.Properties[f.PropertyName]
					if parts[3] == "emails" && !seesEmails && f.PropertyName != "hs_object_id" {
						v = "" // redacted without sales-email-read
					}
					switch f.Operator {
					case "EQ":
						match = match && strings.EqualFold(v, f.Value)
					case "CONTAINS_TOKEN":
						match = match && slices.ContainsFunc(strings.FieldsFunc(v, notTokenRune), func(t string) bool {
							return strings.EqualFold(t, f.Value)
						})
					default:
						match = false
					}
				}
				if match {
					results = append(results, map[string]any{"id": o.ID, "properties": o.Properties})
					break
				}
			}
		}
		answer(200, map[string]any{"total": len(results), "results": results})
	case r.Method == http.MethodPost && len(parts) == 4 && parts[2] == "objects" && slices.Contains(engagementTypes, parts[3]):
		if !need(ScopeContactsWrite) {
			return
		}
		var in struct {
			Properties   map[string]string `json:"properties"`
			Associations []struct {
				To struct {
					ID string `json:"id"`
				} `json:"to"`
				Types []struct {
					AssociationCategory string `json:"associationCategory"`
					AssociationTypeID   int    `json:"associationTypeId"`
				} `json:"types"`
			} `json:"associations"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Properties["hs_timestamp"] == "" {
			answer(400, map[string]any{"status": "error", "category": "VALIDATION_ERROR",
				"message": "Property values were not valid: hs_timestamp is required"})
			return
		}
		var contacts []string
		for _, a := range in.Associations {
			c := s.find("contacts", a.To.ID)
			ok := c != nil && len(a.Types) == 1 && a.Types[0].AssociationCategory == "HUBSPOT_DEFINED" &&
				a.Types[0].AssociationTypeID == contactAssociationTypes[parts[3]]
			if !ok {
				answer(400, map[string]any{"status": "error", "category": "VALIDATION_ERROR",
					"message": fmt.Sprintf("invalid association to %q with types %+v", a.To.ID, a.Types)})
				return
			}
			contacts = append(contacts, c.ID)
		}
		o := s.add(parts[3], in.Properties)
		o.Contacts = contacts
		if s.hideFor > 0 {
			s.hidden[o] = s.hideFor
		}
		if s.lose > 0 {
			s.lose--
			rec.Status = -1
			s.requests = append(s.requests, rec)
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		answer(201, map[string]any{"id": o.ID, "properties": o.Properties})
	case r.Method == http.MethodPut && len(parts) == 9 && parts[1] == "v4" && parts[6] == "default" && parts[7] == "contacts":
		if !need(ScopeContactsWrite) {
			return
		}
		o, c := s.find(parts[3], parts[4]), s.find("contacts", parts[8])
		if o == nil || c == nil {
			answer(404, map[string]any{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "no such record"})
			return
		}
		if !slices.Contains(o.Contacts, c.ID) {
			o.Contacts = append(o.Contacts, c.ID)
		}
		answer(200, map[string]any{"status": "COMPLETE"})
	default:
		answer(404, map[string]any{"status": "error", "message": "the fake does not serve " + r.Method + " " + r.URL.Path})
	}
}

func notTokenRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}
