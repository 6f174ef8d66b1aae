package reports

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// runStyle is how one run of a comparison is drawn: the base solid, the
// new run dashed, so the two read apart in colour, in grey and for the
// colour-blind; colour says which series a line is.
type runStyle struct {
	label string
	dash  []vg.Length
	width float64
	// alpha fades the base's wider line, so where the runs agree the new
	// run's dashes show on top of it.
	alpha uint8
}

// tint applies the style's alpha to a colour.
func (st runStyle) tint(c color.Color) color.Color {
	if st.alpha == 0 || st.alpha == 0xFF {
		return c
	}
	r, g, b, _ := c.RGBA()
	return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), st.alpha}
}

var (
	baseDash = []vg.Length(nil)
	newDash  = []vg.Length{7, 4}
)

// lineThumb is a legend thumbnail of a line style.
type lineThumb struct {
	color color.Color
	dash  []vg.Length
	width float64
}

// Thumbnail implements plot.Thumbnailer.
func (l lineThumb) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(draw.LineStyle{Color: l.color, Width: vg.Points(l.width), Dashes: l.dash}, c.Min.X, y, c.Max.X, y)
}

// compareSeries is one run bucketed on the comparison's shared axis.
type compareSeries struct {
	rec   *Recording
	s     *series
	style runStyle
}

// legendLabel shortens a run label for the legend column.
func legendLabel(s string) string {
	r := []rune(s)
	if len(r) > 22 {
		return string(r[:21]) + "…"
	}
	return s
}

// addRunKey adds the two runs' line styles to a panel's legend.
func addRunKey(lg *plot.Legend, runs []compareSeries) {
	for _, cs := range runs {
		lg.Add(legendLabel(cs.style.label), lineThumb{color: cs.style.tint(oiBlack), dash: cs.style.dash, width: cs.style.width})
	}
}

// addBucketLine adds a polyline of per-bucket values (NaN breaks it) to p.
func addBucketLine(p *plot.Plot, s *series, vals []float64, col color.Color, st runStyle, floor float64) {
	for _, seg := range s.segments(func(b int) bool { return !math.IsNaN(vals[b]) }) {
		var pts plotter.XYs
		for b := seg[0]; b < seg[1]; b++ {
			x0, x1 := s.bucketX(b)
			pts = append(pts, plotter.XY{X: (x0 + x1) / 2, Y: max(vals[b], floor)})
		}
		if len(pts) == 1 {
			// a lone bucket: draw it across its width so it shows
			x0, x1 := s.bucketX(seg[0])
			pts = plotter.XYs{{X: x0, Y: pts[0].Y}, {X: x1, Y: pts[0].Y}}
		}
		ln, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		ln.Color, ln.Width, ln.Dashes = st.tint(col), vg.Points(st.width), st.dash
		p.Add(ln)
	}
}

func (c *Comparison) compareBreakerChart(runs []compareSeries) chart {
	s0 := runs[0].s
	p := newPlot("Breaker state")
	s0.timeAxis(p, false)
	p.Y.Label.Text = "breaker state"
	p.Y.Min, p.Y.Max = -0.35, 2.45
	p.Y.Tick.Marker = stateTicks()
	p.Add(runs[0].rec.phaseBands(s0))
	lg := newLegend()
	cols := []color.Color{oiBlack, oiBlue}
	for i, cs := range runs {
		r := cs.rec
		col := cols[i%len(cols)]
		label := legendLabel(cs.style.label)
		if r.Scenario != nil && !r.Scenario.Breaker.Enabled {
			lg.Add(label+": no breaker", lineThumb{color: cs.style.tint(col), dash: cs.style.dash, width: cs.style.width})
			continue
		}
		off := (float64(i) - 0.5) * 0.1
		names := r.Header.Breakers
		if len(names) == 0 {
			names = []string{""}
		}
		for _, name := range names {
			pts := plotter.XYs{{X: 0, Y: off}}
			for _, tr := range r.transitions {
				if name != "" && tr.Breaker != name {
					continue
				}
				if st := stateIndex(tr.To); st != stUnknown {
					pts = append(pts, plotter.XY{X: s0.unit.x(tr.T), Y: float64(st) + off})
				}
			}
			pts = append(pts, plotter.XY{X: s0.unit.x(r.Duration()), Y: pts[len(pts)-1].Y})
			ln, err := plotter.NewLine(pts)
			if err != nil {
				continue
			}
			ln.StepStyle = plotter.PostStep
			ln.Color, ln.Width, ln.Dashes = cs.style.tint(col), vg.Points(cs.style.width), cs.style.dash
			p.Add(ln)
		}
		lg.Add(label, lineThumb{color: cs.style.tint(col), dash: cs.style.dash, width: cs.style.width})
	}
	p.Add(runs[0].rec.phaseLabels(s0))
	return chart{p: p, legend: lg}
}

// outcome groups drawn as lines in the comparison.
var compareOutcomes = []struct {
	name  string
	color color.Color
	of    []uint8
}{
	{"upstream answer", oiGreen, []uint8{ocUpstream}},
	{"fallback (cache, excerpts)", oiBlue, []uint8{ocCache, ocExcerpts}},
	{"unavailable (503)", oiOrange, []uint8{ocUnavailable}},
	{"error, bad response", oiVermilion, []uint8{ocError, ocBadResponse}},
}

func (c *Comparison) compareOutcomesChart(runs []compareSeries) chart {
	s0 := runs[0].s
	p := newPlot("What users got: share of requests by outcome, per " + bucketLabel(s0.width))
	s0.timeAxis(p, false)
	p.Y.Label.Text = "share of requests (%)"
	p.Y.Min, p.Y.Max = -2, 102
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 25, Label: "25"}, {Value: 50, Label: "50"}, {Value: 75, Label: "75"}, {Value: 100, Label: "100"}}
	p.Add(runs[0].rec.phaseBands(s0))
	lg := newLegend()
	for _, g := range compareOutcomes {
		// An outcome no request of either run got is left out, so the
		// lines at 0% are the ones that mean something.
		any := false
		vals := make([][]float64, len(runs))
		for i, cs := range runs {
			s := cs.s
			vals[i] = nanSlice(s.n)
			for b := 0; b < s.n; b++ {
				if s.reqs[b] == 0 {
					continue
				}
				var k int64
				for _, o := range g.of {
					k += s.byOut[b][o]
				}
				vals[i][b] = 100 * float64(k) / float64(s.reqs[b])
				any = any || k > 0
			}
		}
		if !any {
			continue
		}
		for i, cs := range runs {
			addBucketLine(p, cs.s, vals[i], g.color, cs.style, math.Inf(-1))
		}
		lg.Add(g.name, swatch{g.color})
	}
	addRunKey(&lg, runs)
	p.Add(runs[0].rec.phaseLabels(s0))
	return chart{p: p, legend: lg}
}

func (c *Comparison) compareLatencyChart(runs []compareSeries) chart {
	s0 := runs[0].s
	p := newPlot("Latency per " + bucketLabel(s0.width))
	s0.timeAxis(p, false)
	p.Y.Label.Text = "latency (ms, log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	p.Add(runs[0].rec.phaseBands(s0))
	lg := newLegend()
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, cs := range runs {
		for _, vs := range [][]float64{cs.s.p50, cs.s.p99} {
			for _, v := range vs {
				if !math.IsNaN(v) {
					v = max(v, minLatencyMs)
					lo, hi = min(lo, v), max(hi, v)
				}
			}
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1, 1000
	}
	p.Y.Min, p.Y.Max = lo/1.6, hi*3
	for _, l := range []struct {
		name  string
		color color.Color
		vals  func(*series) []float64
	}{
		{"p50", oiBlue, func(s *series) []float64 { return s.p50 }},
		{"p99", oiVermilion, func(s *series) []float64 { return s.p99 }},
	} {
		for _, cs := range runs {
			addBucketLine(p, cs.s, l.vals(cs.s), l.color, cs.style, minLatencyMs)
		}
		lg.Add(l.name, swatch{l.color})
	}
	addRunKey(&lg, runs)
	p.Add(runs[0].rec.phaseLabels(s0))
	return chart{p: p, legend: lg}
}

func (c *Comparison) compareUpstreamChart(runs []compareSeries) chart {
	s0 := runs[0].s
	p := newPlot("Upstream calls per second")
	s0.timeAxis(p, true)
	p.Y.Label.Text = "upstream calls per second"
	p.Add(runs[0].rec.phaseBands(s0))
	lg := newLegend()
	hi := 0.0
	for _, l := range []struct {
		name  string
		color color.Color
		count func(s *series, b int) int64
	}{
		{"all calls", oiGreen, func(s *series, b int) int64 { return s.okCall[b] + s.badCal[b] }},
		{"failed calls", oiVermilion, func(s *series, b int) int64 { return s.badCal[b] }},
	} {
		for _, cs := range runs {
			s := cs.s
			vals := make([]float64, s.n)
			for b := range vals {
				vals[b] = float64(l.count(s, b)) / s.bucketSeconds(b)
				hi = max(hi, vals[b])
			}
			addBucketLine(p, s, vals, l.color, cs.style, math.Inf(-1))
		}
		lg.Add(l.name, swatch{l.color})
	}
	p.Y.Min, p.Y.Max = 0, max(hi*1.15, 1)
	addRunKey(&lg, runs)
	p.Add(runs[0].rec.phaseLabels(s0))
	return chart{p: p, legend: lg}
}

// png draws compare.png: the dashboard's four panels with both runs on one
// scenario-time axis, the base solid and the new run dashed.
func (c *Comparison) png() ([]byte, error) {
	end := max(c.Base.rec.Duration(), c.New.rec.Duration())
	runs := []compareSeries{
		{rec: c.Base.rec, s: c.Base.rec.seriesOver(end), style: runStyle{label: c.Base.Label, dash: baseDash, width: 3.4, alpha: 0x8C}},
		{rec: c.New.rec, s: c.New.rec.seriesOver(end), style: runStyle{label: c.New.Label, dash: newDash, width: 1.8}},
	}
	charts := []chart{
		c.compareBreakerChart(runs),
		c.compareOutcomesChart(runs),
		c.compareLatencyChart(runs),
		c.compareUpstreamChart(runs),
	}
	scenario := c.Base.Summary.Scenario
	if n := c.New.Summary.Scenario; n != scenario {
		scenario += " vs " + n
	}
	title1 := scenario + ": " + c.Base.Label + " (solid) vs " + c.New.Label + " (dashed)"
	_, set1 := c.Base.rec.dashboardTitle(&Report{})
	_, set2 := c.New.rec.dashboardTitle(&Report{})
	lines := []string{
		"solid  " + c.Base.Label + " · " + c.Base.Summary.Verdict + " · " + set1,
		"dashed  " + c.New.Label + " · " + c.New.Summary.Verdict + " · " + set2,
	}
	return stackedPNG(title1, lines, charts)
}
