package reports

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkRender1M renders every output from a recording of about
// 1,000,000 requests (a hard-outage run at 128× the load). Targets: under
// 3 s per render and under 300 MB resident; peak-rss-MB is the process's
// high-water mark (VmHWM) after the renders, setup included.
func BenchmarkRender1M(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "run")
	n := synthRun(b, dir, 128.3, 1)
	runtime.GC()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Render(dir, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n), "requests")
	if hwm := peakRSS(); hwm > 0 {
		b.ReportMetric(hwm, "peak-rss-MB")
	}
}

// BenchmarkLoad1M measures loading the recording alone (JSON Lines
// decoding through package recording, sorting).
func BenchmarkLoad1M(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "run")
	synthRun(b, dir, 128.3, 1)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// peakRSS reads the resident high-water mark of this process in MB.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}
