package reports

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"brownout/contract"
	"brownout/recording"
)

// synthRun writes a plausible hard-outage recording into dir without
// running anything: requests at a steady rate per phase, a consecutive
// breaker that trips after 5 upstream failures during the outage, probes
// after each reset timeout, and fallbacks while open. rateMul multiplies
// the request rate, so the benchmark can make a million requests; seed
// drives latencies and fallback choices. It returns the request count.
func synthRun(tb testing.TB, dir string, rateMul float64, seed uint64) int {
	tb.Helper()
	yaml, err := os.ReadFile(filepath.Join("testdata", "hard-outage.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	// The scenario asks for the rates the synthetic run sends, so the run
	// is not flagged as short of load.
	yaml = regexp.MustCompile(`\b(\d+)/s\b`).ReplaceAllFunc(yaml, func(m []byte) []byte {
		n, _ := strconv.ParseFloat(string(m[:len(m)-2]), 64)
		return []byte(strconv.FormatFloat(n*rateMul, 'g', -1, 64) + "/s")
	})
	phases := []recording.PhaseSpan{
		{Name: "healthy", Start: 0, End: 60 * time.Second},
		{Name: "outage", Start: 60 * time.Second, End: 150 * time.Second},
		{Name: "recovery", Start: 150 * time.Second, End: 270 * time.Second},
	}
	rates := []float64{20, 20, 40}
	h := recording.Header{
		Scenario: "hard-outage", Description: "The inference API is hard down for 90 s, then recovers.",
		ScenarioYAML: string(yaml), Seed: 42, TimeScale: 10,
		StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Phases:    phases, Breakers: []string{"huggingface_api"},
		Versions:      map[string]string{"brownout": "test", "go": "go1.26"},
		IntendedTimes: true,
	}
	w, err := recording.Create(dir, h)
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	const (
		failThreshold = 5
		resetTimeout  = 60 * time.Second
	)
	state := contract.StateClosed
	var openedAt time.Duration
	fails := 0
	var seq, callSeq uint64
	transition := func(t time.Duration, to contract.State) {
		if err := w.Transition(recording.Transition{T: t, Breaker: "huggingface_api", From: state, To: to}); err != nil {
			tb.Fatal(err)
		}
		state = to
	}
	fallback := func() (contract.Outcome, int, time.Duration) {
		switch x := rng.Float64(); {
		case x < 0.3:
			return contract.OutcomeCache, 200, time.Duration(200+rng.IntN(800)) * time.Microsecond
		case x < 0.995:
			return contract.OutcomeExcerpts, 200, time.Duration(2+rng.IntN(6)) * time.Millisecond
		default:
			return contract.OutcomeUnavailable, 503, time.Duration(1+rng.IntN(2)) * time.Millisecond
		}
	}
	for pi, ph := range phases {
		step := time.Duration(float64(time.Second) / (rates[pi] * rateMul))
		for t := ph.Start; t < ph.End; t += step {
			seq++
			// Sent up to 3 ms late, so send_lag and response_time differ
			// from latency.
			rq := recording.Request{Seq: seq, T: t, Intended: t - time.Duration(seq%4)*time.Millisecond, Phase: ph.Name}
			if state == contract.StateOpen && t-openedAt > resetTimeout {
				transition(t, contract.StateHalfOpen)
			}
			if state == contract.StateOpen {
				rq.Outcome, rq.Status, rq.Latency = fallback()
				rq.Reason = "circuit_breaker_open"
			} else {
				callSeq++
				c := recording.UpstreamCall{Seq: callSeq, T: t + time.Millisecond, Phase: ph.Name, Route: "/v1/chat/completions", Breaker: state}
				if ph.Name == "outage" {
					c.Fault, c.Status, c.Duration = "status", 503, 40*time.Millisecond
					rq.Outcome, rq.Status, rq.Latency = fallback()
					rq.Latency += 41 * time.Millisecond
					rq.Reason = "upstream_error"
					fails++
					if state == contract.StateHalfOpen || fails >= failThreshold {
						rq.Breaker = contract.StateOpen
						transition(t+rq.Latency-time.Millisecond, contract.StateOpen)
						openedAt = t + rq.Latency - time.Millisecond
						fails = 0
					}
				} else {
					lat := time.Duration(300e6 * math.Exp(0.6*rng.NormFloat64()))
					c.Status, c.Duration = 200, lat
					rq.Outcome, rq.Status, rq.Latency = contract.OutcomeUpstream, 200, lat+2*time.Millisecond
					fails = 0
					if state == contract.StateHalfOpen {
						transition(t+rq.Latency, contract.StateClosed)
					}
					if rng.Float64() < 0.001 {
						rq.Outcome, rq.Status, rq.Error = contract.OutcomeError, 0, "context deadline exceeded"
					}
				}
				c.Bytes = 512
				if err := w.UpstreamCall(c); err != nil {
					tb.Fatal(err)
				}
			}
			if rq.Breaker == "" {
				rq.Breaker = state
			}
			if err := w.Request(rq); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := w.Close(270*time.Second, h.StartedAt.Add(27*time.Second), false); err != nil {
		tb.Fatal(err)
	}
	return int(seq)
}

// steadyRun writes a run of the given length at a steady rate with three
// equal phases; the middle one fails, and the breaker opens and closes
// every tenth of the run. It exercises the plots at extreme lengths.
func steadyRun(tb testing.TB, dir string, d time.Duration, rate float64) {
	tb.Helper()
	yaml, err := os.ReadFile(filepath.Join("testdata", "hard-outage.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	third := d / 3
	h := recording.Header{
		Scenario: "steady", ScenarioYAML: string(yaml), Seed: 1, TimeScale: 1,
		Phases: []recording.PhaseSpan{
			{Name: "healthy", Start: 0, End: third},
			{Name: "outage", Start: third, End: 2 * third},
			{Name: "recovery", Start: 2 * third, End: d},
		},
		Breakers: []string{"huggingface_api"},
	}
	w, err := recording.Create(dir, h)
	if err != nil {
		tb.Fatal(err)
	}
	step := time.Duration(float64(time.Second) / rate)
	var seq uint64
	for t := time.Duration(0); t < d; t += step {
		seq++
		ph := h.PhaseAt(t)
		rq := recording.Request{Seq: seq, T: t, Latency: 200 * time.Millisecond, Status: 200, Outcome: contract.OutcomeUpstream, Phase: ph, Breaker: "closed"}
		if ph == "outage" {
			rq.Latency, rq.Outcome, rq.Breaker = 3*time.Millisecond, contract.OutcomeExcerpts, "open"
		} else if err := w.UpstreamCall(recording.UpstreamCall{Seq: seq, T: t, Phase: ph, Status: 200, Breaker: "closed"}); err != nil {
			tb.Fatal(err)
		}
		if err := w.Request(rq); err != nil {
			tb.Fatal(err)
		}
	}
	w.Transition(recording.Transition{T: third + time.Millisecond, Breaker: "huggingface_api", From: "closed", To: "open"})
	w.Transition(recording.Transition{T: 2*third + third/10, Breaker: "huggingface_api", From: "open", To: "half-open"})
	w.Transition(recording.Transition{T: 2*third + third/10 + time.Millisecond, Breaker: "huggingface_api", From: "half-open", To: "closed"})
	if err := w.Close(d, time.Time{}, false); err != nil {
		tb.Fatal(err)
	}
}
