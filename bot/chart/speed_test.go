package chart

import (
	"bytes"
	"image/png"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

func TestSpeedChartDrawsTheBands(t *testing.T) {
	period := engine.MonthPeriod(2026, time.November, time.UTC)
	counts := []engine.SpeedCount{
		{Rule: "demo-request", Band: 0, Leads: 120, Opportunities: 40, Won: 30},
		{Rule: "demo-request", Band: 3, Leads: 80, Opportunities: 12, Won: 5},
		{Rule: "default", Band: 1, Leads: 300, Opportunities: 60, Won: 20},
		{Rule: "default", Band: engine.SpeedBandNever, Leads: 10, Opportunities: 0, Won: 0},
	}
	for _, pooled := range []bool{false, true} {
		s := engine.SpeedFromCounts(nil, period, period.End, "", pooled, counts, 3)
		b, err := SpeedChart(s)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() != SpeedWidth || img.Bounds().Dy() != SpeedHeight || len(b) > 40_000 {
			t.Errorf("size %v, %d bytes: Teams carries it inline, within 80 KB with its card", img.Bounds(), len(b))
		}
	}
	// Nothing to judge still draws, saying so.
	if _, err := SpeedChart(engine.SpeedFromCounts(nil, period, period.End, "", false, nil, 0)); err != nil {
		t.Fatal(err)
	}
}
