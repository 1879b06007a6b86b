package teams

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSigningKeysAreFetchedOverHTTPSOnly: metadata that points its
// jwks_uri at plain http off this machine is refused before any key is
// fetched from there.
func TestSigningKeysAreFetchedOverHTTPSOnly(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, jwksURI, want string
	}{
		{"PlainHTTPElsewhere", "http://keys.example.com/keys", "not an https URL"},
		{"NoScheme", "keys.example.com/keys", "not an https URL"},
		{"Loopback", "", "jwks: "}, // the test server's own http URL: fetched (and it answers 404)
	} {
		t.Run(c.name, func(t *testing.T) {
			var keyFetches int
			srv := httptest.NewServer(nil)
			defer srv.Close()
			srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/metadata" {
					uri := c.jwksURI
					if uri == "" {
						uri = srv.URL + "/keys"
					}
					_, _ = w.Write([]byte(`{"jwks_uri": "` + uri + `"}`))
					return
				}
				keyFetches++
				http.NotFound(w, r)
			})
			s := &keySet{metadataURL: srv.URL + "/metadata", client: srv.Client(), now: time.Now}
			_, err := s.fetch(context.Background())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("fetch: %v; want an error saying %q", err, c.want)
			}
			if wantFetches := map[bool]int{true: 1, false: 0}[c.jwksURI == ""]; keyFetches != wantFetches {
				t.Errorf("%d key fetches, want %d", keyFetches, wantFetches)
			}
		})
	}
}
