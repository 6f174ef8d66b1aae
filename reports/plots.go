package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"brownout/contract"
	"brownout/recording"
)

// Okabe–Ito palette: distinct for the common forms of colour blindness.
var (
	oiOrange    = color.NRGBA{0xE6, 0x9F, 0x00, 0xFF}
	oiSkyBlue   = color.NRGBA{0x56, 0xB4, 0xE9, 0xFF}
	oiGreen     = color.NRGBA{0x00, 0x9E, 0x73, 0xFF}
	oiBlue      = color.NRGBA{0x00, 0x72, 0xB2, 0xFF}
	oiVermilion = color.NRGBA{0xD5, 0x5E, 0x00, 0xFF}
	oiPurple    = color.NRGBA{0xCC, 0x79, 0xA7, 0xFF}
	oiBlack     = color.NRGBA{0x00, 0x00, 0x00, 0xFF}
)

// outcomeColors follow contract.Outcomes: green for the real answer, blues
// for the fallbacks, orange for 503s, vermilion and purple for errors.
var outcomeColors = [numOutcomes]color.Color{oiGreen, oiSkyBlue, oiBlue, oiOrange, oiVermilion, oiPurple}

// stateColors follow closed, half-open, open.
var stateColors = []color.Color{oiGreen, oiOrange, oiVermilion}

// Image geometry: the PNGs are drawn at 96 dpi, so 1 pt is 4/3 px.
const (
	dpi         = 96
	pxPerPt     = dpi / 72.0
	chartWidth  = 1800 // px
	chartHeight = 640  // px
	dashHeight  = 2200 // px
	legendWidth = 175  // pt reserved right of the plot area
)

func px(n float64) vg.Length { return vg.Length(n / pxPerPt) }

var (
	sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	boldFont = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
)

func textStyle(f font.Font, size vg.Length, c color.Color) text.Style {
	return text.Style{Color: c, Font: font.From(f, size), Handler: plot.DefaultTextHandler}
}

// newPlot returns a plot with the report's fonts and grid.
func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(boldFont, 15)
	p.Title.Padding = 6
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sansFont, 13)
		a.Tick.Label.Font = font.From(sansFont, 11)
		a.Label.Padding = 4
	}
	p.Legend.TextStyle.Font = font.From(sansFont, 12)
	p.Add(&grid{})
	return p
}

// grid draws light vertical and horizontal lines at the major ticks.
type grid struct{}

// Plot implements plot.Plotter.
func (grid) Plot(c draw.Canvas, p *plot.Plot) {
	sty := draw.LineStyle{Color: color.Gray{0xDD}, Width: vg.Points(0.6)}
	x, y := p.Transforms(&c)
	for _, t := range p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max) {
		if t.Label != "" && t.Value >= p.X.Min && t.Value <= p.X.Max {
			c.StrokeLine2(sty, x(t.Value), c.Min.Y, x(t.Value), c.Max.Y)
		}
	}
	for _, t := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
		if t.Label != "" && t.Value >= p.Y.Min && t.Value <= p.Y.Max {
			c.StrokeLine2(sty, c.Min.X, y(t.Value), c.Max.X, y(t.Value))
		}
	}
}

// chart is one panel: a plot and the legend drawn to its right.
type chart struct {
	p      *plot.Plot
	legend plot.Legend
}

func newLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle = textStyle(sansFont, 12, color.Black)
	l.Top, l.Left = true, true
	l.ThumbnailWidth = 18
	l.Padding = 3
	return l
}

// draw draws the chart into c, keeping legendWidth on the right.
func (ch chart) draw(c draw.Canvas) {
	plotArea := draw.Crop(c, 0, -legendWidth, 0, 0)
	ch.p.Draw(plotArea)
	ch.drawLegend(c, plotArea)
}

func (ch chart) drawLegend(c, plotArea draw.Canvas) {
	lc := c
	lc.Min.X = plotArea.Max.X + 14
	lc.Max.Y = plotArea.Max.Y - 30
	ch.legend.Draw(lc)
}

// encodePNG renders draw into a w×h px PNG.
func encodePNG(wpx, hpx float64, drawFn func(draw.Canvas)) ([]byte, error) {
	img := vgimg.NewWith(vgimg.UseWH(px(wpx), px(hpx)), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	drawFn(draw.New(img))
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, img.Image()); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// timeAxis sets the shared scenario-time axis.
func (s *series) timeAxis(p *plot.Plot, label bool) {
	p.X.Min, p.X.Max = 0, s.unit.x(s.end)
	p.X.Tick.Marker = timeTicks{}
	if label {
		p.X.Label.Text = "scenario time (" + s.unit.name + ")"
	}
}

// phaseBands shades every other phase and labels each phase at the top of
// the panel, so all panels show the same timeline.
type phaseBands struct {
	phases []recording.PhaseSpan
	unit   timeUnit
	end    time.Duration
	labels bool // draw the names (added last, above the data) instead of the shading
}

// Plot implements plot.Plotter.
func (pb phaseBands) Plot(c draw.Canvas, p *plot.Plot) {
	x, _ := p.Transforms(&c)
	label := textStyle(boldFont, 11, color.Gray{0x44})
	label.XAlign, label.YAlign = draw.XLeft, draw.YTop
	for i, ph := range pb.phases {
		x0, x1 := x(pb.unit.x(ph.Start)), x(pb.unit.x(min(ph.End, pb.end)))
		x0, x1 = max(x0, c.Min.X), min(x1, c.Max.X)
		if x1 <= x0 {
			continue
		}
		if !pb.labels {
			if i%2 == 1 {
				c.FillPolygon(color.NRGBA{0, 0, 0, 0x12}, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
			}
			continue
		}
		if i > 0 {
			c.StrokeLine2(draw.LineStyle{Color: color.Gray{0x77}, Width: vg.Points(0.8), Dashes: []vg.Length{4, 3}}, x0, c.Min.Y, x0, c.Max.Y)
		}
		name := ph.Name
		if w := label.Rectangle(name).Max.X; w > x1-x0-6 {
			continue // no room to label a very short phase
		}
		r := label.Rectangle(name)
		h := label.FontExtents().Height
		bx0, by1 := x0+2, c.Max.Y-2
		c.FillPolygon(color.NRGBA{0xFF, 0xFF, 0xFF, 0xD0}, []vg.Point{{X: bx0, Y: by1 - h - 2}, {X: bx0 + r.Max.X + 6, Y: by1 - h - 2}, {X: bx0 + r.Max.X + 6, Y: by1}, {X: bx0, Y: by1}})
		c.FillText(label, vg.Point{X: x0 + 5, Y: c.Max.Y - 3}, name)
	}
}

// timeTicks labels the time axis at a round step giving at most about 12
// labels, with unlabelled minor ticks between.
type timeTicks struct{}

// Ticks implements plot.Ticker.
func (timeTicks) Ticks(lo, hi float64) []plot.Tick {
	span := hi - lo
	if span <= 0 || math.IsInf(span, 0) || math.IsNaN(span) {
		return nil
	}
	step := 0.0
	for _, base := range []float64{1, 2, 5, 10, 15, 20, 30, 60} {
		for e := -3.0; e <= 6; e++ {
			cand := base * math.Pow(10, e)
			if base > 10 && e != 0 {
				continue
			}
			if span/cand <= 12 && (step == 0 || cand < step) {
				step = cand
			}
		}
	}
	minor := step / 5
	if step == 15 || step == 30 || step == 60 {
		minor = step / 3
	}
	var out []plot.Tick
	first := math.Ceil(lo/minor-1e-9) * minor
	for i := 0; i < 1000; i++ {
		v := first + float64(i)*minor
		if v > hi+1e-9 {
			break
		}
		label := ""
		if k := v / step; math.Abs(k-math.Round(k)) < 1e-6 {
			label = trimFloat(v, 3)
		}
		out = append(out, plot.Tick{Value: v, Label: label})
	}
	return out
}

func (r *Recording) phaseBands(s *series) phaseBands {
	return phaseBands{phases: r.Header.Phases, unit: s.unit, end: s.end}
}

// phaseLabels draws the phase separators and names above the data.
func (r *Recording) phaseLabels(s *series) phaseBands {
	pb := r.phaseBands(s)
	pb.labels = true
	return pb
}

// spanBands shades spans of time across the whole panel height.
type spanBands struct {
	spans []span
	unit  timeUnit
	color color.Color
}

// Plot implements plot.Plotter.
func (sb spanBands) Plot(c draw.Canvas, p *plot.Plot) {
	x, _ := p.Transforms(&c)
	for _, s := range sb.spans {
		x0 := max(x(sb.unit.x(time.Duration(s.from))), c.Min.X)
		x1 := min(x(sb.unit.x(time.Duration(s.to))), c.Max.X)
		if x1 <= x0 {
			continue
		}
		c.FillPolygon(sb.color, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
	}
}

// swatch is a filled legend thumbnail.
type swatch struct{ color color.Color }

// Thumbnail implements plot.Thumbnailer.
func (s swatch) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	inset := (r.Max.Y - r.Min.Y) * 0.1
	c.FillPolygon(s.color, []vg.Point{{X: r.Min.X, Y: r.Min.Y + inset}, {X: r.Max.X, Y: r.Min.Y + inset}, {X: r.Max.X, Y: r.Max.Y - inset}, {X: r.Min.X, Y: r.Max.Y - inset}})
}

var openShade = color.NRGBA{0xD5, 0x5E, 0x00, 0x2E}

// ---- breaker panel ----

// stateTicks label a breaker-state axis: closed at 0, half-open at 1, open
// at 2, as stateIndex places them.
func stateTicks() plot.ConstantTicks {
	t := make(plot.ConstantTicks, len(stateNames))
	for i, n := range stateNames {
		t[i] = plot.Tick{Value: float64(i), Label: n.String()}
	}
	return t
}

func (r *Recording) breakerChart(s *series, title string) chart {
	p := newPlot(title)
	s.timeAxis(p, true)
	p.Y.Label.Text = "breaker state"
	p.Y.Min, p.Y.Max = -0.35, 2.45
	p.Y.Tick.Marker = stateTicks()
	p.Add(r.phaseBands(s))
	lg := newLegend()

	names := slices.Clone(r.Header.Breakers)
	for _, tr := range r.transitions {
		if !slices.Contains(names, tr.Breaker) {
			names = append(names, tr.Breaker)
		}
	}
	if len(names) == 0 {
		names = []string{"breaker"}
	}
	if len(names) > maxBreakerLines {
		return r.breakerCountChart(s, p, lg, names)
	}
	dashes := [][]vg.Length{nil, {6, 3}, {2, 2}, {8, 3, 2, 3}}
	lineColors := []color.Color{oiBlack, oiBlue, oiPurple, oiSkyBlue}
	for i, name := range names {
		off := 0.0
		if len(names) > 1 {
			off = (float64(i) - float64(len(names)-1)/2) * 0.12
		}
		pts := plotter.XYs{{X: 0, Y: off}}
		var marks plotter.XYs
		var markColors []color.Color
		for _, tr := range r.transitions {
			if tr.Breaker != name && !(len(r.Header.Breakers) == 0 && len(names) == 1) {
				continue
			}
			st := stateIndex(tr.To)
			if st == stUnknown {
				continue
			}
			xv := s.unit.x(tr.T)
			pts = append(pts, plotter.XY{X: xv, Y: float64(st) + off})
			marks = append(marks, plotter.XY{X: xv, Y: float64(st) + off})
			markColors = append(markColors, stateColors[st])
		}
		pts = append(pts, plotter.XY{X: s.unit.x(s.end), Y: pts[len(pts)-1].Y})
		ln, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		ln.StepStyle = plotter.PostStep
		ln.Color = lineColors[i%len(lineColors)]
		ln.Width = vg.Points(2)
		ln.Dashes = dashes[i%len(dashes)]
		p.Add(ln)
		label := name
		if r.Scenario != nil && !r.Scenario.Breaker.Enabled {
			label += " (disabled)"
		}
		lg.Add(label, ln)
		if len(marks) > 0 {
			sc, err := plotter.NewScatter(marks)
			if err == nil {
				sc.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(3.5), Color: oiBlack}
				sc.GlyphStyleFunc = func(k int) draw.GlyphStyle {
					return draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(3.5), Color: markColors[k]}
				}
				p.Add(sc)
			}
		}
	}
	for st, name := range stateNames {
		lg.Add("→ "+name.String(), glyphThumb{stateColors[st]})
	}
	p.Add(r.phaseLabels(s))
	return chart{p: p, legend: lg}
}

// maxBreakerLines is the most breakers the breaker panel draws a line for;
// with more (replicas), it draws how many are open and half-open over time.
const maxBreakerLines = 4

// breakerCountChart draws, for many breakers (one per replica), how many
// are open and how many half-open at each moment, out of len(names).
func (r *Recording) breakerCountChart(s *series, p *plot.Plot, lg plot.Legend, names []string) chart {
	n := len(names)
	p.Y.Label.Text = "breakers (of " + strconv.Itoa(n) + ")"
	p.Y.Min, p.Y.Max = -0.3, float64(n)+0.5
	p.Y.Tick.Marker = plot.DefaultTicks{}
	counts := stateCounts(r.transitions, names)
	for _, k := range []uint8{stOpen, stHalfOpen} {
		line := plotter.XYs{{X: 0, Y: 0}}
		for _, c := range counts {
			line = append(line, plotter.XY{X: s.unit.x(c.t), Y: float64(c.n[k])})
		}
		line = append(line, plotter.XY{X: s.unit.x(s.end), Y: line[len(line)-1].Y})
		ln, err := plotter.NewLine(line)
		if err != nil {
			continue
		}
		ln.StepStyle = plotter.PostStep
		ln.Color = stateColors[k]
		ln.Width = vg.Points(2)
		p.Add(ln)
		lg.Add(stateNames[k].String(), ln)
	}
	p.Add(r.phaseLabels(s))
	return chart{p: p, legend: lg}
}

// stateCount is how many breakers are in each state (by stateIndex) from t.
type stateCount struct {
	t time.Duration
	n [3]int
}

// stateCounts follows the breakers named in names through their
// transitions (in time order), all closed at first.
func stateCounts(trs []recording.Transition, names []string) []stateCount {
	state := make(map[string]uint8, len(names))
	cur := stateCount{n: [3]int{stClosed: len(names)}}
	var out []stateCount
	for _, tr := range trs {
		st := stateIndex(tr.To)
		if st == stUnknown || !slices.Contains(names, tr.Breaker) {
			continue
		}
		prev, ok := state[tr.Breaker]
		if !ok {
			prev = stClosed
		}
		state[tr.Breaker] = st
		cur.t = tr.T
		cur.n[prev]--
		cur.n[st]++
		out = append(out, cur)
	}
	return out
}

// glyphThumb is a legend thumbnail showing a transition marker.
type glyphThumb struct{ color color.Color }

// Thumbnail implements plot.Thumbnailer.
func (g glyphThumb) Thumbnail(c *draw.Canvas) {
	c.DrawGlyph(draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(3.5), Color: g.color}, c.Center())
}

// ---- outcomes panel ----

func (r *Recording) outcomesChart(s *series, title string) chart {
	p := newPlot(title)
	s.timeAxis(p, true)
	p.Y.Label.Text = "share of requests (%)"
	p.Y.Min, p.Y.Max = 0, 100
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 25, Label: "25"}, {Value: 50, Label: "50"}, {Value: 75, Label: "75"}, {Value: 100, Label: "100"}}
	lg := newLegend()

	// bad_response, a contract violation, gets a legend entry only when
	// some request got one.
	hasBad := slices.ContainsFunc(s.byOut, func(n [numOutcomes]int64) bool { return n[ocBadResponse] > 0 })
	// Stack bottom-up in contract.Outcomes order, one polygon per outcome
	// per run of non-empty buckets, stepwise per bucket.
	for k := range numOutcomes {
		if k == ocBadResponse && !hasBad {
			continue
		}
		col := outcomeColors[k]
		for _, seg := range s.segments(func(b int) bool { return s.reqs[b] > 0 }) {
			var upper, lower plotter.XYs
			for b := seg[0]; b < seg[1]; b++ {
				x0, x1 := s.bucketX(b)
				var below int64
				for j := range k {
					below += s.byOut[b][j]
				}
				lo := 100 * float64(below) / float64(s.reqs[b])
				hi := 100 * float64(below+s.byOut[b][k]) / float64(s.reqs[b])
				lower = append(lower, plotter.XY{X: x0, Y: lo}, plotter.XY{X: x1, Y: lo})
				upper = append(upper, plotter.XY{X: x0, Y: hi}, plotter.XY{X: x1, Y: hi})
			}
			ring := append(upper, reversed(lower)...)
			poly, err := plotter.NewPolygon(ring)
			if err != nil {
				continue
			}
			poly.Color = col
			poly.LineStyle.Width = 0
			p.Add(poly)
		}
		lg.Add(string(contract.Outcomes[k]), swatch{col})
	}
	p.Add(r.phaseLabels(s))
	return chart{p: p, legend: lg}
}

// segments returns the [from, to) runs of consecutive buckets for which
// keep holds.
func (s *series) segments(keep func(b int) bool) [][2]int {
	var out [][2]int
	start := -1
	for b := 0; b <= s.n; b++ {
		if b < s.n && keep(b) {
			if start < 0 {
				start = b
			}
			continue
		}
		if start >= 0 {
			out = append(out, [2]int{start, b})
			start = -1
		}
	}
	return out
}

func reversed(xys plotter.XYs) plotter.XYs {
	out := slices.Clone(xys)
	slices.Reverse(out)
	return out
}

// ---- latency panel ----

func (r *Recording) latencyChart(s *series, title string) chart {
	p := newPlot(title)
	s.timeAxis(p, true)
	p.Y.Label.Text = "latency (ms, log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	p.Add(r.phaseBands(s))
	lg := newLegend()

	lo, hi := math.Inf(1), math.Inf(-1)
	for _, vs := range [][]float64{s.p50, s.p95, s.p99} {
		for _, v := range vs {
			if !math.IsNaN(v) {
				v = max(v, minLatencyMs)
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	var timeout float64
	if r.Scenario != nil && r.Scenario.Breaker.CallTimeout > 0 {
		timeout = time.Duration(r.Scenario.Breaker.CallTimeout).Seconds() * 1000
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1, 1000
	}
	if timeout > 0 {
		hi = max(hi, timeout)
	}
	p.Y.Min, p.Y.Max = lo/1.6, hi*3 // headroom above the timeout line for the phase labels

	for _, l := range []struct {
		name  string
		vals  []float64
		color color.Color
		width float64
		dash  []vg.Length
	}{
		{"p50", s.p50, oiBlue, 1.8, nil},
		{"p95", s.p95, oiOrange, 1.8, nil},
		{"p99", s.p99, oiVermilion, 2.2, nil},
	} {
		var first *plotter.Line
		for _, seg := range s.segments(func(b int) bool { return !math.IsNaN(l.vals[b]) }) {
			var pts plotter.XYs
			for b := seg[0]; b < seg[1]; b++ {
				x0, x1 := s.bucketX(b)
				pts = append(pts, plotter.XY{X: (x0 + x1) / 2, Y: max(l.vals[b], minLatencyMs)})
			}
			ln, err := plotter.NewLine(pts)
			if err != nil {
				continue
			}
			ln.Color, ln.Width, ln.Dashes = l.color, vg.Points(l.width), l.dash
			p.Add(ln)
			if first == nil {
				first = ln
			}
		}
		if first != nil {
			lg.Add(l.name, first)
		}
	}
	if timeout > 0 {
		ref, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: timeout}, {X: p.X.Max, Y: timeout}})
		if err == nil {
			ref.Color, ref.Width, ref.Dashes = oiBlack, vg.Points(1.4), []vg.Length{7, 4}
			p.Add(ref)
			lg.Add("call timeout "+formatSeconds(timeout/1000), ref)
		}
	}
	p.Add(r.phaseLabels(s))
	return chart{p: p, legend: lg}
}

// minLatencyMs is the floor a log axis draws latencies at (1 µs).
const minLatencyMs = 1e-3

// logTicks labels powers of ten and 2× and 5× between them, as ms values.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	if lo <= 0 || hi <= lo {
		return out
	}
	decades := math.Log10(hi / lo)
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		for _, m := range []float64{1, 2, 5} {
			v := base * m
			if v < lo || v > hi {
				continue
			}
			label := ""
			if m == 1 || decades < 3 {
				label = msLabel(v)
			}
			out = append(out, plot.Tick{Value: v, Label: label})
		}
	}
	return out
}

// msLabel writes a tick value in ms without exponents.
func msLabel(v float64) string {
	if v >= 1 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return trimFloat(v, 4)
}

// ---- upstream panel ----

func (r *Recording) upstreamChart(s *series, title string) chart {
	p := newPlot(title)
	s.timeAxis(p, true)
	p.Y.Label.Text = "upstream calls per second"
	p.Add(spanBands{spans: r.open, unit: s.unit, color: openShade})
	p.Add(r.phaseBands(s))
	lg := newLegend()
	hi := 0.0
	for b := 0; b < s.n; b++ {
		hi = max(hi, float64(s.okCall[b]+s.badCal[b])/s.bucketSeconds(b))
	}
	p.Y.Min, p.Y.Max = 0, max(hi*1.15, 1)
	for k, l := range []struct {
		name  string
		color color.Color
	}{{"succeeded", oiGreen}, {"failed (fault or non-2xx)", oiVermilion}} {
		var upper, lower plotter.XYs
		for b := 0; b < s.n; b++ {
			x0, x1 := s.bucketX(b)
			sec := s.bucketSeconds(b)
			ok := float64(s.okCall[b]) / sec
			bad := float64(s.badCal[b]) / sec
			lo, up := 0.0, ok
			if k == 1 {
				lo, up = ok, ok+bad
			}
			lower = append(lower, plotter.XY{X: x0, Y: lo}, plotter.XY{X: x1, Y: lo})
			upper = append(upper, plotter.XY{X: x0, Y: up}, plotter.XY{X: x1, Y: up})
		}
		poly, err := plotter.NewPolygon(append(upper, reversed(lower)...))
		if err != nil {
			continue
		}
		poly.Color = l.color
		poly.LineStyle.Width = 0
		p.Add(poly)
		lg.Add(l.name, swatch{l.color})
	}
	lg.Add("breaker open", swatch{openShade})
	p.Add(r.phaseLabels(s))
	return chart{p: p, legend: lg}
}

// ---- the PNG files ----

func (r *Recording) single(ch chart) ([]byte, error) {
	return encodePNG(chartWidth, chartHeight, func(c draw.Canvas) {
		ch.draw(draw.Crop(c, 6, -6, 6, -6))
	})
}

func (r *Recording) breakerPNG(s *series, _ *Report) ([]byte, error) {
	return r.single(r.breakerChart(s, r.Header.Scenario+": breaker state"))
}

func (r *Recording) outcomesPNG(s *series, _ *Report) ([]byte, error) {
	return r.single(r.outcomesChart(s, r.Header.Scenario+": what users got (share of requests by outcome, per "+bucketLabel(s.width)+")"))
}

func (r *Recording) latencyPNG(s *series, _ *Report) ([]byte, error) {
	return r.single(r.latencyChart(s, r.Header.Scenario+": request latency per "+bucketLabel(s.width)))
}

func (r *Recording) upstreamPNG(s *series, _ *Report) ([]byte, error) {
	return r.single(r.upstreamChart(s, r.Header.Scenario+": load on the upstream (shaded: breaker open)"))
}

// bucketLabel names a bucket width for titles, e.g. "2 s bucket".
func bucketLabel(d time.Duration) string {
	var s string
	switch {
	case d%time.Hour == 0:
		s = strconv.FormatInt(int64(d/time.Hour), 10) + " h"
	case d%time.Minute == 0:
		s = strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	case d%time.Second == 0:
		s = strconv.FormatInt(int64(d/time.Second), 10) + " s"
	default:
		s = strconv.FormatInt(int64(d/time.Millisecond), 10) + " ms"
	}
	return s + " bucket"
}

// dashboardPNG stacks the four panels on one time axis under a title with
// the settings and the verdict.
func (r *Recording) dashboardPNG(s *series, rep *Report) ([]byte, error) {
	charts := []chart{
		r.breakerChart(s, "Breaker state"),
		r.outcomesChart(s, "What users got: share of requests by outcome"),
		r.latencyChart(s, "Latency per "+bucketLabel(s.width)),
		r.upstreamChart(s, "Upstream calls per second (shaded: breaker open)"),
	}
	for i := range charts[:len(charts)-1] {
		charts[i].p.X.Label.Text = ""
	}
	title1, title2 := r.dashboardTitle(rep)
	return stackedPNG(title1, []string{title2}, charts)
}

// stackedPNG draws panels stacked on one aligned time axis, each with its
// legend on the right, under a bold title and one centred line per
// subtitle: the dashboard and the comparison share it.
func stackedPNG(title string, subtitles []string, charts []chart) ([]byte, error) {
	return encodePNG(chartWidth, dashHeight, func(c draw.Canvas) {
		c = draw.Crop(c, 6, -6, 6, -6)
		t1 := textStyle(boldFont, 20, color.Black)
		t1.XAlign, t1.YAlign = draw.XCenter, draw.YTop
		mid := (c.Min.X + c.Max.X) / 2
		c.FillText(t1, vg.Point{X: mid, Y: c.Max.Y - 4}, title)
		t2 := textStyle(sansFont, 13, color.Gray{0x33})
		t2.XAlign, t2.YAlign = draw.XCenter, draw.YTop
		for i, line := range subtitles {
			c.FillText(t2, vg.Point{X: mid, Y: c.Max.Y - 34 - vg.Length(18*i)}, line)
		}

		top := 70 + vg.Length(18*max(len(subtitles)-1, 0))
		body := draw.Crop(c, 0, -legendWidth, 0, -top)
		plots := make([][]*plot.Plot, len(charts))
		for i, ch := range charts {
			plots[i] = []*plot.Plot{ch.p}
		}
		tiles := draw.Tiles{Rows: len(charts), Cols: 1, PadY: 14}
		cs := plot.Align(plots, tiles, body)
		for i, ch := range charts {
			ch.p.Draw(cs[i][0])
			full := cs[i][0]
			full.Max.X = c.Max.X
			ch.drawLegend(full, cs[i][0])
		}
	})
}

// dashboardTitle returns the dashboard's headline (scenario and verdict)
// and its settings line.
func (r *Recording) dashboardTitle(rep *Report) (string, string) {
	h := r.Header
	var verdict string
	failed := rep.failed()
	switch {
	case len(rep.Incomplete) > 0:
		verdict = "INCOMPLETE RECORDING (no pass)"
	case len(rep.Verdicts) == 0:
		verdict = "no thresholds"
	case failed > 0:
		verdict = fmt.Sprintf("FAIL (%d of %d thresholds failed)", failed, len(rep.Verdicts))
	default:
		verdict = fmt.Sprintf("PASS (%d of %d thresholds)", len(rep.Verdicts), len(rep.Verdicts))
	}
	if h.Interrupted {
		verdict += " · INTERRUPTED"
	}
	if len(rep.Shortfalls) > 0 {
		verdict += " · LOAD SHORT"
	}
	title1 := h.Scenario + " · " + verdict
	var parts []string
	if sc := r.Scenario; sc != nil {
		b := sc.Breaker
		switch {
		case !b.Enabled:
			parts = append(parts, "breaker disabled")
		case b.Policy == "ratio":
			parts = append(parts, fmt.Sprintf("policy ratio (trip at %s failures of ≥ %d requests)", formatPercent(float64(b.FailureRatio)), b.MinRequests))
		default:
			parts = append(parts, fmt.Sprintf("policy %s, fail threshold %d", b.Policy, b.FailThreshold))
		}
		if b.Enabled {
			parts = append(parts,
				"reset timeout "+formatSeconds(time.Duration(b.ResetTimeout).Seconds()),
				fmt.Sprintf("half-open max %d", b.HalfOpenMaxRequests),
				"call timeout "+formatSeconds(time.Duration(b.CallTimeout).Seconds()))
		}
	}
	parts = append(parts, "time scale "+trimFloat(h.TimeScale, 2)+"×", fmt.Sprintf("seed %d", h.Seed))
	return title1, strings.Join(parts, " · ")
}
