package sim

import (
	"context"
	"strings"
	"testing"
	"time"

	"brownout/recording"
	"brownout/scenarios"
)

func TestCalibrationScenarioPicksTheBusiestPhase(t *testing.T) {
	for name, want := range map[string]string{
		"hard-outage":      "recovery", // 40/s against 20/s
		"latency-brownout": "healthy",  // 20/s throughout; the first without faults
	} {
		sc, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		c, phase := calibrationScenario(sc)
		if phase != want || len(c.Phases) != 1 || c.Phases[0].Name != want || c.Thresholds != nil {
			t.Errorf("%s: calibrates phase %q (%d phases, thresholds %v), want %q alone", name, phase, len(c.Phases), c.Thresholds, want)
		}
	}
}

func TestBeyondHeadroom(t *testing.T) {
	ok := recording.Distortion{Tolerance: time.Second, AchievedRateRatio: 0.99, UpstreamCalls: 1000, ContentionTimeouts: 2,
		UpstreamSlowdown: 0.04, TimerLatenessP99: 400 * time.Millisecond}
	if got := beyondHeadroom(&ok); got != "" {
		t.Errorf("within half of every limit, got %q", got)
	}
	for _, tc := range []struct {
		name string
		edit func(*recording.Distortion)
		want string
	}{
		{"rate", func(d *recording.Distortion) { d.AchievedRateRatio = 0.97 }, "achieved rate 97%"},
		{"contention", func(d *recording.Distortion) { d.ContentionTimeouts = 3 }, "3 contention timeouts"},
		{"slowdown", func(d *recording.Distortion) { d.UpstreamSlowdown = 0.06 }, "upstream 6% slower"},
		{"timers", func(d *recording.Distortion) { d.TimerLatenessP99 = 600 * time.Millisecond }, "timers 600ms late"},
	} {
		d := ok
		tc.edit(&d)
		if got := beyondHeadroom(&d); !strings.Contains(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestAutoTimeScaleStaysWithinLimits: the scenario's durations and the
// caller's Accept bound the choice; with nothing to try above 1 there is
// no probe at all, and a short ladder is probed over real loopback.
func TestAutoTimeScaleStaysWithinLimits(t *testing.T) {
	sc, err := scenarios.Parse("short.yaml", []byte(`
name: short
breaker: {reset_timeout: 30ms, call_timeout: 1s}
load: {rate: 20/s, timeout: 2s}
upstream:
  latency: {ttft: {dist: fixed, value: 5ms}, per_token: {dist: fixed, value: 0s}}
  tokens: 4
phases:
  - {name: only, duration: 10s}
`))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := AutoTimeScale(ctx, sc, AutoConfig{Accept: func(k float64) bool { return k <= 1 }})
	if err != nil || c.Scale != 1 || len(c.Probes) != 0 {
		t.Fatalf("with only 1 accepted: %+v, %v; want scale 1 without probes", c, err)
	}
	// reset_timeout 30ms allows at most 3 (10 ms of real time): only 2
	// is left to probe.
	c, err = AutoTimeScale(ctx, sc, AutoConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Probes) != 1 || c.Probes[0].Scale != 2 || (c.Scale != 2) != !c.Probes[0].Honest {
		t.Errorf("choice %+v, want one probe at 2 deciding between 1 and 2", c)
	}
	if !strings.HasPrefix(c.Why, "time scale ") || !strings.Contains(c.Why, `phase "only"`) {
		t.Errorf("why = %q", c.Why)
	}
}
