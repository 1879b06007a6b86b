package teams

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Defaults of the Teams variables (design.md, "Configuration").
const (
	DefaultOpenIDMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
	DefaultLoginURL          = "https://login.microsoftonline.com/"
	DefaultGraphURL          = "https://graph.microsoft.com/v1.0/"
	DefaultServiceURL        = "https://smba.trafficmanager.net/teams/"
)

// Config is what the Teams transport needs to run, read from the TEAMS_*
// environment variables (the envconfig tags name them).
type Config struct {
	// AppID is the bot's Microsoft app (client) id, a GUID.
	AppID string `envconfig:"TEAMS_APP_ID"`
	// AppPassword is the app's client secret.
	AppPassword string `envconfig:"TEAMS_APP_PASSWORD"`
	// TenantID is the Entra tenant of the single-tenant bot, a GUID.
	TenantID string `envconfig:"TEAMS_TENANT_ID"`
	// OpenIDMetadataURL points at the Bot Framework OpenID metadata whose
	// jwks_uri holds the keys of inbound tokens.
	OpenIDMetadataURL string `envconfig:"TEAMS_OPENID_METADATA_URL" default:"https://login.botframework.com/v1/.well-known/openidconfiguration"`
	// LoginURL is the token endpoint base: tokens come from
	// {LoginURL}{TenantID}/oauth2/v2.0/token.
	LoginURL string `envconfig:"TEAMS_LOGIN_URL" default:"https://login.microsoftonline.com/"`
	// GraphURL is the Microsoft Graph base.
	GraphURL string `envconfig:"TEAMS_GRAPH_URL" default:"https://graph.microsoft.com/v1.0/"`
	// ServiceURL is the connector base for people who have not written to
	// the bot yet.
	ServiceURL string `envconfig:"TEAMS_SERVICE_URL" default:"https://smba.trafficmanager.net/teams/"`
	// ServiceURLHosts are the only hosts slabot sends its connector token
	// to, and the only serviceUrl hosts it accepts activities from
	// (servicehosts.go; empty: DefaultServiceURLHosts).
	ServiceURLHosts []string `envconfig:"TEAMS_SERVICE_URL_HOSTS" default:"smba.trafficmanager.net,smba.infra.gcc.teams.microsoft.com"`
}

// WithDefaults returns c with every empty URL set to its default and its
// ids in the form Microsoft sends them: a GUID in lower case. Microsoft
// sends the app id in lower case (the token's aud, the bot's "28:{id}",
// the app catalog's externalId), so an id pasted in upper case would
// match none of them.
func (c Config) WithDefaults() Config {
	c.AppID = strings.ToLower(strings.TrimSpace(c.AppID))
	c.TenantID = strings.ToLower(strings.TrimSpace(c.TenantID))
	setDefault(&c.OpenIDMetadataURL, DefaultOpenIDMetadataURL)
	setDefault(&c.LoginURL, DefaultLoginURL)
	setDefault(&c.GraphURL, DefaultGraphURL)
	setDefault(&c.ServiceURL, DefaultServiceURL)
	c.ServiceURLHosts = normalHosts(c.ServiceURLHosts)
	return c
}

func setDefault(field *string, value string) {
	if strings.TrimSpace(*field) == "" {
		*field = value
	}
}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s is a GUID such as an Entra app or tenant id.
func IsGUID(s string) bool { return guidPattern.MatchString(s) }

// Validate names every missing or malformed variable by its environment
// name, all at once. It does not fill defaults; call WithDefaults first.
func (c Config) Validate() error {
	var problems []error
	requireGUID := func(name, value string) {
		switch {
		case strings.TrimSpace(value) == "":
			problems = append(problems, fmt.Errorf("%s is required (a GUID)", name))
		case !IsGUID(value):
			problems = append(problems, fmt.Errorf("%s must be a GUID like 00000000-0000-0000-0000-000000000000, got %q", name, value))
		}
	}
	requireGUID("TEAMS_APP_ID", c.AppID)
	if strings.TrimSpace(c.AppPassword) == "" {
		problems = append(problems, errors.New("TEAMS_APP_PASSWORD is required (the app's client secret)"))
	}
	requireGUID("TEAMS_TENANT_ID", c.TenantID)
	for _, v := range []struct{ name, value string }{
		{"TEAMS_OPENID_METADATA_URL", c.OpenIDMetadataURL},
		{"TEAMS_LOGIN_URL", c.LoginURL},
		{"TEAMS_GRAPH_URL", c.GraphURL},
		{"TEAMS_SERVICE_URL", c.ServiceURL},
	} {
		if err := checkURL(v.value); err != nil {
			problems = append(problems, fmt.Errorf("%s %w", v.name, err))
		}
	}
	problems = append(problems, checkServiceURLHosts(normalHosts(c.ServiceURLHosts), c.ServiceURL)...)
	return errors.Join(problems...)
}

func checkURL(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return errors.New("is required (an http or https URL)")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("must be an absolute http or https URL, got %q", raw)
	}
	return nil
}

// joinURL appends path to base with exactly one slash between them.
func joinURL(base, path string) string {
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(path, "/")
}
