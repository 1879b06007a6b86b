package bot_test

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// TestMain runs more of the core's tests at once than the machine has
// CPUs, unless -parallel says how many: each flow test spends its time
// waiting on a PostgreSQL database of its own, not computing, so the
// default (GOMAXPROCS) leaves the CPUs idle while the tests queue.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		if err := flag.Set("test.parallel", strconv.Itoa(max(8, 4*runtime.GOMAXPROCS(0)))); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
