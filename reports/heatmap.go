package reports

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// HeatmapSpec describes one heatmap of a sweep: a value per cell of a grid
// of settings, each cell coloured by how good its value is and labelled
// with the value.
type HeatmapSpec struct {
	// Title is drawn above the grid.
	Title string
	// RowLabel and ColLabel name what the rows and columns vary, e.g.
	// "fail threshold" and "reset timeout"; empty leaves them unnamed.
	RowLabel, ColLabel string
	// Rows and Cols label the rows (top to bottom) and columns.
	Rows, Cols []string
	// Values[i][j] is the value of row i, column j; NaN is a cell with no
	// value, drawn grey with "n/a".
	Values [][]float64
	// Format writes a value into its cell; nil uses %g.
	Format func(float64) string
	// HigherIsBetter colours high values as good; otherwise low ones are.
	HigherIsBetter bool
}

// Heatmap writes a PNG heatmap of spec.Values (rows × cols) with the value
// written in every cell, NaN cells shown as "n/a". Colours run from dark
// purple (worst) to yellow (best) along the viridis scale, which stays
// readable for colour-blind readers and in greyscale; spec.HigherIsBetter
// says which end is best.
func Heatmap(w io.Writer, spec HeatmapSpec) error {
	if err := checkGrid(spec.Rows, spec.Cols, len(spec.Values), func(i int) int { return len(spec.Values[i]) }); err != nil {
		return err
	}
	format := spec.Format
	if format == nil {
		format = func(v float64) string { return fmt.Sprintf("%g", v) }
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, row := range spec.Values {
		for _, v := range row {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	cells := make([][]gridCell, len(spec.Rows))
	for i, row := range spec.Values {
		cells[i] = make([]gridCell, len(spec.Cols))
		for j, v := range row {
			if math.IsNaN(v) {
				cells[i][j] = gridCell{fill: color.Gray{0xD9}, text: "n/a"}
				continue
			}
			t := 0.5
			if hi > lo {
				t = (v - lo) / (hi - lo)
			}
			if math.IsInf(v, 0) {
				t = 0
				if v > 0 {
					t = 1
				}
			}
			if !spec.HigherIsBetter {
				t = 1 - t
			}
			cells[i][j] = gridCell{fill: viridis(t), text: format(v)}
		}
	}
	better := "lower is better"
	if spec.HigherIsBetter {
		better = "higher is better"
	}
	legend := []legendKey{{viridis(0), "worst"}, {viridis(0.5), ""}, {viridis(1), "best (" + better + ")"}}
	return drawGrid(w, spec.Title, spec.RowLabel, spec.ColLabel, spec.Rows, spec.Cols, cells, legend)
}

// PassFailCell is one cell of a pass/fail map: how many runs (seeds) of a
// setting were played and how many passed every threshold.
type PassFailCell struct {
	// Runs is the number of runs; 0 is a cell with no result ("n/a").
	Runs int
	// Passed is how many of them passed every threshold.
	Passed int
	// Note is an optional second line, e.g. the threshold that failed.
	Note string
}

// PassFailMap writes a PNG grid of the scenario's verdicts per setting:
// green where every run passed, vermilion where every run failed, orange
// where some did, grey where there is no result. rowLabel and colLabel name
// what the rows and columns vary; empty leaves them unnamed.
func PassFailMap(w io.Writer, title, rowLabel, colLabel string, rows, cols []string, cells [][]PassFailCell) error {
	if err := checkGrid(rows, cols, len(cells), func(i int) int { return len(cells[i]) }); err != nil {
		return err
	}
	gc := make([][]gridCell, len(rows))
	for i, row := range cells {
		gc[i] = make([]gridCell, len(cols))
		for j, c := range row {
			var g gridCell
			switch {
			case c.Runs <= 0:
				g = gridCell{fill: color.Gray{0xD9}, text: "n/a"}
			case c.Passed >= c.Runs:
				g = gridCell{fill: oiGreen, text: "pass"}
			case c.Passed <= 0:
				g = gridCell{fill: oiVermilion, text: "fail"}
			default:
				g = gridCell{fill: oiOrange, text: "mixed"}
			}
			if c.Runs > 1 {
				g.text = fmt.Sprintf("%s (%d/%d)", g.text, c.Passed, c.Runs)
			}
			g.note = c.Note
			gc[i][j] = g
		}
	}
	legend := []legendKey{{oiGreen, "every run passed"}, {oiOrange, "some runs passed"}, {oiVermilion, "every run failed"}}
	return drawGrid(w, title, rowLabel, colLabel, rows, cols, gc, legend)
}

func checkGrid(rows, cols []string, n int, rowLen func(int) int) error {
	if len(rows) == 0 || len(cols) == 0 {
		return errors.New("reports: heatmap: no rows or no columns")
	}
	if n != len(rows) {
		return fmt.Errorf("reports: heatmap: %d rows of values for %d row labels", n, len(rows))
	}
	for i := range n {
		if rowLen(i) != len(cols) {
			return fmt.Errorf("reports: heatmap: row %d has %d values for %d columns", i, rowLen(i), len(cols))
		}
	}
	return nil
}

type gridCell struct {
	fill       color.Color
	text, note string
}

type legendKey struct {
	color color.Color
	text  string
}

// drawGrid draws a titled grid of coloured, labelled cells as a PNG.
func drawGrid(w io.Writer, title, rowLabel, colLabel string, rows, cols []string, cells [][]gridCell, legend []legendKey) error {
	const (
		widthPx = 1600
		cellHPx = 110
		topPx   = 150 // title, column axis name, column labels
		botPx   = 80  // legend
	)
	rowStyle := textStyle(sansFont, 14, color.Black)
	leftPt := vg.Length(40)
	for _, r := range rows {
		leftPt = max(leftPt, rowStyle.Rectangle(r).Max.X+16)
	}
	if rowLabel != "" {
		leftPt += 30
	}
	heightPx := float64(topPx + botPx + cellHPx*len(rows))
	b, err := encodePNG(widthPx, heightPx, func(c draw.Canvas) {
		gridLeft := c.Min.X + leftPt + 10
		gridRight := c.Max.X - 20
		gridTop := c.Max.Y - px(topPx)
		cellW := (gridRight - gridLeft) / vg.Length(len(cols))
		cellH := px(cellHPx)

		t := textStyle(boldFont, 18, color.Black)
		t.XAlign, t.YAlign = draw.XCenter, draw.YTop
		mid := (gridLeft + gridRight) / 2
		c.FillText(t, vg.Point{X: mid, Y: c.Max.Y - 10}, title)
		if colLabel != "" {
			a := textStyle(sansFont, 14, color.Gray{0x33})
			a.XAlign, a.YAlign = draw.XCenter, draw.YTop
			c.FillText(a, vg.Point{X: mid, Y: c.Max.Y - 48}, colLabel)
		}
		if rowLabel != "" {
			a := textStyle(sansFont, 14, color.Gray{0x33})
			a.XAlign, a.YAlign = draw.XCenter, draw.YTop
			a.Rotation = math.Pi / 2
			c.FillText(a, vg.Point{X: c.Min.X + 8, Y: gridTop - cellH*vg.Length(len(rows))/2}, rowLabel)
		}
		cl := textStyle(boldFont, 14, color.Black)
		cl.XAlign, cl.YAlign = draw.XCenter, draw.YBottom
		for j, name := range cols {
			c.FillText(cl, vg.Point{X: gridLeft + cellW*(vg.Length(j)+0.5), Y: gridTop + 8}, name)
		}
		rl := rowStyle
		rl.Font = textStyle(boldFont, 14, color.Black).Font
		rl.XAlign, rl.YAlign = draw.XRight, draw.YCenter
		for i, name := range rows {
			c.FillText(rl, vg.Point{X: gridLeft - 10, Y: gridTop - cellH*(vg.Length(i)+0.5)}, name)
		}
		for i, row := range cells {
			for j, cell := range row {
				x0, x1 := gridLeft+cellW*vg.Length(j), gridLeft+cellW*vg.Length(j+1)
				y1, y0 := gridTop-cellH*vg.Length(i), gridTop-cellH*vg.Length(i+1)
				c.FillPolygon(cell.fill, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
				c.StrokeLines(draw.LineStyle{Color: color.White, Width: 2}, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}, {X: x0, Y: y0}})
				ink := inkFor(cell.fill)
				vs := textStyle(boldFont, 18, ink)
				vs.XAlign, vs.YAlign = draw.XCenter, draw.YCenter
				cy := (y0 + y1) / 2
				if cell.note != "" {
					cy += 9
				}
				c.FillText(fitText(vs, cell.text, x1-x0-8), vg.Point{X: (x0 + x1) / 2, Y: cy}, cell.text)
				if cell.note != "" {
					ns := textStyle(sansFont, 11, ink)
					ns.XAlign, ns.YAlign = draw.XCenter, draw.YCenter
					c.FillText(fitText(ns, cell.note, x1-x0-8), vg.Point{X: (x0 + x1) / 2, Y: cy - 22}, cell.note)
				}
			}
		}
		lx := gridLeft
		ly := c.Min.Y + px(botPx)/2
		ls := textStyle(sansFont, 13, color.Black)
		ls.YAlign = draw.YCenter
		for _, k := range legend {
			c.FillPolygon(k.color, []vg.Point{{X: lx, Y: ly - 8}, {X: lx + 22, Y: ly - 8}, {X: lx + 22, Y: ly + 8}, {X: lx, Y: ly + 8}})
			lx += 28
			if k.text != "" {
				c.FillText(ls, vg.Point{X: lx, Y: ly}, k.text)
				lx += ls.Rectangle(k.text).Max.X + 24
			}
		}
	})
	if err != nil {
		return fmt.Errorf("reports: heatmap: %w", err)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("reports: heatmap: %w", err)
	}
	return nil
}

// fitText shrinks a style's font until s fits in width.
func fitText(sty text.Style, s string, width vg.Length) text.Style {
	for i := 0; i < 8 && sty.Rectangle(s).Max.X > width && sty.Font.Size > 7; i++ {
		sty.Font.Size *= 0.85
	}
	return sty
}

// inkFor picks black or white text for legibility on a fill colour.
func inkFor(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	lum := (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)) / 0xFFFF
	if lum < 0.45 {
		return color.White
	}
	return color.Black
}

// viridisStops sample matplotlib's viridis colour map.
var viridisStops = []color.NRGBA{
	{0x44, 0x01, 0x54, 0xFF}, {0x48, 0x28, 0x78, 0xFF}, {0x3E, 0x4A, 0x89, 0xFF}, {0x31, 0x68, 0x8E, 0xFF},
	{0x26, 0x82, 0x8E, 0xFF}, {0x1F, 0x9E, 0x89, 0xFF}, {0x35, 0xB7, 0x79, 0xFF}, {0x6D, 0xCD, 0x59, 0xFF},
	{0xB4, 0xDE, 0x2C, 0xFF}, {0xFD, 0xE7, 0x25, 0xFF},
}

// viridis maps t in [0,1] onto the viridis scale.
func viridis(t float64) color.Color {
	t = min(max(t, 0), 1)
	f := t * float64(len(viridisStops)-1)
	i := int(f)
	if i >= len(viridisStops)-1 {
		return viridisStops[len(viridisStops)-1]
	}
	a, b := viridisStops[i], viridisStops[i+1]
	k := f - float64(i)
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + k*(float64(y)-float64(x)))) }
	return color.NRGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xFF}
}
