package teams

import (
	"strings"
	"testing"
)

func TestConfigValidateNamesEachVariable(t *testing.T) {
	t.Parallel()
	err := Config{AppID: "not-a-guid", ServiceURL: "ftp://x", LoginURL: "::"}.Validate()
	if err == nil {
		t.Fatal("an empty config validated")
	}
	for _, name := range []string{"TEAMS_APP_ID must be a GUID", "TEAMS_APP_PASSWORD is required", "TEAMS_TENANT_ID is required", "TEAMS_SERVICE_URL", "TEAMS_LOGIN_URL", "TEAMS_OPENID_METADATA_URL", "TEAMS_GRAPH_URL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not mention %q:\n%v", name, err)
		}
	}
	good := Config{
		AppID: "6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b", AppPassword: "s3cret", TenantID: "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d",
	}.WithDefaults()
	if err := good.Validate(); err != nil {
		t.Errorf("a good config with defaults: %v", err)
	}
	if good.ServiceURL != DefaultServiceURL || good.OpenIDMetadataURL != DefaultOpenIDMetadataURL {
		t.Errorf("defaults not applied: %+v", good)
	}
	if strings.Contains(Config{AppPassword: "hunter2"}.Validate().Error(), "hunter2") {
		t.Error("the secret appears in the error")
	}
}

func TestTokenEndpointURL(t *testing.T) {
	t.Parallel()
	for _, login := range []string{"https://login.microsoftonline.com/", "https://login.microsoftonline.com"} {
		s := NewTokenSource(TokenSourceOptions{LoginURL: login, TenantID: "t-1"})
		if want := "https://login.microsoftonline.com/t-1/oauth2/v2.0/token"; s.endpoint != want {
			t.Errorf("endpoint %q, want %q", s.endpoint, want)
		}
	}
}
