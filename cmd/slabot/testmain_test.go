package main

import (
	"context"
	"flag"
	"os"
	"strconv"
	"testing"
)

// testParallel is how many parallel tests run at once unless -parallel
// says otherwise. Most of this package's time is waiting in real time
// (the demo's deadlines, a killed worker's jobs waiting to be taken for
// dead, a database restarting, a subprocess starting), not computing:
// go test's default, one per CPU, would leave a 2-core machine idle
// while two such tests wait.
const testParallel = 8

// TestMain lets a test run slabot as a separate process (the test binary
// itself), so it can be killed like the real thing; otherwise it runs the
// tests, testParallel of them at once by default.
func TestMain(m *testing.M) {
	if os.Getenv("SLABOT_TEST_SUBPROCESS") == "1" {
		os.Exit(Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", strconv.Itoa(testParallel)); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
