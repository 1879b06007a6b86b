// Package chart draws the weekly smarketing report as one PNG for the
// report channel: on the left the month's SQL waterfall ("chart the finish
// line": the cumulative daily target against the cumulative actual), on the
// right Marketing's funnel month to date (MQLs, SQLs and won deals against
// their targets for the days so far).
//
// The image is 1200×700 pixels with large type, because most people read
// the report on a phone, where Slack shrinks it to the screen's width.
package chart

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/slabot/slabot/engine"
)

// Width and Height are the size of the chart in pixels.
const (
	Width  = 1200
	Height = 700
)

// dpi is 72 so that one point is one pixel: font sizes below are pixels.
const dpi = 72

// Colours: status colours say at a glance whether a number is on track.
var (
	colorOnTrack = color.RGBA{R: 0x1a, G: 0x7f, B: 0x37, A: 0xff} // green
	colorBehind  = color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff} // red
	colorNeutral = color.RGBA{R: 0x1f, G: 0x5f, B: 0xa8, A: 0xff} // blue, when there is no target
	colorTarget  = color.RGBA{R: 0x8a, G: 0x8f, B: 0x98, A: 0xff} // grey
	colorText    = color.RGBA{R: 0x22, G: 0x22, B: 0x22, A: 0xff}
	colorSubtle  = color.RGBA{R: 0x5f, G: 0x63, B: 0x68, A: 0xff}
	colorGrid    = color.RGBA{R: 0xe3, G: 0xe5, B: 0xe8, A: 0xff}
)

// Type sizes in pixels.
const (
	sizeHeading = 30
	sizeTitle   = 24
	sizeLabel   = 20
	sizeTick    = 18
	sizeValue   = 22
)

func sans(size vg.Length, bold bool) font.Font {
	f := font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
	if bold {
		f.Weight = xfont.WeightBold
	}
	return f
}

func textStyle(size vg.Length, bold bool, c color.Color) text.Style {
	return text.Style{Color: c, Font: sans(size, bold), Handler: plot.DefaultTextHandler}
}

// WeeklyChart renders the report's chart as a PNG of Width × Height pixels.
// A report without data (no waterfall, no targets) still gives a valid
// image that says so.
func WeeklyChart(r engine.WeeklyReport) ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(Width, Height), vgimg.UseDPI(dpi))
	dc := draw.New(c)

	const headerH = 70
	drawHeader(dc, r, headerH)
	body := draw.Crop(dc, 0, 0, 0, -headerH)

	// The waterfall gets 60% of the width: it carries the most detail.
	const leftW = Width * 0.6
	left := draw.Crop(body, 10, -(Width - leftW), 10, 0)
	right := draw.Crop(body, leftW+20, -15, 10, 0)

	if err := drawWaterfall(left, r); err != nil {
		return nil, fmt.Errorf("chart: waterfall: %w", err)
	}
	if err := drawFunnel(right, r.Marketing.MonthFunnel); err != nil {
		return nil, fmt.Errorf("chart: funnel: %w", err)
	}

	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart: encoding the PNG: %w", err)
	}
	return buf.Bytes(), nil
}

func drawHeader(dc draw.Canvas, r engine.WeeklyReport, h vg.Length) {
	top := dc.Max.Y
	heading := "Smarketing report"
	if r.Week.Label != "" {
		heading += " · " + r.Week.Label
	}
	st := textStyle(sizeHeading, true, colorText)
	st.YAlign = draw.YTop
	dc.FillText(st, vg.Point{X: dc.Min.X + 20, Y: top - 14}, heading)
	if r.Month.Label != "" {
		sub := textStyle(sizeLabel, false, colorSubtle)
		sub.XAlign, sub.YAlign = draw.XRight, draw.YTop
		dc.FillText(sub, vg.Point{X: dc.Max.X - 20, Y: top - 20}, "Month to date: "+r.Month.Label)
	}
	dc.StrokeLine2(draw.LineStyle{Color: colorGrid, Width: 2}, dc.Min.X+20, top-h+6, dc.Max.X-20, top-h+6)
}

// status is the colour of an actual against its target.
func status(actual, target float64) color.Color {
	switch {
	case target <= 0:
		return colorNeutral
	case actual >= target:
		return colorOnTrack
	}
	return colorBehind
}

// count writes a whole number with thousands separators: 1,320.
func count(x float64) string {
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle = textStyle(sizeTitle, true, colorText)
	p.Title.TextStyle.XAlign, p.Title.TextStyle.YAlign = draw.XCenter, draw.YTop
	p.Title.Padding = 14
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle = textStyle(sizeLabel, false, colorSubtle)
		ax.Tick.Label = textStyle(sizeTick, false, colorSubtle)
		ax.LineStyle.Color, ax.Tick.LineStyle.Color = colorSubtle, colorSubtle
		ax.Padding = 4
	}
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XCenter, draw.YTop
	p.Y.Tick.Label.XAlign, p.Y.Tick.Label.YAlign = draw.XRight, draw.YCenter
	// The axes rotate the Y label themselves; it only needs aligning.
	p.Y.Label.TextStyle.XAlign, p.Y.Label.TextStyle.YAlign = draw.XCenter, draw.YBottom
	p.X.Label.TextStyle.XAlign, p.X.Label.TextStyle.YAlign = draw.XCenter, draw.YBottom
	p.Legend.TextStyle = textStyle(sizeTick, false, colorText)
	p.Legend.Padding = 10
	return p
}

// dayTicks marks day 1 and every fifth day, and the last day.
type dayTicks struct{ last int }

func (t dayTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for d := 1; d <= t.last; d++ {
		if d == 1 || d%5 == 0 || d == t.last {
			if d == t.last-1 && d%5 == 0 {
				continue // 30 and 31 would overlap
			}
			ts = append(ts, plot.Tick{Value: float64(d), Label: strconv.Itoa(d)})
		} else {
			ts = append(ts, plot.Tick{Value: float64(d)})
		}
	}
	return ts
}

// countTicks puts about five round, whole-number ticks on a count axis.
type countTicks struct{}

func (countTicks) Ticks(min, max float64) []plot.Tick {
	step := niceStep(max / 5)
	var ts []plot.Tick
	for v := 0.0; v <= max+step/1e6; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: count(v)})
	}
	return ts
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten (at least 1).
func niceStep(x float64) float64 {
	if x <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

func drawWaterfall(dc draw.Canvas, r engine.WeeklyReport) error {
	days := r.Waterfall
	month := "the month"
	if !r.Month.Start.IsZero() {
		month = r.Month.Start.Month().String()
	}
	if len(days) == 0 {
		st := textStyle(sizeTitle, false, colorSubtle)
		st.XAlign, st.YAlign = draw.XCenter, draw.YCenter
		dc.FillText(st, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: (dc.Min.Y + dc.Max.Y) / 2}, "No SQL waterfall for "+month)
		return nil
	}

	target := make(plotter.XYs, len(days))
	var actual plotter.XYs
	top := 0.0
	for i, d := range days {
		target[i] = plotter.XY{X: float64(i + 1), Y: d.Target}
		top = math.Max(top, d.Target)
		if d.HasActual {
			actual = append(actual, plotter.XY{X: float64(i + 1), Y: d.Actual})
			top = math.Max(top, d.Actual)
		}
	}
	goal := days[len(days)-1].Target

	title := fmt.Sprintf("SQLs in %s", month)
	lineColor := color.Color(colorNeutral)
	if n := len(actual); n > 0 {
		got, due := actual[n-1].Y, target[n-1].Y
		lineColor = status(got, due)
		title = fmt.Sprintf("SQLs in %s: %s of %s due by day %d", month, count(got), count(due), n)
		if goal <= 0 {
			title = fmt.Sprintf("SQLs in %s: %s by day %d (no target)", month, count(got), n)
		}
	}

	p := newPlot(title)
	p.X.Label.Text = "Day of " + month
	p.Y.Label.Text = "SQLs, cumulative"
	p.X.Min, p.X.Max = 1, float64(len(days))
	p.Y.Min, p.Y.Max = 0, math.Max(1, top*1.1)
	p.X.Tick.Marker = dayTicks{last: len(days)}
	p.Y.Tick.Marker = countTicks{}

	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Transparent
	grid.Horizontal.Color = colorGrid
	grid.Horizontal.Width = 1
	p.Add(grid)

	if goal > 0 {
		tl, err := plotter.NewLine(target)
		if err != nil {
			return err
		}
		tl.Color, tl.Width, tl.Dashes = colorTarget, 3, []vg.Length{10, 6}
		p.Add(tl)
		p.Legend.Add(fmt.Sprintf("Target (goal %s)", count(goal)), tl)
	}

	if len(actual) > 0 {
		al, err := plotter.NewLine(actual)
		if err != nil {
			return err
		}
		al.Color, al.Width = lineColor, 5
		p.Add(al)
		p.Legend.Add("Actual", al)

		// The latest actual, marked and labelled: the number people look for.
		last := actual[len(actual)-1]
		dot, err := plotter.NewScatter(plotter.XYs{last})
		if err != nil {
			return err
		}
		dot.GlyphStyle = draw.GlyphStyle{Color: lineColor, Radius: 7, Shape: draw.CircleGlyph{}}
		p.Add(dot)
		lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{last}, Labels: []string{count(last.Y)}})
		if err != nil {
			return err
		}
		lbl.TextStyle[0] = textStyle(sizeValue, true, lineColor)
		lbl.TextStyle[0].XAlign, lbl.TextStyle[0].YAlign = draw.XCenter, draw.YBottom
		lbl.Offset = vg.Point{Y: 12}
		p.Add(lbl)
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = 12, -8
	p.Legend.ThumbnailWidth = 40
	p.Draw(dc)
	return nil
}

func drawFunnel(dc draw.Canvas, f engine.Funnel) error {
	head := textStyle(sizeTitle, true, colorText)
	head.XAlign, head.YAlign = draw.XCenter, draw.YTop
	dc.FillText(head, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - 2}, "Funnel vs target to date")
	legend := textStyle(sizeTick, false, colorSubtle)
	legend.XAlign, legend.YAlign = draw.XCenter, draw.YTop
	dc.FillText(legend, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - 34}, "% = actual ÷ target for the days so far")
	area := draw.Crop(dc, 0, 0, 0, -70)

	stages := []struct {
		name           string
		actual, target int
	}{
		{"MQLs", f.MQLs, f.MQLTarget},
		{"SQLs", f.SQLs, f.SQLTarget},
		{"Won", f.Won, f.WonTarget},
	}
	tiles := draw.Tiles{Cols: len(stages), Rows: 1, PadX: 12}
	for i, s := range stages {
		if err := drawStage(tiles.At(area, i, 0), s.name, float64(s.actual), float64(s.target)); err != nil {
			return err
		}
	}
	return nil
}

// drawStage draws one funnel stage: an actual bar and a target bar, each
// labelled with its number, under a title with the share of target.
func drawStage(dc draw.Canvas, name string, actual, target float64) error {
	title := name
	if target > 0 {
		title = fmt.Sprintf("%s\n%.0f%%", name, 100*actual/target)
	}
	p := newPlot(title)
	p.HideY()
	p.NominalX("Actual", "Target")
	p.X.Tick.Label = textStyle(sizeTick, false, colorSubtle)
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XCenter, draw.YTop
	p.X.Padding = 8
	p.Y.Min, p.Y.Max = 0, math.Max(1, math.Max(actual, target)*1.25)

	width := (dc.Max.X - dc.Min.X) / 3
	for i, v := range []float64{actual, target} {
		bar, err := plotter.NewBarChart(plotter.Values{v}, width)
		if err != nil {
			return err
		}
		bar.XMin = float64(i)
		bar.LineStyle.Width = 0
		bar.Color = colorTarget
		if i == 0 {
			bar.Color = status(actual, target)
		}
		p.Add(bar)
	}
	targetText := count(target)
	if target <= 0 {
		targetText = "none"
	}
	lbl, err := plotter.NewLabels(plotter.XYLabels{
		XYs:    plotter.XYs{{X: 0, Y: actual}, {X: 1, Y: target}},
		Labels: []string{count(actual), targetText},
	})
	if err != nil {
		return err
	}
	for i := range lbl.TextStyle {
		lbl.TextStyle[i] = textStyle(sizeValue, true, colorText)
		lbl.TextStyle[i].XAlign, lbl.TextStyle[i].YAlign = draw.XCenter, draw.YBottom
	}
	lbl.Offset = vg.Point{Y: 6}
	p.Add(lbl)
	p.Draw(dc)
	return nil
}
