package teams

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

// TestCallJSON drives the one HTTP call of the Connector and Graph clients
// against a server that records what it got and answers as told.
func TestCallJSON(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	type request struct {
		method, path, auth, accept, contentType, body string
	}
	tests := []struct {
		name   string
		call   apiCall
		status int
		header http.Header
		answer string
		want   request
		// check judges the error and what was decoded.
		check func(t *testing.T, err error, out map[string]any)
	}{
		{"a body goes out as JSON and the answer is decoded",
			apiCall{method: http.MethodPost, token: "tok", name: "v3/conversations", body: map[string]string{"text": "hi"}},
			http.StatusCreated, nil, `{"id":"a1"}`,
			request{http.MethodPost, "/v3/conversations", "Bearer tok", "application/json", "application/json; charset=utf-8", `{"text":"hi"}`},
			func(t *testing.T, err error, out map[string]any) {
				if err != nil || out["id"] != "a1" {
					t.Errorf("got %v, %v; want the answer's id", out, err)
				}
			}},
		{"no body, no content type",
			apiCall{method: http.MethodGet, token: "tok", name: "graph users/{id}"},
			http.StatusOK, nil, `{}`,
			request{http.MethodGet, "/v3/conversations", "Bearer tok", "application/json", "", ""},
			func(t *testing.T, err error, _ map[string]any) {
				if err != nil {
					t.Error(err)
				}
			}},
		{"a 404 is what the call says it means",
			apiCall{method: http.MethodGet, token: "tok", name: "graph users/{id}", notFound: ErrUnknownPerson},
			http.StatusNotFound, nil, `{"error":{"code":"Request_ResourceNotFound"}}`,
			request{http.MethodGet, "/v3/conversations", "Bearer tok", "application/json", "", ""},
			func(t *testing.T, err error, _ map[string]any) {
				if !errors.Is(err, ErrUnknownPerson) || strings.Contains(err.Error(), "@") {
					t.Errorf("got %v, want ErrUnknownPerson named without the person", err)
				}
			}},
		{"a connector's 403 reads its code",
			apiCall{method: http.MethodPost, token: "tok", name: "v3/conversations", body: struct{}{}, connector: true},
			http.StatusForbidden, nil, `{"error":{"code":"` + CodeConversationBlockedByUser + `"}}`,
			request{http.MethodPost, "/v3/conversations", "Bearer tok", "application/json", "application/json; charset=utf-8", `{}`},
			func(t *testing.T, err error, _ map[string]any) {
				if !errors.Is(err, ErrBlocked) {
					t.Errorf("got %v, want ErrBlocked", err)
				}
			}},
		{"a 429 waits as long as it is told",
			apiCall{method: http.MethodGet, token: "tok", name: "v3/teams/x/conversations"},
			http.StatusTooManyRequests, http.Header{"Retry-After": {"7"}}, ``,
			request{http.MethodGet, "/v3/conversations", "Bearer tok", "application/json", "", ""},
			func(t *testing.T, err error, _ map[string]any) {
				var retry *engine.RetryError
				if !errors.As(err, &retry) || retry.After != 7*time.Second {
					t.Errorf("got %v, want a retry in 7s", err)
				}
			}},
		{"an answer that is not JSON says which call it was",
			apiCall{method: http.MethodGet, token: "tok", name: "v3/teams/x/conversations"},
			http.StatusOK, nil, `<html>`,
			request{http.MethodGet, "/v3/conversations", "Bearer tok", "application/json", "", ""},
			func(t *testing.T, err error, _ map[string]any) {
				if err == nil || !strings.Contains(err.Error(), "GET v3/teams/x/conversations") {
					t.Errorf("got %v, want a decoding error naming the call", err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got request
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				got = request{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Accept"), r.Header.Get("Content-Type"), string(body)}
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.answer)
			}))
			defer srv.Close()
			call := tt.call
			call.url = srv.URL + "/v3/conversations"
			var out map[string]any
			err := callJSON(context.Background(), srv.Client(), call, &out, func() time.Time { return now })
			if got != tt.want {
				t.Errorf("the server got %+v, want %+v", got, tt.want)
			}
			tt.check(t, err, out)
		})
	}
}

// TestCallJSONDropsAnAnswerNobodyReads: without a destination, a 2xx answer
// is read and dropped, not decoded.
func TestCallJSONDropsAnAnswerNobodyReads(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "not json at all")
	}))
	defer srv.Close()
	err := callJSON(context.Background(), srv.Client(), apiCall{method: http.MethodPut, url: srv.URL, token: "t", name: "x"}, nil, time.Now)
	if err != nil {
		t.Errorf("a PUT whose answer nobody reads failed: %v", err)
	}
}
