package logging_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/slabot/slabot/logging"
)

func TestStringMasksEmailsAndSecrets(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"AnEmailKeepsItsDomain", "no Teams user ana.lopez+sla@example.com", "no Teams user …@example.com"},
		{"SeveralEmails", "ana@example.com, bo@corp.example.co.uk", "…@example.com, …@corp.example.co.uk"},
		{"AGraphErrorWithTheAddressInItsPath",
			`GET https://graph.microsoft.com/v1.0/users/maria@example.com?$select=id: 404`,
			`GET https://graph.microsoft.com/v1.0/users/…@example.com?$select=id: 404`},
		{"APasswordInADatabaseURL", "dial postgres://slabot:s3cr3t@db.internal:5432/slabot failed",
			"dial postgres://slabot:[redacted]@db.internal:5432/slabot failed"},
		{"AConnectionStringPassword", "host=db user=slabot password=s3cr3t dbname=slabot",
			"host=db user=slabot password=[redacted] dbname=slabot"},
		{"AQueryToken", "POST /x?access_token=abc123&x=1", "POST /x?access_token=[redacted]&x=1"},
		{"AJSONSecret", `{"client_secret":"abc123","grant_type":"client_credentials"}`,
			`{"client_secret":"[redacted]","grant_type":"client_credentials"}`},
		{"AColonSeparatedToken", "token: abc123def", "token: [redacted]"},
		{"ABearerHeader", "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln", "Authorization: Bearer [redacted]"},
		{"ABareBearerCredential", "sent Bearer 0123456789abcdef", "sent Bearer [redacted]"},
		{"SlackTokens", "tokens xoxb-123-456-abc and xapp-1-A0-99", "tokens [redacted] and [redacted]"},
		{"AJWT", "token eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl refused", "token [redacted] refused"},
		{"AWebhookSecret", "secret_env holds whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "secret_env holds [redacted]"},
		{"ATeamsChannelIdIsNoEmail", "posted in 19:0a1b2c@thread.tacv2", "posted in 19:0a1b2c@thread.tacv2"},
		{"PlainTextIsUnchanged", "waiting for the database at DATABASE_URL: attempt 3", "waiting for the database at DATABASE_URL: attempt 3"},
		{"ATimeIsNoSecret", "report at 09:00, tokens: 3 left", "report at 09:00, tokens: 3 left"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := logging.String(c.in); got != c.want {
				t.Errorf("String(%q)\n got %q\nwant %q", c.in, got, c.want)
			}
		})
	}
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

func TestHandlerRedactsAtInfoAndAbove(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(logging.Redact(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	cases := []struct {
		name   string
		log    func(*slog.Logger)
		want   []string
		unsafe []string // must not appear
	}{
		{"TheMessage", func(l *slog.Logger) { l.Info("no Teams user ana@example.com") },
			[]string{"…@example.com"}, []string{"ana@"}},
		{"AStringAttribute", func(l *slog.Logger) { l.Warn("graph failed", "user", "bo@example.com") },
			[]string{"user=…@example.com"}, []string{"bo@"}},
		{"AnError", func(l *slog.Logger) {
			l.Error("post failed", "err", fmt.Errorf("sending to %s: %w", "ana@example.com", errors.New("403")))
		}, []string{"…@example.com: 403"}, []string{"ana@"}},
		{"AStringer", func(l *slog.Logger) { l.Info("x", "who", stringer{"ana@example.com"}) },
			[]string{"who=…@example.com"}, []string{"ana@"}},
		{"AListOfStrings", func(l *slog.Logger) { l.Info("x", "reps", []string{"ana@example.com", "bo@example.com"}) },
			[]string{"…@example.com"}, []string{"ana@", "bo@"}},
		{"AnAttributeNamedAsASecretIsHiddenWhole", func(l *slog.Logger) {
			l.Info("x", "client_secret", "plain-words", "HUBSPOT_TOKEN", "pat-na1-123", "password", 1234)
		}, []string{"client_secret=[redacted]", "HUBSPOT_TOKEN=[redacted]", "password=[redacted]"}, []string{"plain-words", "pat-na1", "1234"}},
		{"AGroup", func(l *slog.Logger) { l.Info("x", slog.Group("lead", "owner", "ana@example.com", "token", "t0k")) },
			[]string{"lead.owner=…@example.com", "lead.token=[redacted]"}, []string{"ana@", "t0k"}},
		{"AttributesOfWith", func(l *slog.Logger) {
			l.With("owner", "ana@example.com").WithGroup("g").Info("x", "by", "bo@example.com")
		},
			[]string{"owner=…@example.com", "g.by=…@example.com"}, []string{"ana@", "bo@"}},
		{"AStructAMapAndAList", func(l *slog.Logger) {
			l.Info("x", "rep", struct{ Email string }{"ana@example.com"}, "by", map[string]string{"owner": "bo@example.com"},
				"all", []any{"cy@example.com", 3})
		}, []string{"rep={Email:…@example.com}", "…@example.com"}, []string{"ana@", "bo@", "cy@"}},
		{"ALogValuer", func(l *slog.Logger) { l.Info("x", "who", slog.StringValue("ana@example.com")) },
			[]string{"who=…@example.com"}, []string{"ana@"}},
		{"DebugIsUnchanged", func(l *slog.Logger) {
			l.With("owner", "ana@example.com").Debug("looking up bo@example.com", "token", "t0k")
		}, []string{"owner=ana@example.com", "looking up bo@example.com", "token=t0k"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			buf.Reset()
			c.log(logger)
			out := buf.String()
			if out == "" {
				t.Fatal("nothing was logged")
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("the log does not say %q:\n%s", w, out)
				}
			}
			for _, u := range c.unsafe {
				if strings.Contains(out, u) {
					t.Errorf("the log still says %q:\n%s", u, out)
				}
			}
		})
	}
}

func TestHandlerKeepsTheLevelOfTheHandlerItWraps(t *testing.T) {
	h := logging.Redact(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if h.Enabled(context.Background(), slog.LevelInfo) || !h.Enabled(context.Background(), slog.LevelWarn) {
		t.Error("the redacting handler does not keep the wrapped handler's level")
	}
}
