package slack_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/benchgen"
	"github.com/slabot/slabot/storage/storagetest"
)

// BenchmarkScaleScorecard asks /sla sources and /sla speed over a quarter
// as a manager, on the generated history BenchmarkScale uses (kept in
// schema bench_<leads>): time from the command to the answer's post, and
// peak RSS.
//
//	SLABOT_BENCH_LEADS=1000000 go test -run '^$' -bench ScaleScorecard -benchtime 1x -timeout 2h ./bot/slack/
func BenchmarkScaleScorecard(b *testing.B) {
	n := 20_000
	if s := os.Getenv("SLABOT_BENCH_LEADS"); s != "" {
		v, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
		if err != nil || v <= 0 {
			b.Fatalf("SLABOT_BENCH_LEADS=%q is not a number of leads", s)
		}
		n = v
	}
	ctx := context.Background()
	db, info, err := benchgen.Open(ctx, storagetest.URL(b), benchgen.Config{Leads: n}, storage.Options{MaxConns: 30}, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Close)
	fake := newFakeSlack(b)
	for t := range info.Config.Teams {
		fake.AddUser(slackfake.User{ID: benchgen.ManagerUserID(t), Name: fmt.Sprintf("manager%02d", t),
			RealName: fmt.Sprintf("Manager %02d", t), Email: benchgen.ManagerEmail(t), TZ: "America/New_York"})
	}
	now := info.Config.Now
	e := newEnv(b, withDB(db), withFake(fake), withPolicy(info.PolicyYAML), withClock(func() time.Time { return now }),
		withLease(30*time.Minute))
	mem := startMemSampler(b)
	manager := benchgen.ManagerUserID(4)
	for _, a := range []struct{ name, text, says string }{
		{"SourcesQuarter", "sources quarter", "Scorecard by source, Q"},
		{"SourcesQuarterByScore", "sources quarter by score", "Scorecard by score, Q"},
		{"SpeedQuarter", "speed quarter", "Speed to lead, Q"},
	} {
		b.Run(a.name, func(b *testing.B) {
			mem.reset()
			var took time.Duration
			for b.Loop() {
				took += e.scaleCommand(b, manager, a.text, a.says)
			}
			reportAnswer(b, took, mem)
		})
	}
}
