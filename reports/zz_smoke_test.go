package reports

import (
	"math"
	"os"
	"testing"
)

func TestZZSmoke(t *testing.T) {
	dir := os.Getenv("REPORTS_OUT")
	if dir == "" {
		t.Skip()
	}
	synthRun(t, dir, 1, 1)
	rep, err := Render(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep.WriteTable(os.Stdout)
}

func TestZZHeatmap(t *testing.T) {
	dir := os.Getenv("REPORTS_OUT")
	if dir == "" {
		t.Skip()
	}
	f, _ := os.Create(dir + "/heat.png")
	nan := math.NaN()
	err := HeatmapWith(f, HeatmapSpec{Title: "availability (1 − unavailable_ratio)", RowLabel: "fail threshold", ColLabel: "reset timeout",
		Rows: []string{"3", "5", "10", "20"}, Cols: []string{"5s", "15s", "30s", "60s"},
		Values: [][]float64{{0.99, 0.98, 0.97, 0.9}, {0.995, 0.99, nan, 0.95}, {0.9, 0.8, 0.7, 0.6}, {0.5, 0.4, 0.3, 0.2}},
		Format: func(v float64) string { return formatPercent(v) }, HigherIsBetter: true})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	f, _ = os.Create(dir + "/pf.png")
	err = PassFailMapWith(f, "thresholds", "fail threshold", "reset timeout", []string{"3", "5"}, []string{"5s", "15s", "30s"},
		[][]PassFailCell{{{Runs: 1, Passed: 1}, {Runs: 3, Passed: 2, Note: "time_to_close{phase:recovery} < 70s"}, {Runs: 1}}, {{}, {Runs: 2, Passed: 2}, {Runs: 1, Passed: 0, Note: "latency_p99"}}})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
}

func BenchmarkZZSmallRender(b *testing.B) {
	dir := b.TempDir()
	synthRun(b, dir, 0.5, 1)
	for b.Loop() {
		if _, err := Render(dir, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
