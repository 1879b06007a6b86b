package slack_test

import (
	"testing"

	"github.com/slabot/slabot/storage/benchgen"
)

// BenchmarkScaleScorecard asks /sla sources and /sla speed over a quarter
// as a manager, on the generated history BenchmarkScale uses (kept in
// schema bench_<leads>): time from the command to the answer's post, and
// peak RSS.
//
//	SLABOT_BENCH_LEADS=1000000 go test -run '^$' -bench ScaleScorecard -benchtime 1x -timeout 2h ./bot/slack/
func BenchmarkScaleScorecard(b *testing.B) {
	e, _, _ := openScaleEnv(b)
	manager := benchgen.ManagerUserID(4)
	e.benchCommands(b, startMemSampler(b), []scaleAsk{
		{"SourcesQuarter", manager, "sources quarter", "Scorecard by source, Q"},
		{"SourcesQuarterByScore", manager, "sources quarter by score", "Scorecard by score, Q"},
		{"SpeedQuarter", manager, "speed quarter", "Speed to lead, Q"},
	})
}
