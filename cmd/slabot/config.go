package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kelseyhightower/envconfig"

	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/engine"
)

// Config is every setting slabot reads from its environment.
type Config struct {
	DatabaseURL   string `envconfig:"DATABASE_URL"`
	SlackBotToken string `envconfig:"SLACK_BOT_TOKEN"`
	SlackAppToken string `envconfig:"SLACK_APP_TOKEN"`
	SlackAPIURL   string `envconfig:"SLACK_API_URL" default:"https://slack.com/api/"`
	PolicyFile    string `envconfig:"SLABOT_POLICY_FILE" default:"slabot.yaml"`
	HTTPAddr      string `envconfig:"SLABOT_HTTP_ADDR" default:":8080"`
	MetricsAddr   string `envconfig:"SLABOT_METRICS_ADDR" default:"127.0.0.1:9090"`
	IntakeToken   string `envconfig:"SLABOT_INTAKE_TOKEN"`
	LogLevel      string `envconfig:"SLABOT_LOG_LEVEL" default:"info"`
	Chat          string `envconfig:"SLABOT_CHAT" default:"slack"`
	// The CRM loop (cmd/slabot/crm.go).
	HubSpotToken        string `envconfig:"HUBSPOT_TOKEN"`
	HubSpotAPIURL       string `envconfig:"HUBSPOT_API_URL" default:"https://api.hubapi.com/"`
	HubSpotClientSecret string `envconfig:"HUBSPOT_CLIENT_SECRET"`
	HubSpotScoreProp    string `envconfig:"HUBSPOT_SCORE_PROPERTY"`
	// Teams holds the TEAMS_* variables, read when SLABOT_CHAT=teams.
	Teams teams.Config `ignored:"true"`
	// teamsPace, when set, spaces the messages of each Teams conversation
	// instead of Teams' limits: a test's (no environment variable sets it).
	teamsPace time.Duration
}

// setting documents one environment variable for `slabot help` and for the
// messages that say what is missing.
type setting struct {
	Name, Default, Meaning, WhereToGetIt string
}

var settings = []setting{
	{"DATABASE_URL", "none (make run and make demo start a throwaway local server)",
		"PostgreSQL URL, e.g. postgres://slabot:secret@db:5432/slabot",
		"create a database and a user for slabot on your PostgreSQL server (version 13 or newer)"},
	{"SLACK_BOT_TOKEN", "required for run", "the bot token, xoxb-…",
		"Slack app settings → OAuth & Permissions → Bot User OAuth Token (install the app to your workspace first)"},
	{"SLACK_APP_TOKEN", "required for run", "the app-level token, xapp-…, with the connections:write scope",
		"Slack app settings → Basic Information → App-Level Tokens → Generate Token and Scopes, scope connections:write"},
	{"SLACK_API_URL", "https://slack.com/api/", "Slack Web API base URL (GovSlack, a proxy, or a test server); https, or http on loopback only", ""},
	{"SLABOT_POLICY_FILE", "slabot.yaml", "path of the SLA policy YAML (check it with `slabot policy check FILE`)", ""},
	{"SLABOT_HTTP_ADDR", ":8080", "listen address for the intake API, /healthz and /readyz (the public side)", ""},
	{"SLABOT_METRICS_ADDR", "127.0.0.1:9090", "listen address for /metrics, kept off the public intake address; the default answers only on this machine: set :9090 for a scraper on another host (as the Kubernetes example does) and keep the port off the internet", ""},
	{"SLABOT_INTAKE_TOKEN", "required for run", "shared secret CRMs send as `Authorization: Bearer …` to the intake API: at least 32 random characters",
		"make one up, long and random, e.g. `openssl rand -hex 32`, and give it to your CRM's webhook"},
	{"SLABOT_LOG_LEVEL", "info", "debug, info, warn or error", ""},
	{"HUBSPOT_TOKEN", "none", "HubSpot Service Key (or an existing private app's access token, which keeps working); when set, what reps do in chat is written back to HubSpot and hubspot_owner_id is read as the owner's email",
		"HubSpot → Settings → Integrations → Service Keys → Create (scopes crm.objects.contacts.read, crm.objects.contacts.write, crm.objects.owners.read, sales-email-read) → copy the key"},
	{"HUBSPOT_API_URL", "https://api.hubapi.com/", "HubSpot API base URL (a proxy, or a test server); https, or http on loopback only", ""},
	{"HUBSPOT_CLIENT_SECRET", "none", "the client secret of the HubSpot app whose workflows call POST /v1/hubspot/handoffs; when set, HubSpot's request signature (v3, or v2 as workflows also send) is accepted there in place of the bearer token",
		"HubSpot → the app's Auth tab → Client secret"},
	{"HUBSPOT_SCORE_PROPERTY", "none", "the HubSpot contact property read as the lead's score on POST /v1/hubspot/handoffs (the internal name of a score made with HubSpot's lead scoring tool); none reads no score, as HubSpot's old hubspotscore stopped updating in August 2025",
		"HubSpot → Settings → Properties → your score → the internal name under its label"},
	{"SLABOT_CHAT", "slack", "the chat platform this deployment serves: slack or teams", ""},
	{"TEAMS_APP_ID", "required when SLABOT_CHAT=teams", "the bot's Microsoft app (client) id, a GUID; also the Teams app package's id",
		"Azure portal → Azure Bot (or Entra ID → App registrations) → Microsoft App ID"},
	{"TEAMS_APP_PASSWORD", "required when SLABOT_CHAT=teams", "the app's client secret",
		"Entra ID → App registrations → slabot → Certificates & secrets → New client secret (copy its Value)"},
	{"TEAMS_TENANT_ID", "required when SLABOT_CHAT=teams", "your Entra tenant id, a GUID (slabot is a single-tenant bot)",
		"Entra ID → Overview → Tenant ID"},
	{"TEAMS_OPENID_METADATA_URL", teams.DefaultOpenIDMetadataURL, "Bot Framework OpenID metadata, whose keys sign what Teams sends", ""},
	{"TEAMS_LOGIN_URL", teams.DefaultLoginURL, "token endpoint base: tokens come from {this}{TEAMS_TENANT_ID}/oauth2/v2.0/token", ""},
	{"TEAMS_GRAPH_URL", teams.DefaultGraphURL, "Microsoft Graph base", ""},
	{"TEAMS_SERVICE_URL", teams.DefaultServiceURL, "Teams connector base for people who have not written to slabot yet", ""},
	{"TEAMS_SERVICE_URL_HOSTS", strings.Join(teams.DefaultServiceURLHosts, ","), "the only Teams connector hosts (comma-separated) slabot sends its token to and accepts an activity's serviceUrl on", ""},
}

// loadConfig reads the environment.
func loadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, fmt.Errorf("reading settings: %w", err)
	}
	if err := envconfig.Process("", &c.Teams); err != nil {
		return c, fmt.Errorf("reading the Teams settings: %w", err)
	}
	// A token pasted with a newline or spaces around it is the same token.
	c.IntakeToken = strings.TrimSpace(c.IntakeToken)
	if c.SlackAPIURL != "" && !strings.HasSuffix(c.SlackAPIURL, "/") {
		// slack-go joins method names onto the base URL as is.
		c.SlackAPIURL += "/"
	}
	return c, nil
}

// problemsForRun lists every setting that keeps `slabot run` from starting,
// each with what to do about it.
func (c Config) problemsForRun() []string {
	var problems []string
	if c.DatabaseURL == "" {
		problems = append(problems, missingSetting("DATABASE_URL"))
	}
	problems = append(problems, c.chatProblems(true)...)
	if c.IntakeToken == "" {
		problems = append(problems, missingSetting("SLABOT_INTAKE_TOKEN"))
	} else if p := intakeTokenProblem(c.IntakeToken); p != "" {
		problems = append(problems, p)
	}
	if c.HubSpotAPIURL != "" {
		if p := secureURLProblem("HUBSPOT_API_URL", c.HubSpotAPIURL); p != "" {
			problems = append(problems, p)
		}
	}
	if _, err := parseLogLevel(c.LogLevel); err != nil {
		problems = append(problems, err.Error())
	}
	return problems
}

// chatProblems lists what keeps slabot from talking to the platform
// SLABOT_CHAT names, asking only for that platform's settings. listen is
// false for a command that only posts (`slabot report`): Slack's app-level
// token opens Socket Mode, which posting does not need.
func (c Config) chatProblems(listen bool) []string {
	var problems []string
	switch strings.ToLower(c.Chat) {
	case engine.PlatformSlack:
		if c.SlackBotToken == "" {
			problems = append(problems, missingSetting("SLACK_BOT_TOKEN"))
		} else if !strings.HasPrefix(c.SlackBotToken, "xoxb-") {
			problems = append(problems, "SLACK_BOT_TOKEN does not start with xoxb-: use the Bot User OAuth Token, not a user or app token.")
		}
		if listen {
			if c.SlackAppToken == "" {
				problems = append(problems, missingSetting("SLACK_APP_TOKEN"))
			} else if !strings.HasPrefix(c.SlackAppToken, "xapp-") {
				problems = append(problems, "SLACK_APP_TOKEN does not start with xapp-: use an App-Level Token (Basic Information → App-Level Tokens).")
			}
		}
		if p := secureURLProblem("SLACK_API_URL", c.SlackAPIURL); p != "" {
			problems = append(problems, p)
		}
	case engine.PlatformTeams:
		t := c.Teams.WithDefaults()
		if err := t.Validate(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				problems = append(problems, line+teamsWhere(line))
			}
		}
		// Validate has said so when one is not a URL at all. Every one
		// of them gets a Microsoft token or serves the keys that tokens
		// are checked with.
		for _, u := range []struct{ name, value string }{
			{"TEAMS_OPENID_METADATA_URL", t.OpenIDMetadataURL},
			{"TEAMS_LOGIN_URL", t.LoginURL},
			{"TEAMS_GRAPH_URL", t.GraphURL},
			{"TEAMS_SERVICE_URL", t.ServiceURL},
		} {
			if p := plainHTTPProblem(u.name, u.value); p != "" {
				problems = append(problems, p)
			}
		}
	default:
		problems = append(problems, fmt.Sprintf("SLABOT_CHAT %q is not a chat platform slabot serves: use slack or teams.", c.Chat))
	}
	return problems
}

// missingSetting says that a required setting is not set, what it is and
// where to get it.
func missingSetting(name string) string {
	for _, s := range settings {
		if s.Name == name {
			return fmt.Sprintf("%s is not set: %s. Where to get it: %s.", name, s.Meaning, s.WhereToGetIt)
		}
	}
	return name + " is not set."
}

// minIntakeTokenLength is the shortest SLABOT_INTAKE_TOKEN slabot accepts:
// 32 characters, the length of 16 random bytes in hex (128 bits), so the
// token cannot be guessed however many requests an attacker sends.
const minIntakeTokenLength = 32

// sampleIntakeTokens are the values the project's own examples show; a
// deployment that kept one would accept anyone who read them.
var sampleIntakeTokens = []string{
	"CHANGE-ME-to-the-output-of-openssl-rand-hex-32", // manifests/kubernetes/secret.yaml
	"CHANGE-ME-long-random-string",                   // its earlier wording
}

// intakeTokenProblem says why token, already trimmed, is too weak to guard
// the intake API, or "" when it will do. It never repeats the token.
func intakeTokenProblem(token string) string {
	const what = " Make one with `openssl rand -hex 32` and give the same value to your CRM's webhook."
	for _, sample := range sampleIntakeTokens {
		if strings.EqualFold(token, sample) {
			return "SLABOT_INTAKE_TOKEN is the example value from the documentation, which anyone can read." + what
		}
	}
	if strings.Contains(strings.ToLower(token), "change-me") {
		return "SLABOT_INTAKE_TOKEN still says CHANGE-ME: put a secret of your own in its place." + what
	}
	if n := utf8.RuneCountInString(token); n < minIntakeTokenLength {
		return fmt.Sprintf("SLABOT_INTAKE_TOKEN is %d characters long; it must have at least %d, random.%s", n, minIntakeTokenLength, what)
	}
	if first, _ := utf8.DecodeRuneInString(token); strings.Count(token, string(first)) == utf8.RuneCountInString(token) {
		return "SLABOT_INTAKE_TOKEN is one character repeated; it must be random." + what
	}
	return ""
}

// secureURLProblem refuses a URL slabot would send a token or trust a
// signing key from unless it is https: over plain http anyone on the path
// could read the token or swap the keys. Loopback addresses (127.0.0.1,
// ::1, localhost) may use http, for tests and a sidecar proxy on the same
// machine.
func secureURLProblem(name, raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (!strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https")) {
		return fmt.Sprintf("%s %q is not an absolute https URL: leave it unset for the default, or give a full address like https://proxy.example.com/.", name, raw)
	}
	return plainHTTPProblem(name, raw)
}

// plainHTTPProblem refuses an http URL whose host is not this machine.
func plainHTTPProblem(name, raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || !strings.EqualFold(u.Scheme, "http") || isLoopback(u.Hostname()) {
		return ""
	}
	return fmt.Sprintf("%s uses http: slabot sends a secret there or trusts the keys it serves, so it must be https (plain http is allowed only on 127.0.0.1, ::1 or localhost). Use the https address, or leave it unset for the default.", name)
}

// isLoopback reports whether host names this machine: localhost, or an
// address of 127.0.0.0/8 or ::1.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// teamsWhere says where to find a Teams setting a problem names.
func teamsWhere(problem string) string {
	for _, s := range settings {
		if strings.HasPrefix(problem, s.Name+" ") && s.WhereToGetIt != "" {
			return ". Where to get it: " + s.WhereToGetIt + "."
		}
	}
	return "."
}

func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("SLABOT_LOG_LEVEL %q is not one of debug, info, warn, error", s)
	}
	return l, nil
}

// databaseConfig reads the settings of a command that needs only the
// database; it reports false (having said why on stderr) when it cannot go on.
func databaseConfig(command string, stderr io.Writer) (Config, bool) {
	cfg, err := loadConfig()
	if err != nil {
		fmt.Fprintln(stderr, "slabot:", err)
		return cfg, false
	}
	if cfg.DatabaseURL == "" {
		fmt.Fprintf(stderr, "slabot %s: DATABASE_URL is not set: point it at slabot's PostgreSQL database.\n", command)
		return cfg, false
	}
	return cfg, true
}
