package teams

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// DefaultServiceURLHosts are the hosts of the Bot Connector that Teams
// puts in an activity's serviceUrl in Microsoft's commercial cloud:
// smba.trafficmanager.net (https://smba.trafficmanager.net/{region}/, the
// TEAMS_SERVICE_URL default) and, for tenants in GCC, the host Microsoft's
// table of connector errors sends them to (InvalidBotApiHost:
// "For GCC tenants, call https://smba.infra.gcc.teams.microsoft.com",
// https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/conversation-messages#status-codes-from-bot-conversational-apis).
// The clouds slabot does not serve (GCC High, DoD) are left out.
var DefaultServiceURLHosts = []string{"smba.trafficmanager.net", "smba.infra.gcc.teams.microsoft.com"}

// ErrServiceURLNotAllowed: a serviceUrl whose host is not one of
// TEAMS_SERVICE_URL_HOSTS. slabot's connector token is never sent there.
var ErrServiceURLNotAllowed = errors.New("teams: the serviceUrl is not a Teams connector host slabot trusts (TEAMS_SERVICE_URL_HOSTS)")

// normalHosts is hosts trimmed, in lower case, without empties; the
// defaults when there are none.
func normalHosts(hosts []string) []string {
	var out []string
	for _, h := range hosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		return slices.Clone(DefaultServiceURLHosts)
	}
	return out
}

// ServiceURLAllowed reports whether slabot may send its connector token to
// the service URL: https on the default port to one of hosts (compared
// exactly, so no lookalike such as smba.trafficmanager.net.example.com or
// evil.trafficmanager.net passes), or, for tests, http(s) to a loopback
// host that hosts names.
func ServiceURLAllowed(raw string, hosts []string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.User != nil || u.Opaque != "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if host == "" || !slices.Contains(hosts, host) {
		return false
	}
	if isLoopback(host) {
		return u.Scheme == "https" || u.Scheme == "http"
	}
	return u.Scheme == "https" && (u.Port() == "" || u.Port() == "443")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkServiceURLHosts names what is wrong with TEAMS_SERVICE_URL_HOSTS:
// hosts only (no scheme, path or port; an IP address, such as a test's
// ::1, is a host), and TEAMS_SERVICE_URL among them.
func checkServiceURLHosts(hosts []string, serviceURL string) []error {
	var problems []error
	for _, h := range hosts {
		if strings.ContainsAny(h, "/:@ ") && net.ParseIP(h) == nil {
			problems = append(problems, fmt.Errorf("TEAMS_SERVICE_URL_HOSTS names %q: give host names only, comma-separated, such as %s",
				h, strings.Join(DefaultServiceURLHosts, ",")))
		}
	}
	if serviceURL != "" && checkURL(serviceURL) == nil && !ServiceURLAllowed(serviceURL, hosts) {
		problems = append(problems, fmt.Errorf("TEAMS_SERVICE_URL %q is not on a host TEAMS_SERVICE_URL_HOSTS allows (%s): slabot sends its token only there; "+
			"use an https URL on one of them, or add its host to TEAMS_SERVICE_URL_HOSTS", serviceURL, strings.Join(hosts, ",")))
	}
	return problems
}
