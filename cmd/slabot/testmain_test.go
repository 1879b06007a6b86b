package main

import (
	"context"
	"os"
	"testing"
)

// TestMain lets a test run slabot as a separate process (the test binary
// itself), so it can be killed like the real thing; otherwise it runs the
// tests. How many run at once is make test's -parallel (TEST_FLAGS), as
// for every package.
func TestMain(m *testing.M) {
	if os.Getenv("SLABOT_TEST_SUBPROCESS") == "1" {
		os.Exit(Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
