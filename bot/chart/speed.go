package chart

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/png"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/slabot/slabot/engine"
)

// SpeedWidth and SpeedHeight are the speed chart's size: no wider than
// Teams shows a picture, so that it is sent as drawn.
const (
	SpeedWidth  = 1024
	SpeedHeight = 600
)

// SpeedChart draws /sla speed as one PNG of SpeedWidth × SpeedHeight pixels: on the
// left the opportunity rate, on the right the won rate, by time to first
// touch, a dot for each band and a bar for its 95% interval, one colour
// per rule (up to MaxSpeedSeries). Bands with too few leads to judge are
// not drawn: a dot without a meaning would be read as one.
func SpeedChart(s engine.Speed) ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(SpeedWidth, SpeedHeight), vgimg.UseDPI(dpi))
	dc := draw.New(c)
	const headerH = 76
	top := dc.Max.Y
	st := textStyle(sizeHeading, true, colorText)
	st.YAlign = draw.YTop
	heading := "Speed to lead · " + s.Period.Label
	if s.Pooled {
		heading += " · all rules pooled"
	}
	dc.FillText(st, vg.Point{X: dc.Min.X + 20, Y: top - 14}, heading)
	sub := textStyle(sizeTick, false, colorSubtle)
	sub.YAlign = draw.YTop
	dc.FillText(sub, vg.Point{X: dc.Min.X + 20, Y: top - 50},
		fmt.Sprintf("Dots: share of leads; bars: 95%% interval. Bands under %d leads are not drawn.", engine.MinLeadsToJudge))
	dc.StrokeLine2(draw.LineStyle{Color: colorGrid, Width: 2}, dc.Min.X+20, top-headerH+2, dc.Max.X-20, top-headerH+2)
	body := draw.Crop(dc, 0, 0, 0, -headerH)
	left := draw.Crop(body, 10, -SpeedWidth/2, 10, 0)
	right := draw.Crop(body, SpeedWidth/2+10, -15, 10, 0)
	if err := drawSpeedRates(left, s, "Became an opportunity", func(c engine.SpeedCell) engine.Rate { return c.Opportunities }); err != nil {
		return nil, fmt.Errorf("chart: speed: %w", err)
	}
	if err := drawSpeedRates(right, s, "Won", func(c engine.SpeedCell) engine.Rate { return c.Won }); err != nil {
		return nil, fmt.Errorf("chart: speed: %w", err)
	}
	return compactPNG(c.Image())
}

// compactPNG encodes img with the 216 web-safe colours: a chart has few
// colours besides the edges' antialiasing, and the smaller file (about a
// quarter) keeps a Teams activity that carries it inline within its
// 80 KB. Each pixel is mapped straight to its cube index, not searched for.
func compactPNG(img image.Image) ([]byte, error) {
	b := img.Bounds()
	pal := image.NewPaletted(b, palette.WebSafe)
	level := func(v uint32) uint8 { return uint8((v>>8 + 25) / 51) } // 0…5
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			pal.SetColorIndex(x, y, 36*level(r)+6*level(g)+level(bl))
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, pal); err != nil {
		return nil, fmt.Errorf("chart: encoding the PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// MaxSpeedSeries is the most rules the chart draws (the largest first).
const MaxSpeedSeries = 4

var seriesColors = []color.Color{colorNeutral, color.RGBA{R: 0xe0, G: 0x7a, B: 0x10, A: 0xff},
	color.RGBA{R: 0x6a, G: 0x3d, B: 0x9a, A: 0xff}, colorOnTrack}

// rateBars are one series' dots and intervals.
type rateBars struct {
	plotter.XYs
	low, high []float64
}

func (r rateBars) YError(i int) (float64, float64) {
	return r.XYs[i].Y - r.low[i], r.high[i] - r.XYs[i].Y
}

// speedSeries are the tables the chart draws: the largest MaxSpeedSeries.
func speedSeries(s engine.Speed) []engine.SpeedTable {
	tables := append([]engine.SpeedTable(nil), s.Tables...)
	if len(tables) <= MaxSpeedSeries {
		return tables
	}
	// Keep the order the answer lists them in, dropping the smallest.
	for len(tables) > MaxSpeedSeries {
		small := 0
		for i, t := range tables {
			if t.Leads < tables[small].Leads {
				small = i
			}
		}
		tables = append(tables[:small], tables[small+1:]...)
	}
	return tables
}

func drawSpeedRates(dc draw.Canvas, s engine.Speed, title string, rate func(engine.SpeedCell) engine.Rate) error {
	p := newPlot(title)
	p.X.Label.Text = "Time to first touch (business time)"
	p.Y.Label.Text = "Share of leads"
	series := speedSeries(s)
	p.X.Min, p.X.Max = -0.5, float64(len(engine.SpeedBandLabels))-0.5
	p.Y.Min, p.Y.Max = 0, 0.1
	var ticks []plot.Tick
	for i, l := range engine.SpeedBandLabels {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: l})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Tick.Label = textStyle(sizeTick-4, false, colorSubtle)
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XCenter, draw.YTop
	p.Y.Tick.Marker = percentTicks{}
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Transparent
	grid.Horizontal.Color = colorGrid
	p.Add(grid)
	drawn := 0
	for si, t := range series {
		bars := rateBars{}
		offset := (float64(si) - float64(len(series)-1)/2) * 0.12
		for _, c := range t.Cells {
			if c.TooFew {
				continue
			}
			r := rate(c)
			bars.XYs = append(bars.XYs, plotter.XY{X: float64(c.Band) + offset, Y: r.Share})
			bars.low, bars.high = append(bars.low, r.Low), append(bars.high, r.High)
			p.Y.Max = max(p.Y.Max, r.High*1.1)
		}
		if len(bars.XYs) == 0 {
			continue
		}
		col := seriesColors[si%len(seriesColors)]
		eb, err := plotter.NewYErrorBars(bars)
		if err != nil {
			return err
		}
		eb.LineStyle.Color, eb.LineStyle.Width, eb.CapWidth = col, 3, 12
		dots, err := plotter.NewScatter(bars.XYs)
		if err != nil {
			return err
		}
		dots.GlyphStyle = draw.GlyphStyle{Color: col, Radius: 7, Shape: draw.CircleGlyph{}}
		p.Add(eb, dots)
		name := t.Rule
		if name == "" {
			name = "all leads"
		}
		p.Legend.Add(name, dots)
		drawn++
	}
	p.Y.Max = min(p.Y.Max, 1)
	if drawn == 0 {
		st := textStyle(sizeTitle, false, colorSubtle)
		st.XAlign, st.YAlign = draw.XCenter, draw.YCenter
		p.Draw(dc)
		dc.FillText(st, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: (dc.Min.Y + dc.Max.Y) / 2},
			fmt.Sprintf("No band has %d leads yet", engine.MinLeadsToJudge))
		return nil
	}
	p.Legend.Top, p.Legend.Left = true, false
	p.Legend.XOffs, p.Legend.YOffs = -8, -8
	p.Draw(dc)
	return nil
}

// percentTicks marks shares as whole percentages.
type percentTicks struct{}

func (percentTicks) Ticks(min, max float64) []plot.Tick {
	// Steps of whole percentages: 1, 2, 5, 10, 20…
	step := niceStep((max-min)*100/5) / 100
	var ts []plot.Tick
	for v := 0.0; v <= max+1e-9; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: fmt.Sprintf("%.0f%%", v*100)})
	}
	return ts
}
