package engine

import (
	"testing"
	"time"
)

func TestWaterfallChartsTheFinishLine(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	actual := map[int]int{1: 10, 2: 50, 3: 70, 5: 999, 40: 5}
	// 23:30 on 3 November in New York is already 4 November in UTC; the
	// report counts New York days.
	through := time.Date(2026, 11, 4, 4, 30, 0, 0, time.UTC)
	// Any instant in the month names it, even one that is December in UTC.
	month := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	days := Waterfall(1800, month, ny, actual, through)
	if len(days) != 30 {
		t.Fatalf("November has 30 days, got %d", len(days))
	}
	want := []struct {
		day       int
		target    float64
		actual    float64
		hasActual bool
	}{
		{1, 60, 10, true},
		{2, 120, 60, true},
		{3, 180, 130, true},
		{4, 240, 0, false},
		{15, 900, 0, false},
		{30, 1800, 0, false},
	}
	for _, w := range want {
		d := days[w.day-1]
		if !d.Date.Equal(time.Date(2026, 11, w.day, 0, 0, 0, 0, ny)) {
			t.Errorf("day %d: date %s", w.day, d.Date)
		}
		if d.Target != w.target || d.Actual != w.actual || d.HasActual != w.hasActual {
			t.Errorf("day %d: %+v, want target %v actual %v (%v)", w.day, d, w.target, w.actual, w.hasActual)
		}
	}
}

func TestWaterfallBeforeAndAfterTheMonth(t *testing.T) {
	feb := time.Date(2027, 2, 10, 0, 0, 0, 0, time.UTC)
	actual := map[int]int{1: 1, 28: 2}
	before := Waterfall(100, feb, nil, actual, time.Date(2027, 1, 31, 23, 0, 0, 0, time.UTC))
	if len(before) != 28 {
		t.Fatalf("February 2027 has 28 days, got %d", len(before))
	}
	for _, d := range before {
		if d.HasActual {
			t.Fatalf("a month not begun has no actuals: %+v", d)
		}
	}
	if before[13].Target != 50 {
		t.Errorf("half way through February the target is half the goal, got %v", before[13].Target)
	}
	after := Waterfall(100, feb, nil, actual, time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC))
	for _, d := range after {
		if !d.HasActual {
			t.Fatalf("a month gone by has every actual: %+v", d)
		}
	}
	if last := after[27]; last.Actual != 3 || last.Target != 100 {
		t.Errorf("last day %+v, want actual 3 of target 100", last)
	}
	leap := Waterfall(29, time.Date(2028, 2, 1, 0, 0, 0, 0, time.UTC), time.UTC, nil, time.Time{})
	if len(leap) != 29 || leap[0].Target != 1 {
		t.Errorf("February 2028 has 29 days at 1 a day, got %d days, first %+v", len(leap), leap[0])
	}
}
