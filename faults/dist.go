package faults

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// A Dist is a latency distribution. Sample returns one draw, already
// clamped to the distribution's [0, Cap]; it must not retain r.
type Dist interface {
	Sample(r *rand.Rand) time.Duration
}

// z99 is the 0.99 quantile of the standard normal distribution, used to
// turn a lognormal's (median, p99) into its sigma.
const z99 = 2.3263478740408408

// newDist builds the distribution described by s, or explains what is
// wrong with it.
func newDist(s DistSpec) (Dist, error) {
	if s.Cap < 0 {
		return nil, fmt.Errorf("cap: must be >= 0, got %v", s.Cap)
	}
	c := cmp.Or(s.Cap, DefaultCap)
	unused := func(names ...string) error {
		var bad []string
		for _, p := range []struct {
			name string
			v    time.Duration
		}{
			{"value", s.Value}, {"min", s.Min}, {"max", s.Max}, {"mean", s.Mean},
			{"stddev", s.Stddev}, {"median", s.Median}, {"p99", s.P99},
		} {
			if p.v != 0 && !slices.Contains(names, p.name) {
				bad = append(bad, p.name)
			}
		}
		if len(bad) > 0 {
			return fmt.Errorf("%s: not used by dist %q", strings.Join(bad, ", "), s.Dist)
		}
		return nil
	}
	switch s.Dist {
	case "":
		if err := unused(); err != nil {
			return nil, fmt.Errorf("%w (set dist)", err)
		}
		return zeroDist{}, nil
	case "fixed":
		if s.Value < 0 {
			return nil, fmt.Errorf("value: must be >= 0, got %v", s.Value)
		}
		return fixedDist{v: min(s.Value, c)}, unused("value")
	case "uniform":
		if s.Min < 0 || s.Max < s.Min {
			return nil, fmt.Errorf("uniform: need 0 <= min <= max, got min %v max %v", s.Min, s.Max)
		}
		return uniformDist{lo: s.Min, hi: s.Max, cap: c}, unused("min", "max")
	case "normal":
		if s.Stddev < 0 {
			return nil, fmt.Errorf("stddev: must be >= 0, got %v", s.Stddev)
		}
		return normalDist{mean: float64(s.Mean), sd: float64(s.Stddev), cap: c}, unused("mean", "stddev")
	case "lognormal":
		if s.Median <= 0 || s.P99 < s.Median {
			return nil, fmt.Errorf("lognormal: need 0 < median <= p99, got median %v p99 %v", s.Median, s.P99)
		}
		return lognormalDist{
			median: float64(s.Median),
			sigma:  math.Log(float64(s.P99)/float64(s.Median)) / z99,
			cap:    c,
		}, unused("median", "p99")
	default:
		return nil, fmt.Errorf("unknown dist %q (want fixed, uniform, normal or lognormal)", s.Dist)
	}
}

// clamp bounds a float sample in nanoseconds to [0, c].
func clamp(ns float64, c time.Duration) time.Duration {
	if !(ns > 0) { // also NaN
		return 0
	}
	if ns >= float64(c) {
		return c
	}
	return time.Duration(ns)
}

// zeroDist is the empty DistSpec: no delay at all, and no draw.
type zeroDist struct{}

func (zeroDist) Sample(*rand.Rand) time.Duration { return 0 }

// fixedDist always returns v.
type fixedDist struct{ v time.Duration }

func (d fixedDist) Sample(*rand.Rand) time.Duration { return d.v }

// uniformDist draws uniformly from [lo, hi].
type uniformDist struct{ lo, hi, cap time.Duration }

func (d uniformDist) Sample(r *rand.Rand) time.Duration {
	return clamp(float64(d.lo)+r.Float64()*float64(d.hi-d.lo), d.cap)
}

// normalDist draws from N(mean, sd²), clamped at 0.
type normalDist struct {
	mean, sd float64
	cap      time.Duration
}

func (d normalDist) Sample(r *rand.Rand) time.Duration {
	return clamp(d.mean+d.sd*r.NormFloat64(), d.cap)
}

// lognormalDist draws median·exp(sigma·Z), so its median and 0.99 quantile
// are the configured ones.
type lognormalDist struct {
	median, sigma float64
	cap           time.Duration
}

func (d lognormalDist) Sample(r *rand.Rand) time.Duration {
	return clamp(d.median*math.Exp(d.sigma*r.NormFloat64()), d.cap)
}

// ParseDist reads the command-line form of a distribution:
//
//	fixed:200ms
//	uniform:100ms,300ms
//	normal:200ms,50ms          (mean, stddev)
//	lognormal:200ms,2s         (median, p99)
//
// each optionally followed by ",cap=5s". The empty string and "0" are the
// zero distribution.
func ParseDist(s string) (DistSpec, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return DistSpec{}, nil
	}
	kind, rest, ok := strings.Cut(s, ":")
	if !ok {
		// A bare duration is shorthand for fixed.
		d, err := time.ParseDuration(s)
		if err != nil {
			return DistSpec{}, fmt.Errorf("distribution %q: want KIND:ARGS or a duration", s)
		}
		return DistSpec{Dist: "fixed", Value: d}, nil
	}
	spec := DistSpec{Dist: kind}
	var args []time.Duration
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if v, ok := strings.CutPrefix(part, "cap="); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				return DistSpec{}, fmt.Errorf("distribution %q: cap: %w", s, err)
			}
			spec.Cap = d
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil {
			return DistSpec{}, fmt.Errorf("distribution %q: %w", s, err)
		}
		args = append(args, d)
	}
	want := map[string]int{"fixed": 1, "uniform": 2, "normal": 2, "lognormal": 2}[kind]
	if want == 0 {
		return DistSpec{}, fmt.Errorf("distribution %q: unknown dist %q (want fixed, uniform, normal or lognormal)", s, kind)
	}
	if len(args) != want {
		return DistSpec{}, fmt.Errorf("distribution %q: %s takes %d durations, got %d", s, kind, want, len(args))
	}
	switch kind {
	case "fixed":
		spec.Value = args[0]
	case "uniform":
		spec.Min, spec.Max = args[0], args[1]
	case "normal":
		spec.Mean, spec.Stddev = args[0], args[1]
	case "lognormal":
		spec.Median, spec.P99 = args[0], args[1]
	}
	if _, err := newDist(spec); err != nil {
		return DistSpec{}, fmt.Errorf("distribution %q: %w", s, err)
	}
	return spec, nil
}

// errNoDist is returned where a distribution is required but missing.
var errNoDist = errors.New("missing distribution")
