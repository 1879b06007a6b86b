package engine

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlanFromRevenueWorksTheFunnelBackwards(t *testing.T) {
	tests := []struct {
		name                                 string
		revenue, dealSize, winRate, mqlToSQL float64
		want                                 Plan
	}{
		{"the seed: 5,000 at 100 a sale and a 50% win rate needs 100 SQLs", 5000, 100, 0.5, 0,
			Plan{Basis: FromRevenue, Revenue: 5000, DealSize: 100, WinRate: 0.5, SQLToWon: 0.5, Deals: 50, SQLs: 100}},
		{"with a 25% MQL→SQL rate Marketing owes 400 MQLs", 5000, 100, 0.5, 0.25,
			Plan{Basis: FromRevenue, Revenue: 5000, DealSize: 100, WinRate: 0.5, SQLToWon: 0.5, MQLToSQL: 0.25, Deals: 50, SQLs: 100, MQLs: 400}},
		{"a part deal counts as a whole one", 5050, 100, 0.5, 0.25,
			Plan{Basis: FromRevenue, Revenue: 5050, DealSize: 100, WinRate: 0.5, SQLToWon: 0.5, MQLToSQL: 0.25, Deals: 51, SQLs: 102, MQLs: 408}},
		{"float noise does not add a lead: 30 deals at 10% is 300 SQLs, at 10% 3,000 MQLs", 3000, 100, 0.1, 0.1,
			Plan{Basis: FromRevenue, Revenue: 3000, DealSize: 100, WinRate: 0.1, SQLToWon: 0.1, MQLToSQL: 0.1, Deals: 30, SQLs: 300, MQLs: 3000}},
		{"a 100% win rate", 700, 7, 1, 1,
			Plan{Basis: FromRevenue, Revenue: 700, DealSize: 7, WinRate: 1, SQLToWon: 1, MQLToSQL: 1, Deals: 100, SQLs: 100, MQLs: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlanFromRevenue(tt.revenue, tt.dealSize, tt.winRate, tt.mqlToSQL)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanFromMQLsWorksTheFunnelForwards(t *testing.T) {
	tests := []struct {
		name               string
		mqls               int
		mqlToSQL, sqlToWon float64
		sqls, deals        int
	}{
		{"this quarter's SLA: 1,800 MQLs → 450 SQLs → 68 deals (67.5 rounded up)", 1800, 0.25, 0.15, 450, 68},
		{"the current funnel: 1,500 MQLs → 300 SQLs → 30 closed", 1500, 0.20, 0.10, 300, 30},
		{"float noise does not add a lead: 1,000 × 0.07 is 70", 1000, 0.07, 0.1, 70, 7},
		{"one lead", 1, 1, 1, 1, 1},
		{"a part lead rounds up", 10, 0.33, 0.5, 4, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlanFromMQLs(tt.mqls, tt.mqlToSQL, tt.sqlToWon)
			if err != nil {
				t.Fatal(err)
			}
			want := Plan{Basis: FromMQLs, MQLs: tt.mqls, MQLToSQL: tt.mqlToSQL, SQLToWon: tt.sqlToWon, WinRate: tt.sqlToWon, SQLs: tt.sqls, Deals: tt.deals}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCeilCountIgnoresFloatNoiseOnly(t *testing.T) {
	tests := map[float64]int{450: 450, 67.5: 68, 300.0 / 0.1: 3000, 1000 * 0.07: 70, 0.1 + 0.2: 1, 450.000001: 451, 0: 0, 1e-12: 0}
	for x, want := range tests {
		if got := ceilCount(x); got != want {
			t.Errorf("ceilCount(%v) = %d, want %d", x, got, want)
		}
	}
}

func TestPlansRejectImpossibleNumbersWithAnExample(t *testing.T) {
	nan := func() float64 { var z float64; return z / z }()
	revenue := []struct {
		name                   string
		rev, deal, win, mqlSQL float64
		want                   string
	}{
		{"zero revenue", 0, 100, 0.5, 0.25, "the revenue goal must be a number above 0, not 0"},
		{"negative deal size", 5000, -1, 0.5, 0.25, "the deal size must be a number above 0, not -1"},
		{"a win rate written as a percentage", 5000, 100, 50, 0.25, "the win rate must be a fraction above 0 and at most 1 (50% is 0.5), not 50"},
		{"a zero win rate", 5000, 100, 0, 0.25, "the win rate must be a fraction above 0 and at most 1 (50% is 0.5), not 0"},
		{"an MQL→SQL rate above 1", 5000, 100, 0.5, 25, "the MQL→SQL rate must be a fraction from 0 to 1 (25% is 0.25; 0 leaves MQLs out), not 25"},
		{"not a number", nan, 100, 0.5, 0.25, "the revenue goal must be a number above 0, not NaN"},
		{"a funnel too large", 1e300, 1, 1e-300, 1e-300, "these numbers give a funnel too large to plan"},
	}
	for _, tt := range revenue {
		_, err := PlanFromRevenue(tt.rev, tt.deal, tt.win, tt.mqlSQL)
		msg := ErrorMessage(err)
		if ErrorCode(err) != EINVALID || !strings.HasPrefix(msg, tt.want) || !strings.Contains(msg, "for example revenue 5000, deal size 100, win rate 0.5") {
			t.Errorf("%s: %q", tt.name, msg)
		}
	}
	mqls := []struct {
		name          string
		mqls          int
		mqlSQL, sqlWo float64
		want          string
	}{
		{"no MQLs", 0, 0.25, 0.15, "the number of MQLs must be above 0, not 0"},
		{"a zero MQL→SQL rate", 1800, 0, 0.15, "the MQL→SQL rate must be a fraction above 0 and at most 1 (25% is 0.25), not 0"},
		{"an SQL→won rate above 1", 1800, 0.25, 15, "the SQL→won rate must be a fraction above 0 and at most 1 (15% is 0.15), not 15"},
	}
	for _, tt := range mqls {
		_, err := PlanFromMQLs(tt.mqls, tt.mqlSQL, tt.sqlWo)
		msg := ErrorMessage(err)
		if ErrorCode(err) != EINVALID || !strings.HasPrefix(msg, tt.want) || !strings.Contains(msg, "for example 1800 MQLs, MQL→SQL rate 0.25 and SQL→won rate 0.15 give 450 SQLs and 68 deals") {
			t.Errorf("%s: %q", tt.name, msg)
		}
	}
}

func TestPlanStringReadsLikeTheFunnel(t *testing.T) {
	p, err := PlanFromRevenue(5000, 100, 0.5, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	want := `Revenue goal 5,000 ÷ deal size 100 = 50 deals a month
50 deals at a 50% win rate = 100 SQLs a month
100 SQLs at a 25% MQL→SQL rate = 400 MQLs a month
Counts are rounded up: half a lead cannot be delivered.`
	if diff := cmp.Diff(want, p.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	p, _ = PlanFromRevenue(12345.5, 99.99, 0.125, 0)
	if s := p.String(); !strings.Contains(s, "Revenue goal 12,345.50 ÷ deal size 99.99 = 124 deals") || !strings.Contains(s, "12.5% win rate = 992 SQLs") || !strings.Contains(s, "Give the MQL→SQL rate") {
		t.Errorf("odd numbers:\n%s", s)
	}
	p, _ = PlanFromMQLs(1800, 0.25, 0.15)
	want = `1,800 MQLs at a 25% MQL→SQL rate = 450 SQLs a month
450 SQLs at a 15% SQL→won rate = 68 deals a month
Counts are rounded up: half a lead cannot be delivered.`
	if diff := cmp.Diff(want, p.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCountText(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1800: "1,800", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := countText(n); got != want {
			t.Errorf("countText(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatPercent(t *testing.T) {
	rates := map[float64]string{0: "0%", 0.25: "25%", 0.125: "12.5%", 0.07: "7%", 1.0 / 3: "33.33%", 0.99999: "100%", 1: "100%"}
	for x, want := range rates {
		if got := FormatPercent(x, PercentRate); got != want {
			t.Errorf("FormatPercent(%v, PercentRate) = %q, want %q", x, got, want)
		}
	}
	shares := map[float64]string{0: "0%", 2.0 / 3: "67%", 0.125: "13%", 0.995: "99.5%", 0.9999: "99.9%", 1: "100%", 0.001: "0.1%", 0.25: "25%"}
	for x, want := range shares {
		if got := FormatPercent(x, PercentShare); got != want {
			t.Errorf("FormatPercent(%v, PercentShare) = %q, want %q", x, got, want)
		}
	}
}
