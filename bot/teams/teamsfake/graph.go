package teamsfake

import (
	"net/http"
	"strings"
	"time"
)

// graph wraps a Graph endpoint: bearer check, injected faults, call log.
func (s *Server) graph(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			s.mu.Lock()
			s.calls = append(s.calls, Call{At: time.Now(), Method: r.Method, Path: r.URL.Path, Status: rec.status})
			s.notifyLocked()
			s.mu.Unlock()
		}()
		if !s.bearerScope(rec, r, ScopeGraph) {
			return
		}
		if s.injectGraphFault(rec) != 0 {
			return
		}
		h(rec, r)
	}
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.personByGraphIDLocked(r.PathValue("user"))
	var snapshot Person
	if p != nil {
		snapshot = p.Person
	}
	s.mu.Unlock()
	if p == nil {
		writeError(w, http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+r.PathValue("user")+"' does not exist or one of its queried reference-property objects are not present.")
		return
	}
	writeJSON(w, http.StatusOK, userJSON(snapshot, r.URL.Query().Get("$select")))
}

// userJSON is a Graph user with only the $select fields (all if empty).
func userJSON(p Person, sel string) map[string]any {
	all := map[string]any{
		"id":                p.AADObjectID,
		"displayName":       p.Name,
		"mail":              p.Email,
		"userPrincipalName": p.UserPrincipalName,
		"accountEnabled":    !p.Disabled,
	}
	if sel == "" {
		return all
	}
	selected := map[string]any{}
	for _, f := range strings.Split(sel, ",") {
		if v, ok := all[strings.TrimSpace(f)]; ok {
			selected[strings.TrimSpace(f)] = v
		}
	}
	return selected
}

// listUsers answers GET users?$filter=mail eq '…', the one filter slabot
// uses.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	mail, ok := strings.CutPrefix(q.Get("$filter"), "mail eq '")
	if !ok || !strings.HasSuffix(mail, "'") {
		writeError(w, http.StatusBadRequest, "BadRequest", "teamsfake understands only $filter=mail eq '…'")
		return
	}
	mail = strings.ReplaceAll(strings.TrimSuffix(mail, "'"), "''", "'")
	value := []map[string]any{}
	s.mu.Lock()
	for _, p := range s.people {
		if strings.EqualFold(p.Email, mail) && !p.NotInDirectory {
			value = append(value, userJSON(p.Person, q.Get("$select")))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"value": value})
}

func (s *Server) listCatalogApps(w http.ResponseWriter, r *http.Request) {
	filter := r.URL.Query().Get("$filter")
	want := "externalId eq '" + s.opts.AppID + "'"
	s.mu.Lock()
	inCatalog := s.inCatalog
	s.mu.Unlock()
	if filter != want {
		writeError(w, http.StatusBadRequest, "BadRequest", "teamsfake understands only $filter="+want)
		return
	}
	value := []map[string]any{}
	if inCatalog {
		value = append(value, map[string]any{
			"id": s.catalogID, "externalId": s.opts.AppID, "displayName": "slabot", "distributionMethod": "organization",
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": value})
}

// SetInCatalog publishes the app in (or removes it from) the org catalog.
func (s *Server) SetInCatalog(published bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inCatalog = published
}

func (s *Server) installApp(w http.ResponseWriter, r *http.Request) {
	var body map[string]string
	if !decodeBody(w, r, &body) {
		return
	}
	want := s.GraphURL() + "appCatalogs/teamsApps/" + s.catalogID
	if body["teamsApp@odata.bind"] != want {
		writeError(w, http.StatusBadRequest, "BadRequest", "teamsApp@odata.bind must be "+want)
		return
	}
	s.mu.Lock()
	p := s.personByGraphIDLocked(r.PathValue("user"))
	switch {
	case p == nil:
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "NotFound", "user not found")
		return
	case p.InstallBlocked:
		s.mu.Unlock()
		writeError(w, http.StatusForbidden, "Forbidden", "The app is blocked by the app setup policy.")
		return
	case p.Installed:
		s.mu.Unlock()
		writeError(w, http.StatusConflict, "Conflict", "App is already installed.")
		return
	}
	p.Installed = true
	email := p.Email
	s.personalConversationLocked(p)
	s.notifyLocked()
	s.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
	// Teams tells the bot about the install, as it does for a person.
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		_ = s.announceInstall(email, "add")
	}()
}
