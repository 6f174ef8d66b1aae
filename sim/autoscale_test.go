package sim

import (
	"context"
	"fmt"
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
	// A ramp is probed at its peak throughout: a probe plays only the
	// phase's first second or so, which would be the ramp's quiet start.
	sc, err := scenarios.Builtin("overload")
	if err != nil {
		t.Fatal(err)
	}
	c, phase := calibrationScenario(sc)
	if r := c.Phases[0].Load.Rate; phase != "ramp" || r.Pattern != scenarios.PatternConstant || r.Rate != 40 {
		t.Errorf("overload: calibrates phase %q at %+v, want ramp at a constant 40/s", phase, r)
	}
}

func TestBeyondHeadroom(t *testing.T) {
	ok := recording.Distortion{Tolerance: time.Second, AchievedRateRatio: 0.99, UpstreamCalls: 1000, ContentionTimeouts: 2,
		UpstreamSlowdown: 0.04, TimerLatenessP99: 400 * time.Millisecond, SendLagP99: 400 * time.Millisecond, BreakerLatenessMax: 400 * time.Millisecond}
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
		{"send lag", func(d *recording.Distortion) { d.SendLagP99 = 700 * time.Millisecond }, "requests sent 700ms late"},
		{"breaker", func(d *recording.Distortion) { d.BreakerLatenessMax = 800 * time.Millisecond }, "breaker half-open 800ms late"},
		{"local work", func(d *recording.Distortion) { d.LocalWorkShift = 900 * time.Millisecond }, "local work weighs 900ms"},
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
	sc := parseScenario(t, "short.yaml", []byte(`
name: short
breaker: {reset_timeout: 30ms, call_timeout: 1s}
load: {rate: 20/s, timeout: 2s}
upstream:
  latency: {ttft: {dist: fixed, value: 5ms}, per_token: {dist: fixed, value: 0s}}
  tokens: 4
phases:
  - {name: only, duration: 10s}
`))
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
	// A probe at 2 decides; when it is honest, a longer one must confirm.
	switch {
	case len(c.Probes) == 0 || c.Probes[0].Scale != 2 || c.Probes[0].Confirm:
		t.Errorf("choice %+v, want a first probe at 2", c)
	case !c.Probes[0].Honest:
		if len(c.Probes) != 1 || c.Scale != 1 {
			t.Errorf("choice %+v, want 1 after a distorted probe at 2", c)
		}
	case len(c.Probes) != 2 || !c.Probes[1].Confirm || c.Probes[1].Scale != 2 || (c.Scale == 2) != c.Probes[1].Honest:
		t.Errorf("choice %+v, want a confirmation at 2 deciding between 1 and 2", c)
	case c.Probes[1].Honest && !strings.Contains(c.Why, "probe confirmed 2"):
		t.Errorf("why = %q, want the confirmation said", c.Why)
	}
	if !strings.HasPrefix(c.Why, "time scale ") || !strings.Contains(c.Why, `phase "only"`) {
		t.Errorf("why = %q", c.Why)
	}
}

// TestChooseScaleConfirms: the bisection's choice stands only when a long
// probe confirms it; otherwise the next slower scale is confirmed in turn,
// down to 1, which is never probed.
func TestChooseScaleConfirms(t *testing.T) {
	ladder := []float64{1, 2, 5, 10, 15, 20, 25, 35, 50, 75, 100}
	for _, tc := range []struct {
		name        string
		short, long float64 // the fastest honest scale for each probe length
		want        float64
		probes      string
	}{
		{"confirmed at once", 25, 25, 25, "20 50 25 35 25L"},
		{"steps down twice", 25, 15, 15, "20 50 25 35 25L 20L 15L"},
		{"nothing holds long", 5, 1, 1, "20 5 10 5L 2L"},
		{"nothing holds short", 1, 1, 1, "20 5 2"},
		{"top of the ladder", 100, 100, 100, "20 50 75 100 100L"},
	} {
		var probes []string
		got, err := chooseScale(ladder, func(k float64, real time.Duration) (bool, error) {
			if real == confirmReal {
				probes = append(probes, fmt.Sprintf("%gL", k))
				return k <= tc.long, nil
			}
			probes = append(probes, fmt.Sprintf("%g", k))
			return k <= tc.short, nil
		})
		if err != nil || got != tc.want || strings.Join(probes, " ") != tc.probes {
			t.Errorf("%s: chose %g (%v) after %q; want %g after %q", tc.name, got, err, strings.Join(probes, " "), tc.want, tc.probes)
		}
	}
}
