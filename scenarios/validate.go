package scenarios

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"brownout/limits"
)

// FaultKinds lists every fault kind in the order they are documented.
var FaultKinds = []string{
	KindStatus, KindLatency, KindHang, KindReset, KindEmpty, KindMalformed,
	KindWrongContentType, KindSlowBody, KindStreamCut, KindStreamError,
}

// faultParams lists the parameters each fault kind accepts (besides kind and
// the selectors rate, first, every and after).
var faultParams = map[string][]string{
	KindStatus:           {"code", "body", "retry_after", "estimated_time", "message"},
	KindLatency:          {"latency"},
	KindHang:             {"duration"},
	KindReset:            nil,
	KindEmpty:            nil,
	KindMalformed:        {"mode"},
	KindWrongContentType: {"content_type"},
	KindSlowBody:         {"bytes_per_second"},
	KindStreamCut:        {"tokens"},
	KindStreamError:      {"tokens", "message"},
}

// StatusBodies maps each named error body of a status fault to the HTTP
// status the real service sends it with (the status when code is unset; a
// code given with a body overrides it). A bare code gets the body the
// real service sends with that code.
var StatusBodies = map[string]int{
	"model_loading":         503,
	"overloaded":            429,
	"validation":            422,
	"generation":            424,
	"incomplete_generation": 500,
	"bad_gateway":           502,
	"gateway_timeout":       504,
}

// MalformedModes are the values of a malformed fault's mode.
var MalformedModes = []string{"truncated", "invalid"}

var (
	policies    = []string{PolicyConsecutive, PolicyRatio}
	scopes      = []string{ScopeShared, ScopePerEndpoint}
	stores      = []string{StoreLocal, StoreRedis}
	modes       = []string{ModeChat, ModeText}
	patterns    = []string{PatternConstant, PatternRamp, PatternSine}
	dists       = []string{DistFixed, DistUniform, DistNormal, DistLognormal}
	rateParams  = map[string][]string{PatternConstant: {"rate"}, PatternRamp: {"from", "to"}, PatternSine: {"mean", "amplitude", "period"}}
	distParams  = map[string][]string{DistFixed: {"value", "cap"}, DistUniform: {"min", "max", "cap"}, DistNormal: {"mean", "stddev", "cap"}, DistLognormal: {"median", "p99", "cap"}}
	fixedParams = []string{"kind", "rate", "first", "every", "after"}
)

// Validate checks the semantic rules of a scenario built or changed in code
// (for example by command-line overrides): the same rules Parse applies,
// without positions. It returns an *[ErrorList] or nil.
func (s *Scenario) Validate() error {
	v := &validator{}
	v.scenario(s)
	if len(v.errs) == 0 {
		return nil
	}
	return &ErrorList{Errors: v.errs}
}

// validator collects semantic problems by field path. given is set while
// parsing and reports whether the file gave the field; in Validate it is
// nil, and a zero value counts as not given.
type validator struct {
	given func(path string) bool
	errs  []*FieldError
}

func (v *validator) errorf(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// wasGiven reports whether the file set the field at path; outside parsing,
// whether the value is non-zero.
func (v *validator) wasGiven(path string, zero bool) bool {
	if v.given == nil {
		return !zero
	}
	return v.given(path)
}

// inFile reports whether the file being parsed set the field at path;
// outside parsing it is false.
func (v *validator) inFile(path string) bool {
	return v.given != nil && v.given(path)
}

func (v *validator) enum(path, got, what string, valid []string) {
	if slices.Contains(valid, got) {
		return
	}
	if got == "" {
		v.errorf(path, "missing %s (valid: %s)", what, quoteList(valid))
		return
	}
	v.errorf(path, "found %q, want a %s%s (valid: %s)", got, what, didYouMean(got, valid), quoteList(valid))
}

// between checks an integer range; lo and hi are inclusive.
func (v *validator) between(path string, got, lo, hi int) {
	if got < lo || got > hi {
		v.errorf(path, "found %d, want an integer from %d to %d", got, lo, hi)
	}
}

func (v *validator) positive(path string, d Duration) {
	if d <= 0 {
		v.errorf(path, "found %s, want a positive duration", d)
	}
}

func (v *validator) nonNegative(path string, d Duration) {
	if d < 0 {
		v.errorf(path, "found %s, want a duration >= 0", d)
	}
}

func (v *validator) ratio(path string, r Ratio) {
	if !(r >= 0 && r <= 1) {
		v.errorf(path, "found %v, want a ratio in [0,1] or a percentage in 0%%..100%%", float64(r))
	}
}

func (v *validator) rateOK(path string, r Rate) {
	if !(r >= 0) || math.IsInf(float64(r), 0) {
		v.errorf(path, "found %v, want a rate >= 0", r)
	}
}

// validName reports whether a scenario or phase name is safe in a folder
// name and in a threshold filter.
func validName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-'):
		default:
			return false
		}
	}
	return true
}

func (v *validator) scenario(s *Scenario) {
	if s.Name == "" {
		v.errorf("name", "missing name")
	} else if !validName(s.Name) {
		v.errorf("name", "found %q, want letters, digits, '.', '_' or '-' (starting with a letter or digit): the name becomes a folder name", s.Name)
	}
	// 0 is a time_scale left out: the commands choose one (auto); a file
	// that writes 0 is refused.
	scaleOK := s.TimeScale > 0 && !math.IsInf(s.TimeScale, 0)
	if !scaleOK && (s.TimeScale != 0 || v.given != nil && v.given("time_scale")) {
		v.errorf("time_scale", "found %v, want a number > 0 (or leave it out to let brownout choose)", s.TimeScale)
	}
	for i, w := range s.IgnoreWarnings {
		if !knownWarning(w) {
			v.errorf(index("ignore_warnings", i), "found %q, want a warning code or name (valid: %s)", w, warningKindsText())
		}
	}
	v.breaker("breaker", &s.Breaker)
	v.assistant("assistant", &s.Assistant)
	v.load("load", &s.Load, nil)
	v.upstream("upstream", &s.Upstream, nil)
	if len(s.Phases) == 0 {
		v.errorf("phases", "no phases; a scenario needs at least one, e.g. phases: [{name: steady, duration: 60s}]")
	}
	seen := map[string]int{}
	for i, p := range s.Phases {
		path := index("phases", i)
		switch {
		case p.Name == "":
			v.errorf(path, "missing name")
		case !validName(p.Name):
			v.errorf(join(path, "name"), "found %q, want letters, digits, '.', '_' or '-' (starting with a letter or digit): thresholds name phases as phase:NAME", p.Name)
		default:
			if j, dup := seen[p.Name]; dup {
				v.errorf(join(path, "name"), "phase name %q is already used by phases[%d]; phase names must be unique", p.Name, j)
			} else {
				seen[p.Name] = i
			}
		}
		switch {
		case p.DurationDist != nil:
			v.phaseLength(join(path, "duration"), p.DurationDist)
		case !v.wasGiven(join(path, "duration"), p.Duration == 0):
			v.errorf(path, "missing duration, e.g. duration: 60s")
		default:
			v.positive(join(path, "duration"), p.Duration)
		}
		v.nonNegative(join(path, "start_jitter"), p.StartJitter)
		if i == 0 && p.StartJitter > 0 {
			v.errorf(join(path, "start_jitter"), "found %s on the first phase, which starts the run; put start_jitter on a later phase (it lengthens the phase before)", p.StartJitter)
		}
		v.load(join(path, "load"), &p.Load, &s.Load)
		v.upstream(join(path, "upstream"), &p.Upstream, &s.Upstream)
		for j := range p.Faults {
			v.fault(index(join(path, "faults"), j), &p.Faults[j])
		}
	}
	v.thresholds(s)
	switch {
	case scaleOK:
		v.timeScale(s, s.TimeScale, "time_scale")
	case s.TimeScale == 0:
		// Left out: the chosen scale is at least 1, so what holds at 1
		// (the longest run, the fastest rate) is what must hold.
		v.timeScale(s, 1, "time_scale")
	}
	if s.Target != nil {
		v.target("target", s.Target)
	}
}

// target checks what can be checked before launch; placeholders and the
// loopback rule are checked when the run starts the service.
func (v *validator) target(path string, t *Target) {
	if len(t.Command) == 0 || t.Command[0] == "" {
		v.errorf(join(path, "command"), "missing the program to launch, e.g. [python3, -m, myapp] or [uvicorn, app:app, --port, \"{port}\"]")
	}
	for name := range t.Env {
		if name == "" || strings.ContainsAny(name, "= \t\n\x00") {
			v.errorf(join(join(path, "env"), name), "found %q, want an environment variable name (no '=', spaces or NUL)", name)
		}
	}
	for _, p := range [][2]string{{"ready", t.Ready}, {"query", t.Query}, {"health", t.Health}} {
		if p[1] != "" && !strings.HasPrefix(p[1], "/") && !(p[0] == "health" && p[1] == "none") {
			v.errorf(join(path, p[0]), "found %q, want a path starting with /", p[1])
		}
	}
}

// phaseLength checks a phase length given as a distribution: only uniform
// with 0 < min <= max, because a length must be positive and bounded (a
// normal may draw below 0, a lognormal without bound).
func (v *validator) phaseLength(path string, ds *Dist) {
	if ds.Dist != DistUniform {
		v.errorf(join(path, "dist"), "found %q, want uniform: a phase length is drawn from {dist: uniform, min: 60s, max: 150s} so that it stays positive and bounded", ds.Dist)
		return
	}
	v.dist(path, ds)
	if ds.Min <= 0 {
		v.errorf(join(path, "min"), "found %s, want a positive duration: a phase cannot last 0", ds.Min)
	}
}

func (v *validator) breaker(path string, b *Breaker) {
	v.enum(join(path, "policy"), b.Policy, "policy", policies)
	v.between(join(path, "fail_threshold"), b.FailThreshold, limits.MinFailThreshold, limits.MaxFailThreshold)
	if !(b.FailureRatio > 0 && b.FailureRatio <= 1) {
		v.errorf(join(path, "failure_ratio"), "found %v, want a ratio in (0,1] or a percentage in (0%%,100%%]", float64(b.FailureRatio))
	}
	v.between(join(path, "min_requests"), b.MinRequests, limits.MinMinRequests, limits.MaxMinRequests)
	v.positive(join(path, "reset_timeout"), b.ResetTimeout)
	v.between(join(path, "half_open_max_requests"), b.HalfOpenMaxRequests, limits.MinHalfOpen, limits.MaxHalfOpen)
	v.nonNegative(join(path, "interval"), b.Interval)
	v.nonNegative(join(path, "window"), b.Window)
	v.between(join(path, "buckets"), b.Buckets, limits.MinBuckets, limits.MaxBuckets)
	if b.Window > 0 && b.Interval > 0 {
		v.errorf(join(path, "window"), "found window %s and interval %s, want one of them: window counts over a rolling window, interval clears the counts every interval", b.Window, b.Interval)
	}
	if b.Window > 0 && b.Buckets > 0 && b.Window.D() < time.Duration(b.Buckets) {
		v.errorf(join(path, "window"), "found %s, want at least %v: each of the %d buckets needs a length", b.Window, time.Duration(b.Buckets), b.Buckets)
	}
	v.positive(join(path, "call_timeout"), b.CallTimeout)
	v.enum(join(path, "scope"), b.Scope, "scope", scopes)
	v.enum(join(path, "store"), b.Store, "store", stores)
	if b.RedisURL != "" {
		if err := checkRedisURL(b.RedisURL); err != nil {
			v.errorf(join(path, "redis_url"), "found %q: %v; want redis://host:port such as redis://127.0.0.1:6379, or nothing for the embedded Redis", b.RedisURL, err)
		}
	}
}

// checkRedisURL accepts what the Redis client accepts: redis:// or
// rediss:// with a host.
func checkRedisURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.Unwrap(err)
	case u.Scheme != "redis" && u.Scheme != "rediss":
		return fmt.Errorf("scheme %q is not redis or rediss", u.Scheme)
	case u.Hostname() == "":
		return errors.New("no host")
	}
	return nil
}

func (v *validator) assistant(path string, a *Assistant) {
	v.enum(join(path, "mode"), a.Mode, "mode", modes)
	v.between(join(path, "replicas"), a.Replicas, limits.MinReplicas, limits.MaxReplicas)
	v.between(join(path, "top_k"), a.TopK, limits.MinTopK, limits.MaxTopK)
	v.between(join(path, "cache.size"), a.Cache.Size, 0, limits.MaxCacheSize)
	v.positive(join(path, "cache.ttl"), a.Cache.TTL)
	v.between(join(path, "excerpts.count"), a.Excerpts.Count, limits.MinExcerptCount, limits.MaxExcerptCount)
	v.between(join(path, "excerpts.chars"), a.Excerpts.Chars, limits.MinExcerptChars, limits.MaxExcerptChars)
}

// load checks a load; for a phase, base is the scenario's load and only the
// values the phase changed are checked (the others were checked there).
func (v *validator) load(path string, l, base *LoadSpec) {
	if base == nil || l.Rate != base.Rate {
		v.rateSpec(join(path, "rate"), &l.Rate)
	}
	if base == nil || l.Queries != base.Queries {
		switch {
		case strings.TrimSpace(l.Queries) == "":
			v.errorf(join(path, "queries"), "empty; want builtin or the path of a text file with one question per line")
		case l.Queries != QueriesBuiltin:
			if _, err := ReadQueries(l.Queries); err != nil {
				v.errorf(join(path, "queries"), "%v", err)
			}
		}
	}
	if base == nil || l.RepeatRatio != base.RepeatRatio {
		v.ratio(join(path, "repeat_ratio"), l.RepeatRatio)
	}
	if base == nil || l.Timeout != base.Timeout {
		v.positive(join(path, "timeout"), l.Timeout)
	}
	if base == nil || l.MaxWorkers != base.MaxWorkers {
		v.between(join(path, "max_workers"), l.MaxWorkers, 1, limits.MaxWorkers)
	}
}

// nonZeroParams returns the YAML keys of the non-zero fields of the struct
// at p.
func nonZeroParams(p any) []string {
	var out []string
	for _, f := range fieldValues(p) {
		if !f.zero {
			out = append(out, f.name)
		}
	}
	return out
}

// notParams reports the set parameters that the variant does not take.
func (v *validator) notParams(path, what, variant string, set, allowed, always []string) {
	for _, p := range set {
		if slices.Contains(always, p) || slices.Contains(allowed, p) {
			continue
		}
		hint := "it takes no parameters"
		if len(allowed) > 0 {
			hint = "its parameters: " + quoteList(allowed)
		}
		v.errorf(join(path, p), "%s is not a parameter of %s %s (%s)", p, what, variant, hint)
	}
}

func (v *validator) rateSpec(path string, rs *RateSpec) {
	if !slices.Contains(patterns, rs.Pattern) {
		v.enum(join(path, "pattern"), rs.Pattern, "pattern", patterns)
		return
	}
	v.notParams(path, "pattern", rs.Pattern, nonZeroParams(rs), rateParams[rs.Pattern], []string{"pattern"})
	for _, f := range []struct {
		name string
		r    Rate
	}{{"rate", rs.Rate}, {"from", rs.From}, {"to", rs.To}, {"mean", rs.Mean}, {"amplitude", rs.Amplitude}} {
		v.rateOK(join(path, f.name), f.r)
	}
	// A pattern written in the file must give its parameters; a default or
	// a pattern set in code is complete by construction.
	missing := func(k, example string) bool {
		if v.inFile(path) && !v.inFile(join(path, k)) {
			v.errorf(path, "missing %s for pattern %s, e.g. %s", k, rs.Pattern, example)
			return true
		}
		return false
	}
	switch rs.Pattern {
	case PatternConstant:
		missing("rate", "rate: 20/s")
	case PatternRamp:
		const example = "{pattern: ramp, from: 5/s, to: 50/s}"
		missing("from", example)
		missing("to", example)
	case PatternSine:
		const example = "{pattern: sine, mean: 30/s, amplitude: 10/s, period: 60s}"
		if !missing("mean", example) && rs.Mean <= 0 {
			v.errorf(join(path, "mean"), "found %v, want a rate > 0 for pattern sine", rs.Mean)
		}
		if !missing("amplitude", example) && rs.Amplitude > rs.Mean {
			v.errorf(join(path, "amplitude"), "found %v, want at most the mean %v (a rate cannot go negative)", rs.Amplitude, rs.Mean)
		}
		if !missing("period", example) {
			v.positive(join(path, "period"), rs.Period)
		}
	}
}

// upstream checks an upstream; for a phase, base is the scenario's.
func (v *validator) upstream(path string, u, base *Upstream) {
	if base == nil || u.Latency.TTFT != base.Latency.TTFT {
		v.dist(join(path, "latency.ttft"), &u.Latency.TTFT)
	}
	if base == nil || u.Latency.PerToken != base.Latency.PerToken {
		v.dist(join(path, "latency.per_token"), &u.Latency.PerToken)
	}
	if base == nil || u.Tokens != base.Tokens {
		v.between(join(path, "tokens"), u.Tokens, 1, limits.MaxTokens)
	}
	if base == nil || u.Capacity.Concurrency != base.Capacity.Concurrency {
		v.between(join(path, "capacity.concurrency"), u.Capacity.Concurrency, 0, limits.MaxQueue)
	}
	if base == nil || u.Capacity.Queue != base.Capacity.Queue {
		v.between(join(path, "capacity.queue"), u.Capacity.Queue, 0, limits.MaxQueue)
	}
}

func (v *validator) dist(path string, ds *Dist) {
	if !slices.Contains(dists, ds.Dist) {
		v.enum(join(path, "dist"), ds.Dist, "distribution", dists)
		return
	}
	v.notParams(path, "dist", ds.Dist, nonZeroParams(ds), distParams[ds.Dist], []string{"dist"})
	for _, f := range []struct {
		name string
		d    Duration
	}{{"value", ds.Value}, {"min", ds.Min}, {"max", ds.Max}, {"mean", ds.Mean}, {"stddev", ds.Stddev}, {"median", ds.Median}, {"p99", ds.P99}, {"cap", ds.Cap}} {
		v.nonNegative(join(path, f.name), f.d)
	}
	need := func(k string, zero bool) {
		if v.given != nil && !v.given(path) {
			return // a default, complete by construction
		}
		if !v.wasGiven(join(path, k), zero) {
			v.errorf(path, "missing %s for dist %s (its parameters: %s)", k, ds.Dist, quoteList(distParams[ds.Dist]))
		}
	}
	switch ds.Dist {
	case DistFixed:
		if v.given != nil {
			need("value", ds.Value == 0)
		}
	case DistUniform:
		need("max", ds.Max == 0)
		if ds.Max < ds.Min {
			v.errorf(join(path, "max"), "found %s, want at least min %s", ds.Max, ds.Min)
		}
	case DistNormal:
		need("mean", ds.Mean == 0)
	case DistLognormal:
		need("median", ds.Median == 0)
		need("p99", ds.P99 == 0)
		if ds.Median > 0 && ds.P99 > 0 && ds.P99 < ds.Median {
			v.errorf(join(path, "p99"), "found %s, want at least the median %s", ds.P99, ds.Median)
		}
	}
}

func (v *validator) fault(path string, f *Fault) {
	switch {
	case f.Rate != nil && f.RateTo != nil:
		v.ratio(join(path, "rate.from"), *f.Rate)
		v.ratio(join(path, "rate.to"), *f.RateTo)
	case f.RateTo != nil:
		v.ratio(join(path, "rate.to"), *f.RateTo)
	case f.Rate != nil:
		v.ratio(join(path, "rate"), *f.Rate)
	}
	for _, sel := range []struct {
		name string
		n    int
	}{{"first", f.First}, {"every", f.Every}, {"after", f.After}} {
		p := join(path, sel.name)
		if sel.n < 0 || (sel.n == 0 && v.inFile(p)) {
			v.errorf(p, "found %d, want a positive integer (a count of calls)", sel.n)
		}
	}
	if !slices.Contains(FaultKinds, f.Kind) {
		if f.Kind == "" {
			v.errorf(path, "missing kind (valid: %s)", quoteList(FaultKinds))
		} else {
			v.errorf(join(path, "kind"), "unknown fault kind %q%s (valid: %s)", f.Kind, didYouMean(f.Kind, FaultKinds), quoteList(FaultKinds))
		}
		return
	}
	v.notParams(path, "kind", f.Kind, nonZeroParams(f), faultParams[f.Kind], fixedParams)
	switch f.Kind {
	case KindStatus:
		bodies := slices.Sorted(maps.Keys(StatusBodies))
		if f.Code == 0 && f.Body == "" {
			v.errorf(path, "kind status needs a code (e.g. code: 500) or a named body (valid: %s)", quoteList(bodies))
		}
		if f.Code != 0 && (f.Code < 100 || f.Code > 599) {
			v.errorf(join(path, "code"), "found %d, want an HTTP status in 100..599", f.Code)
		}
		if f.Body != "" {
			if _, ok := StatusBodies[f.Body]; !ok {
				v.errorf(join(path, "body"), "unknown body %q%s (valid: %s)", f.Body, didYouMean(f.Body, bodies), quoteList(bodies))
			}
		}
		v.nonNegative(join(path, "retry_after"), f.RetryAfter)
		v.nonNegative(join(path, "estimated_time"), f.EstimatedTime)
		if f.EstimatedTime != 0 && f.Body != "model_loading" && (f.Body != "" || f.Code != 503) {
			v.errorf(join(path, "estimated_time"), "estimated_time belongs to body model_loading (or a bare code 503) only")
		}
	case KindLatency:
		if f.Latency == nil {
			v.errorf(path, "kind latency needs latency, e.g. latency: {dist: fixed, value: 2s}")
		} else {
			v.dist(join(path, "latency"), f.Latency)
		}
	case KindHang:
		v.nonNegative(join(path, "duration"), f.Duration)
	case KindMalformed:
		if f.Mode != "" {
			v.enum(join(path, "mode"), f.Mode, "malformed mode", MalformedModes)
		}
	case KindSlowBody:
		if f.BytesPerSecond <= 0 {
			p := join(path, "bytes_per_second")
			if !v.wasGiven(p, f.BytesPerSecond == 0) {
				v.errorf(path, "kind slow_body needs bytes_per_second, e.g. bytes_per_second: 50")
			} else {
				v.errorf(p, "found %d, want a positive integer", f.BytesPerSecond)
			}
		}
	case KindStreamCut, KindStreamError:
		v.between(join(path, "tokens"), f.Tokens, 0, limits.MaxTokens)
	}
}

func (v *validator) thresholds(s *Scenario) {
	names := make([]string, 0, len(s.Phases))
	for _, p := range s.Phases {
		names = append(names, p.Name)
	}
	for _, th := range s.Thresholds {
		path := fmt.Sprintf("thresholds[%q]", th.Key)
		if _, ok := Metrics[th.Metric]; !ok {
			v.errorf(path, "unknown metric %q%s", th.Metric, didYouMean(th.Metric, metricNames()))
			continue
		}
		if ph := th.Filters.Phase; ph != "" && !slices.Contains(names, ph) {
			v.errorf(path, "phase %q does not exist%s (phases: %s)", ph, didYouMean(ph, names), quoteList(names))
		}
		if k, n := th.Filters.Replica, max(1, s.Assistant.Replicas); k > n {
			v.errorf(path, "replica %d does not exist: assistant.replicas is %d (valid: 1 to %d)", k, n, n)
		}
		if len(th.Conditions) == 0 {
			v.errorf(path, "no condition; write e.g. [\"< 100ms\"]")
		}
		for i, c := range th.Conditions {
			if !slices.Contains(Operators, c.Op) {
				v.errorf(index(path, i), "unknown operator %q (valid: %s)", c.Op, strings.Join(Operators, " "))
			}
		}
	}
}
