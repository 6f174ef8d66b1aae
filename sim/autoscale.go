package sim

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"brownout/recording"
	"brownout/scenarios"
)

// MaxAutoTimeScale is the fastest time scale AutoTimeScale picks.
const MaxAutoTimeScale = 100

// autoLadder are the time scales AutoTimeScale chooses among, slowest
// first.
var autoLadder = []float64{1, 2, 5, 10, 15, 20, 25, 35, 50, 75, MaxAutoTimeScale}

// calibrationReal is how long, in real time, one calibration probe plays
// while bisecting; confirmReal how long the probe that confirms the choice
// plays. A short probe can miss what a longer run meets (a garbage
// collection, the recorder's flushes, a neighbour's burst), so the choice
// must also hold for a probe three times as long, or it steps down.
const (
	calibrationReal = 700 * time.Millisecond
	confirmReal     = 3 * calibrationReal
)

// autoHeadroom is the share of each distortion limit a calibration probe
// may use: the probe is short and the full run meets more (garbage
// collection, other processes), so the chosen scale keeps headroom.
const autoHeadroom = 0.5

// AutoConfig says what AutoTimeScale calibrates for.
type AutoConfig struct {
	// Parallel is how many runs will share the machine at once (a
	// sweep's parallelism); the probes play that many copies at once.
	// Zero means 1.
	Parallel int
	// Accept, when set, must also accept a scale: a sweep accepts only
	// scales every cell allows (CheckTimeScale on each cell).
	Accept func(k float64) bool
}

// AutoChoice is the time scale AutoTimeScale chose, and why.
type AutoChoice struct {
	Scale float64
	// Why explains the choice in one sentence for the terminal.
	Why string
	// Probes are the calibration runs, in the order played.
	Probes []Probe
}

// Probe is one calibration run at one time scale.
type Probe struct {
	Scale      float64
	Honest     bool
	Distortion *recording.Distortion
	// Limit names the check that was beyond its (headroom) limit.
	Limit string
	// Confirm marks a longer probe that confirms a bisection's choice.
	Confirm bool
}

// AutoTimeScale measures what this machine can take and returns the
// fastest time scale at which sc stays honest by the distortion checks
// (see recording.Distortion). It plays short calibration probes of sc's
// busiest phase over loopback at candidate scales (cfg.Parallel copies at
// once) and picks the fastest whose every check stays within half its
// limit: a probe lasts under a second, and the full run meets more. A
// probe three times as long must confirm the choice, or the next slower
// scale is confirmed in turn. The
// scale is never above what CheckTimeScale allows for sc, nor one
// cfg.Accept refuses.
func AutoTimeScale(ctx context.Context, sc *scenarios.Scenario, cfg AutoConfig, opts ...Option) (*AutoChoice, error) {
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("scenario %q: %w", sc.Name, err)
	}
	parallel := max(cfg.Parallel, 1)
	sc = sc.Resolve()
	var ladder []float64
	for _, k := range autoLadder {
		if CheckTimeScale(sc, k) == nil && (cfg.Accept == nil || cfg.Accept(k)) {
			ladder = append(ladder, k)
		}
	}
	if len(ladder) == 0 {
		return &AutoChoice{Scale: 1, Why: "time scale 1: the scenario's durations allow no compression"}, nil
	}
	probeSc, phase := calibrationScenario(sc)
	choice := &AutoChoice{}
	probe := func(k float64, real time.Duration) (bool, error) {
		p, err := runProbe(ctx, probeSc, k, real, parallel, opts)
		if err == nil {
			err = ctx.Err() // an interrupted probe judges nothing
		}
		if err != nil {
			return false, err
		}
		p.Confirm = real == confirmReal
		choice.Probes = append(choice.Probes, p)
		return p.Honest, nil
	}
	k, err := chooseScale(ladder, probe)
	if err != nil {
		return nil, err
	}
	choice.Scale = k
	choice.Why = choice.explain(phase, parallel, ladder[len(ladder)-1], cfg.Accept != nil)
	return choice, nil
}

// chooseScale bisects ladder (slowest first) for the fastest scale whose
// short probe is honest, then confirms it with a long probe, stepping down
// until one holds. Scale 1 is honest by definition (nothing is
// compressed) and is never probed.
func chooseScale(ladder []float64, probe func(k float64, real time.Duration) (bool, error)) (float64, error) {
	lo, hi := 0, len(ladder)-1
	if ladder[0] != 1 {
		lo = -1
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		ok, err := probe(ladder[mid], calibrationReal)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	for ; lo >= 0 && ladder[lo] > 1; lo-- {
		ok, err := probe(ladder[lo], confirmReal)
		if err != nil {
			return 0, err
		}
		if ok {
			return ladder[lo], nil
		}
	}
	return 1, nil
}

// label is the probe's scale, with the check it failed when it was
// distorted: "35", "50 (upstream 6% slower than planned)".
func (p Probe) label() string {
	if p.Honest {
		return fmt.Sprintf("%g", p.Scale)
	}
	return fmt.Sprintf("%g (%s)", p.Scale, p.Limit)
}

// explain says in one sentence why the choice was made.
func (c *AutoChoice) explain(phase string, parallel int, top float64, accepted bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "time scale %g", c.Scale)
	runs := "a run"
	if parallel > 1 {
		runs = fmt.Sprintf("%d runs at once", parallel)
	}
	// The probes' labels by kind: bisecting or confirming, honest or not.
	labels := func(confirm, honest bool) []string {
		var out []string
		for _, p := range c.Probes {
			if p.Confirm == confirm && p.Honest == honest {
				out = append(out, p.label())
			}
		}
		return out
	}
	honest, distorted := labels(false, true), labels(false, false)
	confirmed, unconfirmed := labels(true, true), labels(true, false)
	fmt.Fprintf(&b, ": calibration of phase %q with %s", phase, runs)
	if len(honest) > 0 {
		fmt.Fprintf(&b, " stayed honest at %s", strings.Join(honest, ", "))
	}
	if len(distorted) > 0 {
		if len(honest) > 0 {
			b.WriteString(" and")
		}
		fmt.Fprintf(&b, " was distorted at %s", strings.Join(distorted, ", "))
	}
	long := fmt.Sprintf("%.1f s", confirmReal.Seconds())
	if len(unconfirmed) > 0 {
		fmt.Fprintf(&b, "; a %s probe was distorted at %s", long, strings.Join(unconfirmed, ", "))
	}
	if len(confirmed) > 0 {
		fmt.Fprintf(&b, "; a %s probe confirmed %s", long, confirmed[0])
	}
	if c.Scale == top {
		allow := "the scenario's durations allow"
		if accepted {
			allow = "the scenario's durations and the caller (a sweep's cells) allow"
		}
		fmt.Fprintf(&b, "; %g is the most %s", top, allow)
	}
	return b.String()
}

// calibrationScenario returns a one-phase copy of sc's busiest phase (the
// highest peak rate; among equals, the one with the fewest faults, whose
// upstream calls show the machine's overhead best) at its peak rate, and
// its name.
func calibrationScenario(sc *scenarios.Scenario) (*scenarios.Scenario, string) {
	c := sc.Scaled(1)
	best := 0
	for i, p := range c.Phases {
		r, b := peakRate(p.Load.Rate), peakRate(c.Phases[best].Load.Rate)
		if r > b || r == b && len(p.Faults) < len(c.Phases[best].Faults) {
			best = i
		}
	}
	p := c.Phases[best]
	p.StartJitter, p.DurationDist = 0, nil
	// A probe plays the phase's first second or so: a ramp or a sine would
	// show only its start, so the probe plays the peak rate throughout.
	p.Load.Rate = scenarios.RateSpec{Pattern: scenarios.PatternConstant, Rate: scenarios.Rate(peakRate(p.Load.Rate))}
	c.Phases = []scenarios.Phase{p}
	c.Thresholds = nil
	c.Name = sc.Name + "-calibration"
	return c, p.Name
}

// peakRate is the highest rate a pattern reaches.
func peakRate(r scenarios.RateSpec) float64 {
	switch r.Pattern {
	case scenarios.PatternRamp:
		return math.Max(r.From.PerSecond(), r.To.PerSecond())
	case scenarios.PatternSine:
		return r.Mean.PerSecond() + r.Amplitude.PerSecond()
	}
	return r.Rate.PerSecond()
}

// runProbe plays parallel copies of sc at scale k for real time real,
// recording into a scratch folder it removes, and judges them with half the
// distortion limits.
func runProbe(ctx context.Context, sc *scenarios.Scenario, k float64, real time.Duration, parallel int, opts []Option) (Probe, error) {
	c := sc.Scaled(1)
	c.Phases[0].Duration = scenarios.Duration(time.Duration(float64(real) * k))
	// Probes record into a scratch folder, as the real run will: the
	// recorder's CPU (a few hundred microseconds per request) is part of
	// what the machine must keep up with.
	scratch, err := os.MkdirTemp("", "brownout-calibration-")
	if err != nil {
		return Probe{Scale: k}, fmt.Errorf("calibration: %w", err)
	}
	defer os.RemoveAll(scratch)
	results := make([]*Result, parallel)
	errs := make([]error, parallel)
	var wg sync.WaitGroup
	for i := range parallel {
		wg.Go(func() {
			dir := filepath.Join(scratch, fmt.Sprintf("run%d", i))
			results[i], errs[i] = Run(ctx, c, append(append([]Option(nil), opts...), WithTimeScale(k), WithOutDir(dir))...)
		})
	}
	wg.Wait()
	p := Probe{Scale: k, Honest: true}
	for i := range parallel {
		if errs[i] != nil {
			return p, fmt.Errorf("calibration at time scale %g: %w", k, errs[i])
		}
		d := results[i].Distortion
		if limit := beyondHeadroom(d); limit != "" {
			p.Honest, p.Distortion, p.Limit = false, d, limit
			return p, nil
		}
		if p.Distortion == nil {
			p.Distortion = d
		}
	}
	return p, nil
}

// beyondHeadroom names the first check of d beyond autoHeadroom of its
// limit, or returns "" when every check is within it.
func beyondHeadroom(d *recording.Distortion) string {
	switch {
	case d.AchievedRateRatio < 1-(1-recording.MinAchievedRate)*autoHeadroom:
		return fmt.Sprintf("achieved rate %.0f%%", 100*d.AchievedRateRatio)
	case d.ContentionTimeouts > 0 && float64(d.ContentionTimeouts) > recording.MaxContentionTimeoutShare*autoHeadroom*float64(d.UpstreamCalls):
		return fmt.Sprintf("%d contention timeouts", d.ContentionTimeouts)
	case d.UpstreamSlowdown > recording.MaxUpstreamSlowdown*autoHeadroom:
		return fmt.Sprintf("upstream %.0f%% slower than planned", 100*d.UpstreamSlowdown)
	case d.TimerLatenessP99 > time.Duration(float64(d.Tolerance)*autoHeadroom):
		return fmt.Sprintf("timers %v late", d.TimerLatenessP99.Round(time.Millisecond))
	case d.SendLagP99 > time.Duration(float64(d.Tolerance)*autoHeadroom):
		return fmt.Sprintf("requests sent %v late", d.SendLagP99.Round(time.Millisecond))
	case d.LocalWorkShift > time.Duration(float64(d.Tolerance)*autoHeadroom):
		return fmt.Sprintf("local work weighs %v", d.LocalWorkShift.Round(time.Millisecond))
	case d.BreakerLatenessMax > time.Duration(float64(d.Tolerance)*autoHeadroom):
		return fmt.Sprintf("breaker half-open %v late", d.BreakerLatenessMax.Round(time.Millisecond))
	}
	return ""
}
