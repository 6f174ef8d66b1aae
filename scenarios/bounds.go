package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"brownout/limits"
)

// scaledValue is one duration or rate of a scenario under its field path.
type scaledValue struct {
	path string
	d    Duration // when isRate is false
	r    Rate     // when isRate is true
	// isRate tells which of d and r the value is.
	isRate bool
}

// scaledValues lists every duration and rate of s (the ones a time scale
// changes) under its field path, thresholds excluded. A phase's load and
// upstream values equal to the scenario's are left out: they were inherited,
// and a problem with them is reported once, at the scenario's key.
func scaledValues(s *Scenario) []scaledValue {
	var out []scaledValue
	base := map[string]scaledValue{}
	rv := reflect.ValueOf(s).Elem()
	names, idx := fieldInfo(rv.Type())
	for _, n := range names {
		switch n {
		case "thresholds", "phases":
			continue
		}
		walkScaled(rv.Field(idx[n]), n, func(v scaledValue) {
			out = append(out, v)
			base[v.path] = v
		})
	}
	for i := range s.Phases {
		prefix := index("phases", i)
		walkScaled(reflect.ValueOf(&s.Phases[i]).Elem(), prefix, func(v scaledValue) {
			rel := strings.TrimPrefix(v.path, prefix+".")
			if b, ok := base[rel]; ok && b.d == v.d && b.r == v.r {
				return
			}
			out = append(out, v)
		})
		// A length drawn per run: both ends must be playable.
		if ds := s.Phases[i].DurationDist; ds != nil {
			out = append(out, scaledValue{path: join(prefix, "duration.min"), d: ds.Min},
				scaledValue{path: join(prefix, "duration.max"), d: ds.Max})
		}
	}
	return out
}

// longestPhase is the most scenario time phase p may take in a run: its
// length (the upper bound of a drawn one) plus its start jitter.
func longestPhase(p *Phase) Duration {
	d := p.Duration
	if p.DurationDist != nil {
		d = max(p.DurationDist.Max, p.DurationDist.Min)
	}
	return d + max(p.StartJitter, 0)
}

// walkScaled calls fn for every Duration and Rate reachable from v.
func walkScaled(v reflect.Value, path string, fn func(scaledValue)) {
	switch v.Type() {
	case durationType:
		fn(scaledValue{path: path, d: Duration(v.Int())})
		return
	case rateType:
		fn(scaledValue{path: path, r: Rate(v.Float()), isRate: true})
		return
	case thresholdsType:
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walkScaled(v.Elem(), path, fn)
		}
	case reflect.Struct:
		names, idx := fieldInfo(v.Type())
		for _, n := range names {
			walkScaled(v.Field(idx[n]), join(path, n), fn)
		}
	case reflect.Slice:
		for i := range v.Len() {
			walkScaled(v.Index(i), index(path, i), fn)
		}
	}
}

// durationBounds returns the range a duration at path must fall in once
// compressed: at most max, and at least limits.MinScaledDuration when
// timed is set (the breaker, phase, timeout and cache durations, whose
// timing decides the order of breaker transitions; latencies below timer
// resolution simply round up).
func durationBounds(path string) (maxD time.Duration, timed bool) {
	leaf := path[strings.LastIndexByte(path, '.')+1:]
	switch {
	case path == "breaker.reset_timeout":
		return limits.MaxResetTimeout, true
	case path == "breaker.call_timeout":
		return limits.MaxCallTimeout, true
	case path == "breaker.interval":
		return limits.MaxInterval, true
	case path == "assistant.cache.ttl":
		return limits.MaxCacheTTL, true
	case path == "breaker.window":
		return limits.MaxInterval, true
	case strings.HasPrefix(path, "phases[") && leaf == "duration" && strings.Count(path, ".") == 1,
		strings.HasPrefix(path, "phases[") && (strings.HasSuffix(path, ".duration.min") || strings.HasSuffix(path, ".duration.max")) && strings.Count(path, ".") == 2:
		return limits.MaxScenarioDuration, true
	case strings.HasPrefix(path, "phases[") && leaf == "start_jitter":
		return limits.MaxScenarioDuration, false
	case path == "load.timeout" || strings.HasPrefix(path, "phases[") && strings.HasSuffix(path, ".load.timeout"):
		return limits.MaxDuration, true
	}
	return limits.MaxDuration, false
}

// CheckTimeScale reports every value that the time scale k would push out
// of what brownout can run: a breaker, phase, timeout or cache duration
// shorter than [limits.MinScaledDuration] once compressed (naming the
// largest scale that would be accepted), a duration or the whole timeline
// longer than its limit once stretched (naming the smallest scale), a rate
// above [limits.MaxRate]. Parse applies it at the scenario's own
// time_scale, so that `brownout validate` refuses what `brownout run`
// would; `brownout run --time-scale K` applies it at K. It returns an
// *[ErrorList] whose errors name the field, or nil.
func (s *Scenario) CheckTimeScale(k float64) error {
	v := &validator{}
	v.timeScale(s, k, "")
	if len(v.errs) == 0 {
		return nil
	}
	return &ErrorList{Errors: v.errs}
}

// timeScale checks s at time scale k; scalePath names where k came from
// (time_scale in a file, empty for a flag). At time scale 1 every value out
// of range is reported at its own field. At any other scale the values are
// fine as written, so one error at scalePath names the field that limits
// the scale most and the scale that would be accepted.
func (v *validator) timeScale(s *Scenario, k float64, scalePath string) {
	if !(k > 0) || math.IsInf(k, 0) {
		v.errorf(scalePath, "time scale %v: want a number > 0", k)
		return
	}
	var low, high *limitHit // the tightest lower and upper bounds on k broken
	note := func(h limitHit) {
		if k == 1 {
			v.errorf(h.path, "found %s, %s; want %s", h.found, h.what, h.want)
			return
		}
		switch {
		case h.minScale > 0 && (low == nil || h.minScale > low.minScale):
			low = &h
		case h.maxScale > 0 && (high == nil || h.maxScale < high.maxScale):
			high = &h
		}
	}
	var total float64
	for i := range s.Phases {
		if d := longestPhase(&s.Phases[i]); d > 0 {
			total += float64(d)
		}
	}
	// In scenario time, whatever the scale: the recording and the report
	// add up phase spans, and a timeline beyond the limit could overflow.
	if total > float64(limits.MaxScenarioDuration) {
		v.errorf("phases", "the phases last %s in total, more than the %v a scenario may last; want at most %v in total",
			fmtDuration(total), limits.MaxScenarioDuration, limits.MaxScenarioDuration)
	} else if real := total / k; k != 1 && real > float64(limits.MaxScenarioDuration) {
		note(limitHit{path: "phases", found: fmtDuration(total) + " in total", real: fmtDuration(real),
			what:     fmt.Sprintf("more than the %v a run may last", limits.MaxScenarioDuration),
			want:     fmt.Sprintf("at most %v in total", limits.MaxScenarioDuration),
			minScale: total / float64(limits.MaxScenarioDuration)})
	}
	for _, sv := range scaledValues(s) {
		if sv.isRate {
			if real := float64(sv.r) * k; real > limits.MaxRate {
				note(limitHit{path: sv.path, found: sv.r.String(), real: Rate(real).String(),
					what:     fmt.Sprintf("more than the %g/s allowed", float64(limits.MaxRate)),
					want:     fmt.Sprintf("at most %g/s", float64(limits.MaxRate)),
					maxScale: limits.MaxRate / float64(sv.r)})
			}
			continue
		}
		if sv.d <= 0 {
			continue // unset, "never", or refused by the sign checks
		}
		maxD, timed := durationBounds(sv.path)
		real := float64(sv.d) / k
		switch {
		case real > float64(maxD):
			note(limitHit{path: sv.path, found: sv.d.String(), real: fmtDuration(real),
				what:     fmt.Sprintf("longer than the %v allowed", maxD),
				want:     fmt.Sprintf("at most %v", maxD),
				minScale: float64(sv.d) / float64(maxD)})
		case timed && real < float64(limits.MinScaledDuration):
			note(limitHit{path: sv.path, found: sv.d.String(), real: fmtDuration(real),
				what:     fmt.Sprintf("shorter than the %v this machine can time reliably", limits.MinScaledDuration),
				want:     fmt.Sprintf("at least %v", limits.MinScaledDuration),
				maxScale: float64(sv.d) / float64(limits.MinScaledDuration)})
		}
	}
	for _, h := range []*limitHit{low, high} {
		if h == nil {
			continue
		}
		dir, bound, scale := "low", "at least", h.minScale
		if h.maxScale > 0 {
			dir, bound, scale = "high", "at most", h.maxScale
		}
		advice := fmt.Sprintf("use a time scale of %s %.3g", bound, scale)
		if low != nil && high != nil && low.minScale > high.maxScale {
			advice = fmt.Sprintf("no time scale fits both %s and %s; change one of them", low.path, high.path)
		}
		v.errorf(scalePath, "time scale %g is too %s: %s = %s would become %s, %s; %s", k, dir, h.path, h.found, h.real, h.what, advice)
	}
}

// limitHit is one value that a time scale pushes out of its range.
type limitHit struct {
	path, found, real, what, want string
	// minScale or maxScale is the bound on the time scale that fixes it.
	minScale, maxScale float64
}

// fmtDuration formats nanoseconds held in a float64, which may exceed what
// a time.Duration can hold.
func fmtDuration(ns float64) string {
	if ns < math.MaxInt64/2 {
		return time.Duration(ns).String()
	}
	return fmt.Sprintf("%.4gh", ns/float64(time.Hour))
}
