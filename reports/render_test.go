package reports

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gonum.org/v1/plot/cmpimg"

	"brownout/contract"
	"brownout/recording"
	"brownout/scenarios"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// renderSynth writes a small synthetic hard-outage run and renders it.
func renderSynth(t *testing.T, opts Options) (string, *Report) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	synthRun(t, dir, 0.5, 1)
	rep, err := Render(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return dir, rep
}

var shared struct {
	once sync.Once
	dir  string
	rep  *Report
	err  error
}

// sharedRender renders one synthetic run for the tests that only read its
// outputs, so the package's tests render it once.
func sharedRender(t *testing.T) (string, *Report) {
	t.Helper()
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "reports-test-")
		if err != nil {
			shared.err = err
			return
		}
		shared.dir = filepath.Join(dir, "run")
		synthRun(t, shared.dir, 0.5, 1)
		shared.rep, shared.err = Render(shared.dir, Options{})
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.dir, shared.rep
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(filepath.Dir(shared.dir))
	}
	os.Exit(code)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run with -update after checking the change):\n%s", name, path, firstDiff(string(got), string(want)))
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return "(binary or trailing difference)"
}

func TestRenderGolden(t *testing.T) {
	dir, rep := sharedRender(t)
	if !rep.Passed || rep.Interrupted {
		t.Errorf("Passed = %v, Interrupted = %v; want true, false", rep.Passed, rep.Interrupted)
	}
	wantFiles := []string{DashboardFile, BreakerFile, OutcomesFile, LatencyFile, UpstreamFile, SummaryFile, MarkdownFile, JUnitFile}
	if len(rep.Files) != len(wantFiles) {
		t.Fatalf("Files = %v", rep.Files)
	}
	for i, f := range wantFiles {
		if rep.Files[i] != filepath.Join(dir, f) {
			t.Errorf("Files[%d] = %s, want %s", i, rep.Files[i], filepath.Join(dir, f))
		}
	}
	for _, name := range []string{SummaryFile, MarkdownFile, JUnitFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name, b)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	golden(t, "table.txt", table.Bytes())
}

// TestRenderIsDeterministic renders the same run twice: every file,
// images included, must come out byte-identical.
func TestRenderIsDeterministic(t *testing.T) {
	dir, rep := renderSynth(t, Options{})
	first := map[string][]byte{}
	for _, f := range rep.Files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		first[f] = b
	}
	if _, err := Render(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	for f, b := range first {
		again, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, again) {
			t.Errorf("%s changed between two renders of the same run", filepath.Base(f))
		}
	}
}

// TestPNGs decodes every plot and checks it is wide enough and carries a
// real picture: enough ink and enough distinct colours.
func TestPNGs(t *testing.T) {
	dir, _ := sharedRender(t)
	for _, name := range []string{DashboardFile, BreakerFile, OutcomesFile, LatencyFile, UpstreamFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		checkPNG(t, name, b, 1600)
	}
}

func checkPNG(t *testing.T, name string, b []byte, minWidth int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	bounds := img.Bounds()
	if bounds.Dx() < minWidth || bounds.Dy() < 300 {
		t.Errorf("%s is %dx%d, want at least %d px wide", name, bounds.Dx(), bounds.Dy(), minWidth)
	}
	inked, total := 0, 0
	colours := map[color.RGBA]bool{}
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			total++
			if r < 0xF000 || g < 0xF000 || bl < 0xF000 {
				inked++
			}
			if len(colours) < 1000 {
				colours[color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0}] = true
			}
		}
	}
	if frac := float64(inked) / float64(total); frac < 0.03 {
		t.Errorf("%s: only %.1f%% of pixels are not white", name, 100*frac)
	}
	if len(colours) < 8 {
		t.Errorf("%s: only %d distinct colours", name, len(colours))
	}
	return img
}

// TestGoldenImage compares breaker.png with a checked golden image.
func TestGoldenImage(t *testing.T) {
	dir, _ := sharedRender(t)
	got, err := os.ReadFile(filepath.Join(dir, BreakerFile))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden", BreakerFile)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	ok, err := cmpimg.EqualApprox("png", got, want, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		bad := filepath.Join(t.TempDir(), BreakerFile)
		os.WriteFile(bad, got, 0o644)
		t.Errorf("breaker.png differs from %s; the new image is at %s", path, bad)
	}
}

// TestRenderFailingThreshold judges other thresholds on the same run, one
// of which must fail: the report fails and junit.xml shows exactly that
// failure.
func TestRenderFailingThreshold(t *testing.T) {
	ths, err := scenarios.ParseThresholds("tight.yaml", []byte(`thresholds:
  "latency_p99{phase:outage}": ["< 1ms"]
  "breaker_opens": [">= 1"]
`))
	if err != nil {
		t.Fatal(err)
	}
	dir, rep := renderSynth(t, Options{Thresholds: ths})
	if rep.Passed {
		t.Error("Passed = true, want false")
	}
	if len(rep.Verdicts) != 2 || rep.Verdicts[0].Passed || !rep.Verdicts[1].Passed {
		t.Fatalf("verdicts = %+v", rep.Verdicts)
	}
	jx, err := os.ReadFile(filepath.Join(dir, JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	s := string(jx)
	if !strings.Contains(s, `<testsuites name="brownout" tests="2" failures="1" errors="0">`) ||
		strings.Count(s, "<failure ") != 1 ||
		!strings.Contains(s, "expected &lt; 1ms") {
		t.Errorf("junit.xml does not show the one failure:\n%s", s)
	}
	var table bytes.Buffer
	rep.WriteTable(&table)
	if !strings.Contains(table.String(), "1 of 2 thresholds failed: FAIL") {
		t.Errorf("table:\n%s", table.String())
	}
	sum, _ := os.ReadFile(filepath.Join(dir, SummaryFile))
	if !strings.Contains(string(sum), `"verdict": "fail"`) {
		t.Error(`summary.json lacks "verdict": "fail"`)
	}
}

func TestRenderRejectsUnknownPhase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	synthRun(t, dir, 0.1, 1)
	ths, err := scenarios.ParseThresholds("t.yaml", []byte(`thresholds:
  "rps{phase:nowhere}": ["> 1"]
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Render(dir, Options{Thresholds: ths})
	if err == nil || !strings.Contains(err.Error(), `phase "nowhere" is not in this run`) {
		t.Errorf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, SummaryFile)); !os.IsNotExist(err) {
		t.Error("summary.json written for invalid thresholds")
	}
}

// TestRenderInterruptedAndDisabled renders a short run cut off by a
// signal, with the breaker disabled: the report is still written and
// says so.
func TestRenderInterruptedAndDisabled(t *testing.T) {
	yaml, err := os.ReadFile(filepath.Join("testdata", "hard-outage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	yamlOff := strings.Replace(string(yaml), "enabled: true", "enabled: false", 1)
	dir := filepath.Join(t.TempDir(), "run")
	w, err := recording.Create(dir, recording.Header{
		Scenario: "hard-outage", ScenarioYAML: yamlOff, Seed: 42, TimeScale: 1,
		Phases: []recording.PhaseSpan{{Name: "healthy", Start: 0, End: 60 * time.Second}, {Name: "outage", Start: 60 * time.Second, End: 150 * time.Second}, {Name: "recovery", Start: 150 * time.Second, End: 270 * time.Second}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		w.Request(recording.Request{Seq: uint64(i), T: time.Duration(i) * 300 * time.Millisecond, Latency: 5 * time.Millisecond, Status: 200, Outcome: contract.OutcomeUpstream, Phase: "healthy", Breaker: ""})
	}
	if err := w.Close(30*time.Second, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	rep, err := Render(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.Passed {
		t.Errorf("Interrupted %v Passed %v, want true false", rep.Interrupted, rep.Passed)
	}
	md, _ := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if !strings.Contains(string(md), "interrupted after 30 s") || !strings.Contains(string(md), "| breaker | disabled |") {
		t.Errorf("report.md does not say the run was interrupted and the breaker disabled:\n%s", md)
	}
	jx, _ := os.ReadFile(filepath.Join(dir, JUnitFile))
	if !strings.Contains(string(jx), `type="interrupted"`) {
		t.Errorf("junit.xml lacks the interrupted case:\n%s", jx)
	}
	var table bytes.Buffer
	rep.WriteTable(&table)
	if !strings.Contains(table.String(), "interrupted") {
		t.Errorf("table does not mention the interruption:\n%s", table.String())
	}
	if v, _ := rep.Summary.Overall.Get("open_time_ratio"); v.Value != 0 || v.NoData {
		t.Errorf("open_time_ratio with the breaker disabled = %+v, want 0", v)
	}
	// The healthy phase was recorded for 30 of its 60 s; the outage never.
	if v, _ := rep.Summary.Phases[0].Metrics.Get("rps"); math.Abs(v.Value-100.0/30) > 1e-9 {
		t.Errorf("rps{phase:healthy} = %v, want 100 requests / 30 s", v.Value)
	}
	if v, _ := rep.Summary.Phases[1].Metrics.Get("rps"); !v.NoData {
		t.Errorf("rps{phase:outage} = %+v, want no data: the phase was never recorded", v)
	}
	b, _ := os.ReadFile(filepath.Join(dir, DashboardFile))
	checkPNG(t, DashboardFile, b, 1600)
}

// TestBucketWidth checks that runs from 30 s to 24 h cut into about 200
// buckets.
func TestBucketWidth(t *testing.T) {
	for _, d := range []time.Duration{30 * time.Second, 270 * time.Second, time.Hour, 24 * time.Hour} {
		w := bucketWidth(d)
		n := float64(d) / float64(w)
		if n < 100 || n > 400 {
			t.Errorf("bucketWidth(%v) = %v: %.0f buckets, want about 200", d, w, n)
		}
	}
}

func TestHeatmaps(t *testing.T) {
	var b bytes.Buffer
	nan := 0.0 / zero
	err := Heatmap(&b, HeatmapSpec{
		Title: "p99 latency", RowLabel: "fail threshold", ColLabel: "reset timeout",
		Rows: []string{"3", "5"}, Cols: []string{"10s", "30s", "60s"},
		Values: [][]float64{{0.01, 0.02, nan}, {0.5, 1, 2}},
		Format: func(v float64) string { return formatSeconds(v) },
	})
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, "heatmap", b.Bytes(), 1600)

	b.Reset()
	err = PassFailMap(&b, "thresholds", "", "", []string{"3", "5"}, []string{"10s", "30s"},
		[][]PassFailCell{{{Runs: 1, Passed: 1}, {Runs: 2, Passed: 1, Note: "time_to_close"}}, {{Runs: 1}, {}}})
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, "passfail", b.Bytes(), 1600)

	if err := Heatmap(&b, HeatmapSpec{Title: "x", Rows: []string{"a"}, Cols: []string{"b", "c"}, Values: [][]float64{{1}}, HigherIsBetter: true}); err == nil {
		t.Error("Heatmap with a short row: want an error")
	}
	if err := PassFailMap(&b, "x", "", "", []string{"a", "b"}, []string{"c"}, [][]PassFailCell{{{}}}); err == nil {
		t.Error("PassFailMap with a missing row: want an error")
	}
}

var zero float64

func TestViridisEnds(t *testing.T) {
	if viridis(0) != color.Color(viridisStops[0]) || viridis(1) != color.Color(viridisStops[len(viridisStops)-1]) {
		t.Error("viridis ends are not the scale's ends")
	}
	if inkFor(viridis(0)) != color.Color(color.White) || inkFor(viridis(1)) != color.Color(color.Black) {
		t.Error("text ink does not contrast with the scale's ends")
	}
}

// TestRenderShortAndLongRuns renders a 30 s and a 24 h run: both must
// produce full plots with about 200 buckets.
func TestRenderShortAndLongRuns(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		rate float64
	}{{30 * time.Second, 50}, {24 * time.Hour, 0.5}} {
		t.Run(c.d.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			steadyRun(t, dir, c.d, c.rate)
			rep, err := Render(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Files[:5] {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				checkPNG(t, filepath.Base(f), b, 1600)
			}
			if keep := os.Getenv("REPORTS_KEEP"); keep != "" {
				for _, f := range rep.Files[:5] {
					b, _ := os.ReadFile(f)
					os.WriteFile(filepath.Join(keep, c.d.String()+"-"+filepath.Base(f)), b, 0o644)
				}
			}
		})
	}
}
