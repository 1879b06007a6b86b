// Package logging keeps personal data and secrets out of slabot's log at
// the levels an operator ships to a log store. Redact wraps a slog.Handler:
// at info and above it masks email addresses and obvious secrets (tokens,
// passwords, keys, bearer credentials, passwords inside URLs) in the
// message and in every attribute; debug records pass unchanged, for a
// person who turned debug on to chase one problem.
package logging

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// Redacted stands for a secret that was removed.
const Redacted = "[redacted]"

// Redact returns a handler that writes through next, redacting records at
// slog.LevelInfo and above.
func Redact(next slog.Handler) slog.Handler {
	return &handler{plain: next, masked: next}
}

// handler keeps two views of the wrapped handler: plain, with attributes
// (logger.With) as given, for debug records, and masked, with the same
// attributes redacted, for the rest. A logger.With runs before anyone
// knows the level of the records that will carry its attributes.
type handler struct {
	plain, masked slog.Handler
}

func (h *handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.plain.Enabled(ctx, level)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo {
		return h.plain.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, String(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(Attr(a))
		return true
	})
	return h.masked.Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = Attr(a)
	}
	return &handler{plain: h.plain.WithAttrs(attrs), masked: h.masked.WithAttrs(masked)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{plain: h.plain.WithGroup(name), masked: h.masked.WithGroup(name)}
}

// secretKey matches attribute keys whose values are secrets whatever they
// look like.
var secretKey = regexp.MustCompile(`(?i)(^|[_.-])(password|passwd|pwd|secret|token|api_?key|apikey|authorization|cookie|credentials?|signature)$`)

// Attr returns a with its value redacted: a secret's key hides the whole
// value; strings, errors and Stringers are masked (an error or a Stringer
// becomes its masked text); groups are redacted attribute by attribute.
func Attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if secretKey.MatchString(a.Key) && v.Kind() != slog.KindGroup {
		if v.Kind() == slog.KindString && v.String() == "" {
			return slog.String(a.Key, "")
		}
		return slog.String(a.Key, Redacted)
	}
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, String(v.String()))
	case slog.KindGroup:
		group := v.Group()
		masked := make([]slog.Attr, len(group))
		for i, g := range group {
			masked[i] = Attr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(masked...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, String(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, String(x.String()))
		case []string:
			masked := make([]string, len(x))
			for i, s := range x {
				masked[i] = String(s)
			}
			return slog.Any(a.Key, masked)
		case nil:
			return slog.Attr{Key: a.Key, Value: v}
		default:
			// A struct, map or slice: the handler would print it with
			// fmt, so mask that text.
			return slog.String(a.Key, String(fmt.Sprintf("%+v", x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

var (
	// A password in a URL's user info: scheme://user:password@host.
	urlPassword = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*):[^/\s@]+@`)
	// key=value and key: value pairs whose key names a secret (a
	// connection string's password=…, a query's access_token=…, JSON's
	// "client_secret":"…").
	secretPair = regexp.MustCompile(`(?i)\b([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api_?key|apikey|signature)"?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;"')}\]]+)`)
	// An Authorization header's credentials.
	bearer = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}`)
	// Credentials with a recognisable shape: Slack tokens, JWTs (a
	// Microsoft access token, a Bot Framework token), Standard Webhooks
	// secrets.
	shapedSecret = regexp.MustCompile(`\b(?:xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*|whsec_[A-Za-z0-9+/=]+)`)
	// An email address. Its domain stays: which company, tenant or
	// portal a problem concerns is no one's personal data, and it helps.
	email = regexp.MustCompile(`[A-Za-z0-9._%+'-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z][A-Za-z0-9]+)`)
)

// String returns s with email addresses and obvious secrets masked. An
// address keeps its domain ("…@example.com").
func String(s string) string {
	if !strings.ContainsAny(s, "@=:") && !strings.Contains(s, "xox") && !strings.Contains(s, "xapp-") &&
		!strings.Contains(s, "eyJ") && !strings.Contains(s, "whsec_") && !containsFold(s, "bearer") && !containsFold(s, "basic") {
		return s
	}
	s = urlPassword.ReplaceAllString(s, "${1}:"+Redacted+"@")
	s = secretPair.ReplaceAllStringFunc(s, func(pair string) string {
		m := secretPair.FindStringSubmatch(pair)
		if q := m[2][:1]; q == `"` || q == "'" {
			return m[1] + q + Redacted + q
		}
		return m[1] + Redacted
	})
	s = bearer.ReplaceAllString(s, "${1} "+Redacted)
	s = shapedSecret.ReplaceAllString(s, Redacted)
	s = email.ReplaceAllStringFunc(s, func(addr string) string {
		_, domain, _ := strings.Cut(addr, "@")
		if teamsConversationDomains[strings.ToLower(domain)] {
			return addr
		}
		return "…@" + domain
	})
	return s
}

// teamsConversationDomains end Teams conversation ids, which look like
// addresses but name a channel or a chat, not a person
// ("19:…@thread.tacv2").
var teamsConversationDomains = map[string]bool{
	"thread.tacv2": true, "thread.skype": true, "thread.v2": true, "unq.gbl.spaces": true,
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), sub)
}
