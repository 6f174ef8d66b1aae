package sim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"brownout/assistant"
	"brownout/contract"
	"brownout/faults"
	"brownout/scenarios"
)

// benchWorkers is the number of vegeta workers (and connections) of the
// throughput benchmark, on both sides of the comparison. On 2 cores, 16
// gave the highest figures for both the bare handler and the chain (8 and
// 32 were lower).
const benchWorkers = 16

// attackN sends n requests to url as fast as the workers allow and returns
// the achieved rate in requests per second and the number of non-200s.
func attackN(b *testing.B, url string, body []byte, n int) (float64, int) {
	b.Helper()
	atk := vegeta.NewAttacker(vegeta.Workers(benchWorkers), vegeta.MaxWorkers(benchWorkers), vegeta.KeepAlive(true), vegeta.Connections(int(benchWorkers)))
	pacer := countPacer(n)
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: "POST", URL: url, Body: body, Header: http.Header{"Content-Type": {"application/json"}}})
	start := time.Now()
	bad := 0
	for res := range atk.Attack(tr, pacer, 0, "bench") {
		if res.Code != 200 {
			bad++
		}
	}
	return float64(n) / time.Since(start).Seconds(), bad
}

// countPacer sends n hits as fast as the workers take them.
type countPacer uint64

func (n countPacer) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	return 0, hits >= uint64(n)
}

func (n countPacer) Rate(time.Duration) float64 { return 0 }

func serveLoopback(b *testing.B, h http.Handler) (string, func()) {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	return "http://" + l.Addr().String(), func() { srv.Close() }
}

// bareHandler is the comparison point of the throughput benchmarks: the
// least an HTTP handler can do.
var bareHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"ok":true}`))
})

// benchQuestion is the body every throughput benchmark sends.
var benchQuestion = []byte(`{"question":"How does a circuit breaker decide to open?"}`)

// pairedRates alternates bare and other for five rounds of n requests. A
// 2-core virtual machine's speed drifts by tens of percent within a
// minute, so each round's rate of other is divided by the bare rate
// measured just before it: the median of those paired ratios cancels the
// drift that a ratio of two independent bests would not. It reports the
// best rate of each side, the median ratio and the lowest one, under the
// names bare-req/s, NAME-req/s, NAME/bare and NAME/bare-min.
func pairedRates(b *testing.B, name, bareURL, otherURL string, n int) {
	b.Helper()
	var bare, other float64
	var ratios []float64
	for b.Loop() {
		for range 5 {
			rb, _ := attackN(b, bareURL, benchQuestion, n)
			ro, bad := attackN(b, otherURL, benchQuestion, n)
			if bad > 0 {
				b.Fatalf("%s: %d of %d requests failed", name, bad, n)
			}
			bare, other = max(bare, rb), max(other, ro)
			ratios = append(ratios, ro/rb)
		}
	}
	slices.Sort(ratios)
	b.ReportMetric(bare, "bare-req/s")
	b.ReportMetric(other, name+"-req/s")
	b.ReportMetric(ratios[len(ratios)/2], name+"/bare")
	b.ReportMetric(ratios[0], name+"/bare-min")
}

// startChain serves the fake (through wrap, if not nil) and the assistant
// pointed at it on loopback, and returns the assistant's query URL.
func startChain(b *testing.B, wrap func(http.Handler) http.Handler) string {
	b.Helper()
	fake, err := faults.New(faults.Config{Model: faults.DefaultModel, Phases: []faults.Phase{{Name: "healthy", Duration: time.Hour, Tokens: 16}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(fake.Close)
	var upstream http.Handler = fake
	if wrap != nil {
		upstream = wrap(fake)
	}
	fakeURL, stopFake := serveLoopback(b, upstream)
	b.Cleanup(stopFake)
	cfg := assistant.DefaultConfig()
	cfg.UpstreamURL = fakeURL
	cfg.Model = faults.DefaultModel
	svc, err := assistant.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close() })
	chainURL, stopChain := serveLoopback(b, svc)
	b.Cleanup(stopChain)
	return chainURL + contract.PathQuery
}

// BenchmarkChainThroughput measures load → assistant → fake over loopback
// with no faults and zero upstream latency, against vegeta hitting a bare
// handler in the same process (see pairedRates for what it reports).
func BenchmarkChainThroughput(b *testing.B) {
	bareURL, stopBare := serveLoopback(b, bareHandler)
	defer stopBare()
	pairedRates(b, "chain", bareURL, startChain(b, nil), 20000)
}

// BenchmarkTwoHopFloor is what BenchmarkChainThroughput could reach at
// best: a pass-through proxy and a static upstream, with the chain's own
// request and answer sizes (measured on one query through it) and no logic
// at all. The gap between the two is the assistant's and the fake's work.
func BenchmarkTwoHopFloor(b *testing.B) {
	// The sizes of one query through the real chain.
	var upReq, upResp atomic.Int64
	chainURL := startChain(b, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			upReq.Store(r.ContentLength)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			upResp.Store(int64(rec.Body.Len()))
			w.Header().Set("Content-Type", "application/json")
			w.Write(rec.Body.Bytes())
		})
	})
	resp, err := http.Post(chainURL, "application/json", bytes.NewReader(benchQuestion))
	if err != nil {
		b.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || upReq.Load() <= 0 {
		b.Fatalf("calibration query: status %d, upstream request %d bytes", resp.StatusCode, upReq.Load())
	}
	upstreamBody := bytes.Repeat([]byte("u"), int(upReq.Load()))
	upstreamAnswer := bytes.Repeat([]byte("a"), int(upResp.Load()))

	staticURL, stopStatic := serveLoopback(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(upstreamAnswer)
	}))
	defer stopStatic()
	tr := &http.Transport{MaxIdleConnsPerHost: 1024, DisableCompression: true}
	defer tr.CloseIdleConnections()
	proxyURL, stopProxy := serveLoopback(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, staticURL, bytes.NewReader(upstreamBody))
		if err != nil {
			b.Error(err)
			return
		}
		up, err := tr.RoundTrip(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		io.Copy(io.Discard, up.Body)
		up.Body.Close()
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	defer stopProxy()
	bareURL, stopBare := serveLoopback(b, bareHandler)
	defer stopBare()
	pairedRates(b, "proxy", bareURL, proxyURL, 20000)
}

// saturating is a scenario that asks for more load than the machine can
// give, with a healthy zero-latency upstream, so a run measures the
// harness's own throughput.
const saturating = `
name: saturating
seed: 1
load: {rate: 100000/s, timeout: 10s, max_workers: 64, repeat_ratio: 0}
upstream:
  latency: {ttft: {dist: fixed, value: 0s}, per_token: {dist: fixed, value: 0s}}
  tokens: 16
  capacity: {concurrency: 0, queue: 0}
phases:
  - {name: flat, duration: %s}
`

func saturatingScenario(b *testing.B, d time.Duration) *scenarios.Scenario {
	b.Helper()
	sc, err := scenarios.Parse("saturating.yaml", []byte(fmt.Sprintf(saturating, d)))
	if err != nil {
		b.Fatal(err)
	}
	return sc
}

// BenchmarkRecorderOverhead runs the same saturating scenario with the
// recorder on and off. Throughput under saturation swings by tens of
// percent between identical runs on a 2-core machine, so the overhead is
// computed from process CPU time per request, which is steadier; the
// best throughput of each side is reported too.
func BenchmarkRecorderOverhead(b *testing.B) {
	sc := saturatingScenario(b, 3*time.Second)
	var on, off float64
	var cpuOn, cpuOff time.Duration
	var nOn, nOff int64
	for b.Loop() {
		// Alternate so that warm-up and background noise do not land on
		// one side only.
		for range 3 {
			c0 := cpuTime(b)
			res, err := Run(context.Background(), sc)
			if err != nil {
				b.Fatal(err)
			}
			cpuOff += cpuTime(b) - c0
			nOff += res.Requests
			off = max(off, float64(res.Requests)/3)
			c0 = cpuTime(b)
			res, err = Run(context.Background(), sc, WithOutDir(b.TempDir()))
			if err != nil {
				b.Fatal(err)
			}
			cpuOn += cpuTime(b) - c0
			nOn += res.Requests
			on = max(on, float64(res.Requests)/3)
		}
	}
	perOff := float64(cpuOff.Nanoseconds()) / float64(nOff)
	perOn := float64(cpuOn.Nanoseconds()) / float64(nOn)
	b.ReportMetric(off, "req/s-unrecorded")
	b.ReportMetric(on, "req/s-recorded")
	b.ReportMetric(perOff/1000, "cpu-µs/req-unrecorded")
	b.ReportMetric(perOn/1000, "cpu-µs/req-recorded")
	b.ReportMetric(100*(perOn/perOff-1), "cpu-overhead-%")
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMillionRequestsMemory records a run of at least 1,000,000
// requests and reports the peak resident memory of the process. Set
// BROWNOUT_BENCH_MILLION=1 to run it (it takes two to three minutes).
func BenchmarkMillionRequestsMemory(b *testing.B) {
	if os.Getenv("BROWNOUT_BENCH_MILLION") == "" {
		b.Skip("set BROWNOUT_BENCH_MILLION=1 to run")
	}
	for b.Loop() {
		var res *Result
		// Grow the duration until the run holds a million requests.
		for d := 150 * time.Second; ; d *= 2 {
			var err error
			res, err = Run(context.Background(), saturatingScenario(b, d), WithOutDir(b.TempDir()))
			if err != nil {
				b.Fatal(err)
			}
			if res.Requests >= 1_000_000 {
				break
			}
			b.Logf("%d requests in %v; doubling", res.Requests, d)
		}
		b.ReportMetric(float64(res.Requests), "requests")
	}
	b.ReportMetric(peakRSSMiB(b), "peak-RSS-MiB")
}

// peakRSSMiB reads the process's peak resident set size from /proc.
func peakRSSMiB(b *testing.B) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				b.Fatal(err)
			}
			return float64(kb) / 1024
		}
	}
	b.Fatal("VmHWM not found")
	return 0
}
