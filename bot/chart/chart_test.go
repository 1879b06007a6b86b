package chart

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

const samplePolicy = `
timezone: America/New_York
business_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
targets: {mqls: 1800, mql_to_sql: 0.25, sql_to_won: 0.15}
teams:
  - {name: sdr-east, manager: maria@example.com, reps: [ana@example.com, bo@example.com]}
rules:
  - {name: default, first_touch: 4h, touches: {count: 6, within: 14d}}
`

// sampleReport is week 47 of November 2026 with a plausible month behind
// it: about 12 SQLs and 50 MQLs a weekday, fewer at weekends, a few deals.
func sampleReport(t testing.TB) engine.WeeklyReport {
	t.Helper()
	p, probs := engine.ParsePolicy([]byte(samplePolicy), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	loc := p.Location
	var facts []engine.LeadFacts
	var mqls []engine.MQL
	id := int64(0)
	for day := 1; day <= 22; day++ {
		date := time.Date(2026, 11, day, 0, 0, 0, 0, loc)
		sqls, mq := 10+day%5, 48+day%7
		if wd := date.Weekday(); wd == time.Saturday || wd == time.Sunday {
			sqls, mq = 3, 15
		}
		for i := 0; i < sqls; i++ {
			id++
			at := date.Add(9*time.Hour + time.Duration(i)*20*time.Minute)
			l := engine.Lead{ID: id, ExternalID: fmt.Sprint(id), OwnerEmail: []string{"ana@example.com", "bo@example.com"}[i%2],
				Team: "sdr-east", Rule: "default", State: engine.StateWorking, HandedOffAt: at, ReceivedAt: at, AssignedAt: at}
			if i%9 == 0 && day < 15 {
				l.State, l.ClosedAt, l.Amount = engine.StateWon, at.Add(7*24*time.Hour), 100
			}
			facts = append(facts, engine.LeadFacts{Lead: l, Touches: []time.Time{at.Add(time.Duration(10+i*7) * time.Minute)}})
		}
		for i := 0; i < mq; i++ {
			mqls = append(mqls, engine.MQL{ExternalID: fmt.Sprintf("m%d-%d", day, i), At: date.Add(8*time.Hour + time.Duration(i)*10*time.Minute)})
		}
	}
	week := engine.WeekPeriod(2026, 47, loc)
	return engine.BuildWeeklyReport(p, facts, mqls, nil, week, time.Date(2026, 11, 23, 9, 0, 0, 0, loc))
}

// checkPNG decodes a chart and checks that it is a real picture of the
// promised size, not a blank or a single colour.
func checkPNG(t *testing.T, data []byte, minColors int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the chart is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != Width || b.Dy() != Height {
		t.Fatalf("the chart is %d×%d, want %d×%d", b.Dx(), b.Dy(), Width, Height)
	}
	colors := map[[4]uint32]bool{}
	nonWhite := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			colors[[4]uint32{r >> 8, g >> 8, bl >> 8, a >> 8}] = true
			if r>>8 < 250 || g>>8 < 250 || bl>>8 < 250 {
				nonWhite++
			}
		}
	}
	if len(colors) < minColors {
		t.Errorf("the chart has %d colours, want at least %d: is it blank?", len(colors), minColors)
	}
	if share := float64(nonWhite) / float64((b.Dx()/2)*(b.Dy()/2)); share < 0.02 || share > 0.6 {
		t.Errorf("%.1f%% of the chart is drawn on, want between 2%% and 60%%", 100*share)
	}
	return img
}

func TestWeeklyChart(t *testing.T) {
	tests := []struct {
		name      string
		report    func(testing.TB) engine.WeeklyReport
		minColors int
	}{
		{name: "a month with data draws the waterfall and the funnel", report: sampleReport, minColors: 50},
		{name: "an empty report still draws, and says there is nothing", report: func(testing.TB) engine.WeeklyReport { return engine.WeeklyReport{} }, minColors: 10},
		{name: "a report without targets draws actuals only", report: func(t testing.TB) engine.WeeklyReport {
			r := sampleReport(t)
			for i := range r.Waterfall {
				r.Waterfall[i].Target = 0
			}
			r.Marketing.MonthFunnel.MQLTarget, r.Marketing.MonthFunnel.SQLTarget, r.Marketing.MonthFunnel.WonTarget = 0, 0, 0
			return r
		}, minColors: 30},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := WeeklyChart(tt.report(t))
			if err != nil {
				t.Fatal(err)
			}
			checkPNG(t, data, tt.minColors)
			// Kept for a person to look at (go test -v prints where), in one
			// fixed directory so that runs overwrite rather than pile up.
			dir := filepath.Join(os.TempDir(), "slabot-chart-test")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, fmt.Sprintf("weekly-%d.png", i))
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("chart written to %s", path)
		})
	}
}

func TestCountUsesThousandsSeparators(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1320: "1,320", 1234567: "1,234,567", -4500: "-4,500", 49.6: "50"} {
		if got := count(in); got != want {
			t.Errorf("count(%v) = %q, want %q", in, got, want)
		}
	}
}
