package faults

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// decisions runs n fault decisions on the first phase of cfg and returns
// the kind chosen for each call index ("" for none).
func decisions(t *testing.T, cfg Config, n int) []string {
	t.Helper()
	s := newServer(t, cfg)
	out := make([]string, n)
	for i := range out {
		if pf := s.decideFault(s.phases[0], *s.t0.Load()); pf != nil {
			out[i] = pf.kind
		}
	}
	return out
}

func count(ds []string, kind string) int {
	n := 0
	for _, d := range ds {
		if d == kind {
			n++
		}
	}
	return n
}

// TestRateWithinFourSigma: 10,000 decisions at rate 0.3 land within 4
// standard deviations of 3,000, for several seeds.
func TestRateWithinFourSigma(t *testing.T) {
	const n, p = 10000, 0.3
	mean, sd := n*p, math.Sqrt(n*p*(1-p))
	for _, seed := range []int64{0, 1, 42, 20260101} {
		cfg := onePhase(FaultSpec{Kind: "reset", Rate: rate(p)})
		cfg.Seed = seed
		got := count(decisions(t, cfg, n), "reset")
		z := (float64(got) - mean) / sd
		t.Logf("seed %d: %d of %d fired (rate %.4f, z = %+.2f)", seed, got, n, float64(got)/n, z)
		if math.Abs(z) > 4 {
			t.Errorf("seed %d: %d fired, want %v ± 4·%.1f", seed, got, mean, sd)
		}
	}
}

// TestRampedRate: a fault with rate_to fires, in each tenth of its phase,
// at the rate the linear ramp gives at that tenth's middle (within 4
// standard deviations of 4,000 decisions), and at rate_to once the last
// phase has outlasted its duration.
func TestRampedRate(t *testing.T) {
	const n, phase = 4000, 100 * time.Second
	for _, tc := range []struct {
		name     string
		from, to *float64
	}{
		{"0% to 80%", nil, rate(0.8)},
		{"90% to 10%", rate(0.9), rate(0.1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A calm phase first: the ramp follows its own phase's clock.
			cfg := Config{Seed: 7, Phases: []Phase{{Name: "calm", Duration: phase / 2, Tokens: 8},
				{Name: "storm", Duration: phase, Tokens: 8,
					Faults: []FaultSpec{{Kind: "reset", Rate: tc.from, RateTo: tc.to}}}}}
			s := newServer(t, cfg)
			from := 0.0
			if tc.from != nil {
				from = *tc.from
			}
			check := func(frac, want float64) {
				at := s.t0.Load().Add(phase/2 + time.Duration(frac*float64(phase)))
				fired := 0
				for range n {
					if s.decideFault(s.phases[1], at) != nil {
						fired++
					}
				}
				sd := math.Sqrt(n * want * (1 - want))
				if z := (float64(fired) - n*want) / max(sd, 1); math.Abs(z) > 4 {
					t.Errorf("at %.0f%% of the phase: %d of %d fired, want %.0f (rate %.3f) ± 4·%.1f", frac*100, fired, n, n*want, want, sd)
				}
			}
			for k := range 10 {
				frac := (float64(k) + 0.5) / 10
				check(frac, from+(*tc.to-from)*frac)
			}
			check(3, *tc.to) // the last phase stays at rate_to after its end
		})
	}
}

// TestSelectors checks first/every/after and their combination exactly.
func TestSelectors(t *testing.T) {
	tests := []struct {
		name string
		spec FaultSpec
		want func(i int) bool
	}{
		{"first 5", FaultSpec{First: 5}, func(i int) bool { return i < 5 }},
		{"every 3", FaultSpec{Every: 3}, func(i int) bool { return i%3 == 2 }},
		{"after 4", FaultSpec{After: 4}, func(i int) bool { return i >= 4 }},
		{"after 2 first 6", FaultSpec{After: 2, First: 6}, func(i int) bool { return i >= 2 && i < 6 }},
		{"every 2 after 5", FaultSpec{Every: 2, After: 5}, func(i int) bool { return i >= 5 && i%2 == 1 }},
		{"rate 0", FaultSpec{Rate: rate(0)}, func(int) bool { return false }},
		{"always", FaultSpec{}, func(int) bool { return true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.Kind = "empty"
			ds := decisions(t, onePhase(spec), 30)
			for i, d := range ds {
				if got, want := d == "empty", tt.want(i); got != want {
					t.Errorf("call %d: fired = %v, want %v", i, got, want)
				}
			}
		})
	}
}

// TestFirstFiveOverHTTP: first: 5 fails exactly the first five requests
// of the phase, seen by a client.
func TestFirstFiveOverHTTP(t *testing.T) {
	s := newServer(t, onePhase(FaultSpec{Kind: "status", Body: "model_loading", First: 5}))
	c := &http.Client{Transport: s.RoundTripper()}
	var codes []string
	for range 12 {
		resp, err := post(c, "http://fake/v1/chat/completions", chatBody)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = readAll(resp.Body)
		codes = append(codes, fmt.Sprint(resp.StatusCode))
	}
	if got, want := strings.Join(codes, " "), "503 503 503 503 503 200 200 200 200 200 200 200"; got != want {
		t.Errorf("codes = %s, want %s", got, want)
	}
}

// TestSameSeedSameSequence: the same seed gives the same decisions, a
// different seed different ones; list order decides ties.
func TestSameSeedSameSequence(t *testing.T) {
	cfg := func(seed int64) Config {
		c := onePhase(
			FaultSpec{Kind: "status", Code: 503, Rate: rate(0.2)},
			FaultSpec{Kind: "reset", Rate: rate(0.3)},
			FaultSpec{Kind: "latency", Rate: rate(0.5), Latency: &DistSpec{Dist: "fixed", Value: 1}},
		)
		c.Seed = seed
		return c
	}
	a, b, other := decisions(t, cfg(7), 2000), decisions(t, cfg(7), 2000), decisions(t, cfg(8), 2000)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Error("same seed gave different sequences")
	}
	if strings.Join(a, ",") == strings.Join(other, ",") {
		t.Error("different seeds gave the same sequence")
	}
	// First that fires wins: status fires ~20%, reset ~0.8·0.3, latency ~0.8·0.7·0.5.
	for kind, want := range map[string]float64{"status": 0.2, "reset": 0.24, "latency": 0.28} {
		got := float64(count(a, kind)) / 2000
		sd := math.Sqrt(want * (1 - want) / 2000)
		if math.Abs(got-want) > 4*sd {
			t.Errorf("%s fired %.3f, want %.3f ± 4·%.3f", kind, got, want, sd)
		}
	}
}

// TestSameSeedSameSequenceOverHTTP replays a seeded mix through the server
// twice and compares the faults the calls record.
func TestSameSeedSameSequenceOverHTTP(t *testing.T) {
	run := func() string {
		var mu sync.Mutex
		faults := make([]string, 200)
		s := newServer(t, onePhase(
			FaultSpec{Kind: "status", Code: 500, Rate: rate(0.3)},
			FaultSpec{Kind: "empty", Rate: rate(0.3)},
		), WithCallObserver(func(c Call) {
			mu.Lock()
			faults[c.Seq-1] = c.Fault + "/" + fmt.Sprint(c.Status)
			mu.Unlock()
		}))
		c := &http.Client{Transport: s.RoundTripper()}
		for range 200 {
			if resp, err := post(c, "http://fake/generate", `{"inputs":"x"}`); err == nil {
				_, _ = readAll(resp.Body)
			}
		}
		s.Close() // waits for the last observer calls
		return strings.Join(faults, ",")
	}
	if a, b := run(), run(); a != b {
		t.Errorf("runs differ:\n%s\n%s", a, b)
	}
}
