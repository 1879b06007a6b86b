package engine

import (
	"slices"
	"time"
)

// Response times summarised: median and 90th percentile by nearest rank.

// Stats summarises durations by their median and 90th percentile, not the
// mean: one lead forgotten over a weekend should not hide how fast the
// typical lead is answered, nor should it disappear.
//
// Percentiles use the nearest-rank method: the p-th percentile of n sorted
// values is the value at rank ⌈p × n / 100⌉ (1-based). Every reported
// value therefore actually occurred; the median of an even count is the
// lower of the two middle values, and P90 of fewer than 10 values is the
// largest but at most one. With Count 0 both are 0.
type Stats struct {
	Count       int
	Median, P90 time.Duration
}

// StatsOf computes Stats over ds (in any order; ds is not modified).
func StatsOf(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return Stats{Count: len(s), Median: nearestRank(s, 50), P90: nearestRank(s, 90)}
}

// nearestRank returns the pct-th percentile of sorted, in integers so that
// no float rounding moves a rank.
func nearestRank(sorted []time.Duration, pct int) time.Duration {
	rank := (pct*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}
