package sim

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"brownout/scenarios"
)

// TestOneSetOfRules checks the promise of `brownout validate`: a scenario
// that Parse accepts is one that the run accepts all the way down, at the
// scenario's own time scale — sim's time-scale check, the assistant's
// Config.Validate and the fake server's Config.Validate — and a scenario
// Parse refuses is refused with a position. Each setting is tried at and
// around its limits, including values that do not fit in 32 bits.
func TestOneSetOfRules(t *testing.T) {
	ints := []string{"-1", "0", "1", "19", "20", "50", "51", "99", "10000", "10001", "20000", "1000000", "1000001", "4294967301"}
	durs := []string{"0s", "1ms", "9ms", "10ms", "5s", "1h", "1h1s", "24h", "24h1s", "168h", "169h", "720h", "2000000h"}
	cases := []struct {
		template string // %s is the value
		values   []string
	}{
		{"breaker: {fail_threshold: %s}", ints},
		{"breaker: {policy: ratio, min_requests: %s}", ints},
		{"breaker: {half_open_max_requests: %s}", ints},
		{"breaker: {policy: ratio, failure_ratio: %s}", []string{"0", "0.5", "1", "1.5", "-0.1"}},
		{"breaker: {reset_timeout: %s}", durs},
		{"breaker: {call_timeout: %s}", durs},
		{"breaker: {interval: %s}", durs},
		{"assistant: {top_k: %s}", ints},
		{"assistant: {cache: {size: %s}}", ints},
		{"assistant: {cache: {size: 10000001}}", []string{""}},
		{"assistant: {cache: {ttl: %s}}", durs},
		{"assistant: {excerpts: {count: %s}}", ints},
		{"assistant: {excerpts: {chars: %s}}", ints},
		{"load: {timeout: %s}", durs},
		{"load: {max_workers: %s}", ints},
		{"load: {rate: %s/s}", []string{"0", "1", "1000000", "1000001", "1e300"}},
		{"upstream: {tokens: %s}", ints},
		{"upstream: {capacity: {concurrency: %s, queue: %s}}", ints},
		{"time_scale: %s", []string{"0.5", "1", "10", "100", "6000", "7000", "0.0000001"}},
		{"upstream: {latency: {ttft: %s}}", durs},
		{"phases: [{name: a, duration: %s}]", durs},
		// Each phase and the compressed run fit; the timeline in scenario
		// time (3,000,000h) does not fit in a time.Duration.
		{"time_scale: 5000\nbreaker: {call_timeout: 1h, reset_timeout: 1h}\nassistant: {cache: {ttl: 1h}}\nload: {timeout: 1h}\nphases: [{name: a, duration: %s}, {name: b, duration: %s}, {name: c, duration: %s}]", []string{"600h", "1000000h"}},
		{"phases: [{name: a, duration: {dist: uniform, min: %s, max: 720h}}]", durs},
		{"phases: [{name: a, duration: {dist: uniform, min: 1ms, max: %s}}]", durs},
		{"phases: [{name: a, duration: 60s}, {name: b, duration: 700h, start_jitter: %s}]", durs},
		{"phases: [{name: a, duration: 10s, faults: [{kind: hang, duration: %s}]}]", durs},
		{"phases: [{name: a, duration: 10s, faults: [{kind: stream_cut, tokens: %s}]}]", ints},
	}
	for _, c := range cases {
		for _, val := range c.values {
			body := strings.ReplaceAll(c.template, "%s", val)
			src := "name: rules\n" + body + "\n"
			if !strings.Contains(body, "phases:") {
				src += "phases: [{name: a, duration: 60s}]\n"
			}
			t.Run(body, func(t *testing.T) {
				sc, err := scenarios.Parse("rules.yaml", []byte(src))
				if err != nil {
					var list *scenarios.ErrorList
					if !errors.As(err, &list) {
						t.Fatalf("not an *ErrorList: %v", err)
					}
					for _, fe := range list.Errors {
						if fe.Line < 1 || fe.Column < 1 {
							t.Errorf("error without a position: %v", fe)
						}
					}
					return
				}
				// The run draws the timeline first (sim.Run calls Resolve);
				// try several seeds so both ends of a drawn range come up.
				// A scenario without time_scale (auto) is checked at 1, the
				// slowest scale auto may choose.
				k := sc.TimeScale
				if k == 0 {
					k = 1
				}
				for seed := range int64(20) {
					sc.Seed = seed
					if err := runRefuses(sc.Resolve(), k); err != nil {
						t.Fatalf("validate accepts it but the run refuses (seed %d): %v", seed, err)
					}
				}
				if err := runRefuses(sc, k); err != nil {
					t.Errorf("validate accepts it but the run refuses: %v", err)
				}
			})
		}
	}
}

// runRefuses applies every check a run makes before it plays, in order.
func runRefuses(sc *scenarios.Scenario, k float64) error {
	if err := sc.Validate(); err != nil {
		return fmt.Errorf("Validate: %w", err)
	}
	if err := CheckTimeScale(sc, k); err != nil {
		return fmt.Errorf("CheckTimeScale: %w", err)
	}
	var sum float64
	drawn := false
	for _, p := range sc.Phases {
		sum += float64(p.Duration)
		drawn = drawn || p.DurationDist != nil || p.StartJitter > 0
	}
	if total := sc.TotalDuration(); !drawn && float64(total) != sum {
		return fmt.Errorf("the timeline's total %v overflows (the phases add up to %g ns)", total, sum)
	}
	real := sc.Scaled(k)
	if err := assistantConfig(real, "http://127.0.0.1:1").Validate(); err != nil {
		return fmt.Errorf("assistant: %w", err)
	}
	if err := faultsConfig(real).Validate(); err != nil {
		return fmt.Errorf("fake upstream: %w", err)
	}
	return nil
}
