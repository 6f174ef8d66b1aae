package sweep

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"brownout/recording"
	"brownout/scenarios"
	"brownout/sim"
)

// TestSweepLaunchesATargetPerCell sweeps a launched service (the Python
// implementation of the contract in sim/testdata): every cell starts its
// own instance, on its own port, with the cell's settings in its
// environment, and cells run side by side.
func TestSweepLaunchesATargetPerCell(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found")
	}
	script, err := filepath.Abs(filepath.Join("..", "sim", "testdata", "seed_service.py"))
	if err != nil {
		t.Fatal(err)
	}
	// hard-outage cut to 2 s.
	sc, err := scenarios.Builtin("hard-outage")
	if err != nil {
		t.Fatal(err)
	}
	sc.Breaker.ResetTimeout = scenarios.Duration(time.Second)
	for i, d := range []time.Duration{500 * time.Millisecond, time.Second, 500 * time.Millisecond} {
		sc.Phases[i].Duration = scenarios.Duration(d)
	}
	g := Grid{FailThresholds: []int{2, 4}, ResetTimeouts: []time.Duration{time.Second}}
	dir := filepath.Join(t.TempDir(), "sweep")
	target := &sim.Command{Args: []string{py, script}}
	res, err := Run(context.Background(), sc, g, WithOutDir(dir), WithTimeScale(1), WithParallel(2),
		WithRunOptions(sim.WithTarget(target)))
	if err != nil {
		t.Fatal(err)
	}
	urls := map[string]bool{}
	for _, c := range res.Cells {
		if c.Status != CellDone {
			t.Fatalf("cell %s: %s", c.Name, c.Status)
		}
		h, err := recording.ReadHeader(c.Dir)
		if err != nil {
			t.Fatal(err)
		}
		if h.Target == nil || h.Target.Kind != "launched" {
			t.Fatalf("cell %s: target %+v", c.Name, h.Target)
		}
		urls[h.Target.URL] = true
		log, err := os.ReadFile(filepath.Join(c.Dir, sim.TargetLogFile))
		if err != nil {
			t.Fatal(err)
		}
		want := "threshold " + strings.TrimPrefix(strings.Split(c.Name, "-")[0], "ft")
		if !strings.Contains(string(log), want) {
			t.Errorf("cell %s: the service did not get its cell's setting (%q):\n%s", c.Name, want, log)
		}
	}
	if len(urls) != len(res.Cells) {
		t.Errorf("cells shared an instance: URLs %v", urls)
	}
}
