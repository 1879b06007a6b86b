package crm_test

import (
	"os"
	"testing"
)

// TestMain gives every test the webhooks' signing secret through the
// environment variable the test policies name (secret_env), set once for
// the process rather than by each test, so that the tests can run in
// parallel (t.Setenv forbids it).
func TestMain(m *testing.M) {
	if err := os.Setenv("TEST_WEBHOOK_SECRET", testSecret); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
