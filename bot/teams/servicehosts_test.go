package teams

import (
	"strings"
	"testing"
)

func TestServiceURLAllowed(t *testing.T) {
	t.Parallel()
	hosts := normalHosts(nil)
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://smba.trafficmanager.net/teams/", true},
		{"https://smba.trafficmanager.net/emea/", true},
		{"https://SMBA.TrafficManager.net/amer/", true},
		{"https://smba.trafficmanager.net:443/teams/", true},
		{"https://smba.infra.gcc.teams.microsoft.com/teams/", true},
		{"http://smba.trafficmanager.net/teams/", false},
		{"https://smba.trafficmanager.net:8443/teams/", false},
		{"https://smba.trafficmanager.net.evil.example/teams/", false},
		{"https://evil.trafficmanager.net/teams/", false},
		{"https://emea.smba.trafficmanager.net/teams/", false},
		{"https://user@smba.trafficmanager.net/teams/", false},
		{"https://smba.infra.gov.teams.microsoft.us/teams/", false}, // GCC High: not served
		{"http://127.0.0.1:8080/smba/teams/", false},                // loopback only when listed
		{"", false},
		{"smba.trafficmanager.net", false},
	} {
		if got := ServiceURLAllowed(tc.url, hosts); got != tc.want {
			t.Errorf("ServiceURLAllowed(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
	loopback := normalHosts([]string{" 127.0.0.1 "})
	if !ServiceURLAllowed("http://127.0.0.1:41234/smba/teams/", loopback) {
		t.Error("the listed loopback host (a test's fake) was refused")
	}
	if ServiceURLAllowed("http://localhost:41234/smba/teams/", loopback) {
		t.Error("an unlisted loopback name was allowed")
	}
}

func TestServiceURLHostsSetting(t *testing.T) {
	t.Parallel()
	good := Config{AppID: "6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b", AppPassword: "s3cret", TenantID: "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"}
	if got := good.WithDefaults().ServiceURLHosts; strings.Join(got, ",") != "smba.trafficmanager.net,smba.infra.gcc.teams.microsoft.com" {
		t.Errorf("default hosts %v", got)
	}
	elsewhere := good
	elsewhere.ServiceURL = "https://proxy.example.com/teams/"
	err := elsewhere.WithDefaults().Validate()
	if err == nil || !strings.Contains(err.Error(), "TEAMS_SERVICE_URL_HOSTS") {
		t.Errorf("a TEAMS_SERVICE_URL off the allowed hosts: %v, want an error naming TEAMS_SERVICE_URL_HOSTS", err)
	}
	elsewhere.ServiceURLHosts = []string{"proxy.example.com"}
	if err := elsewhere.WithDefaults().Validate(); err != nil {
		t.Errorf("a TEAMS_SERVICE_URL on a host the setting names: %v", err)
	}
	withScheme := good
	withScheme.ServiceURLHosts = []string{"https://smba.trafficmanager.net/"}
	if err := withScheme.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), "host names only") {
		t.Errorf("a URL in TEAMS_SERVICE_URL_HOSTS: %v, want it refused", err)
	}
}
