package teamsfake

import (
	"net/http"
	"strings"
	"time"
)

// Scopes the token endpoint grants.
const (
	ScopeBotFramework = "https://api.botframework.com/.default"
	ScopeGraph        = "https://graph.microsoft.com/.default"
)

type issuedToken struct {
	scope   string
	expires time.Time
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "AADSTS900144: malformed form body"))
		return
	}
	if r.PathValue("tenant") != s.opts.TenantID {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_request", "AADSTS90002: Tenant not found."))
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, oauthError("unsupported_grant_type", "AADSTS70003: grant_type must be client_credentials"))
		return
	}
	if r.PostForm.Get("client_id") != s.opts.AppID {
		writeJSON(w, http.StatusBadRequest, oauthError("unauthorized_client", "AADSTS700016: Application not found in the directory."))
		return
	}
	if r.PostForm.Get("client_secret") != s.opts.AppPassword {
		writeJSON(w, http.StatusUnauthorized, oauthError("invalid_client", "AADSTS7000215: Invalid client secret provided."))
		return
	}
	scope := r.PostForm.Get("scope")
	if scope != ScopeBotFramework && scope != ScopeGraph {
		writeJSON(w, http.StatusBadRequest, oauthError("invalid_scope", "AADSTS1002012: The provided value for scope is not valid."))
		return
	}
	s.mu.Lock()
	s.tokenCounts[scope]++
	token := "fake-" + strings.TrimSuffix(strings.TrimPrefix(scope, "https://"), "/.default") + "-" + randomHex(12)
	s.issued[token] = issuedToken{scope: scope, expires: time.Now().Add(s.opts.TokenLifetime)}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     int(s.opts.TokenLifetime / time.Second),
		"ext_expires_in": int(s.opts.TokenLifetime / time.Second),
		"access_token":   token,
	})
}

func oauthError(code, description string) map[string]any {
	return map[string]any{"error": code, "error_description": description}
}

// TokenRequests counts the tokens issued for scope.
func (s *Server) TokenRequests(scope string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenCounts[scope]
}

// bearerScope checks a request's bearer token; it returns false after
// answering 401.
func (s *Server) bearerScope(w http.ResponseWriter, r *http.Request, scope string) bool {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	tok, known := s.issued[raw]
	s.mu.Unlock()
	if !ok || !known || tok.scope != scope || time.Now().After(tok.expires) {
		writeError(w, http.StatusUnauthorized, "Unauthorized", "Authorization has been denied for this request.")
		return false
	}
	return true
}
