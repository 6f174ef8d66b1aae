package scenarios

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Duration is a span of scenario time. In YAML it is a Go duration string
// ("250ms", "90s", "5m", "1m30s"); the integer 0 is also accepted. It is a
// distinct type so that [Scenario.Scaled] can find every duration to compress.
type Duration time.Duration

// D returns d as a time.Duration, for arithmetic and the standard library.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String returns the Go form of d ("1m30s"), which the parser reads back.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes d in the Go string form, so Marshal round-trips.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// ParseDuration reads a scenario duration such as "250ms" or "5m". A bare
// number other than 0 is refused: "90" could mean seconds or milliseconds.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, ferr := strconv.ParseFloat(s, 64); ferr == nil {
			return 0, fmt.Errorf("%q has no unit; write e.g. \"%ss\" or \"%sms\"", s, s, s)
		}
		if durationSyntax.MatchString(s) {
			return 0, fmt.Errorf("%q is out of range: a duration is at most %v", s, time.Duration(math.MaxInt64))
		}
		return 0, fmt.Errorf("%q is not a duration; write e.g. \"250ms\", \"90s\" or \"5m\"", s)
	}
	return Duration(d), nil
}

// durationSyntax matches what time.ParseDuration reads, so that a value it
// refuses anyway is known to be too large rather than misspelt.
var durationSyntax = regexp.MustCompile(`^[-+]?([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+$`)

// Rate is a request rate in requests per second. In YAML it is "N/s" or
// "N/m" (per minute); it marshals as "N/s". It is a distinct type so that
// [Scenario.Scaled] can find every rate to multiply.
type Rate float64

// PerSecond returns r as a plain float64 number of requests per second.
func (r Rate) PerSecond() float64 { return float64(r) }

// String returns r in the "N/s" form that the parser reads back exactly.
func (r Rate) String() string {
	return strconv.FormatFloat(float64(r), 'g', -1, 64) + "/s"
}

// MarshalYAML writes r as "N/s", so Marshal round-trips.
func (r Rate) MarshalYAML() (any, error) { return r.String(), nil }

// ParseRate reads a rate such as "20/s" or "600/m" (= 10/s). Negative,
// infinite and NaN rates are refused.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	num, unit, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("%q is not a rate; write requests per second or minute, e.g. \"20/s\" or \"600/m\"", s)
	}
	v, ok := parseFinite(strings.TrimSpace(num))
	if !ok {
		return 0, fmt.Errorf("%q is not a rate: %q is not a number", s, strings.TrimSpace(num))
	}
	switch strings.TrimSpace(unit) {
	case "s":
	case "m":
		v /= 60
	default:
		return 0, fmt.Errorf("%q is not a rate: unit %q is not \"s\" or \"m\"", s, strings.TrimSpace(unit))
	}
	if v < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return Rate(v), nil
}

// Ratio is a fraction in [0,1]. In YAML it is a number (0.95) or a
// percentage string ("95%"); it marshals as a number.
type Ratio float64

// MarshalYAML writes r as a plain number, so Marshal round-trips.
func (r Ratio) MarshalYAML() (any, error) { return float64(r), nil }

// ParseRatio reads "95%" or "0.95" into a fraction. It does not check the
// range; validation does, so that the message can name the field.
func ParseRatio(s string) (Ratio, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, ok := parseFinite(strings.TrimSpace(p))
		if !ok {
			return 0, fmt.Errorf("%q is not a percentage", s)
		}
		return Ratio(v / 100), nil
	}
	v, ok := parseFinite(s)
	if !ok {
		return 0, fmt.Errorf("%q is not a ratio; write a number in [0,1] or a percentage like \"95%%\"", s)
	}
	return Ratio(v), nil
}

// parseFinite reads a number, refusing NaN and infinities.
func parseFinite(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// Scenario is one scripted incident: how the assistant and its breaker are
// configured, the load driven at it, how the upstream behaves in each phase,
// and the thresholds the run must meet. Values are in scenario time; a run
// compresses them with [Scenario.Scaled].
type Scenario struct {
	// Name identifies the scenario (letters, digits, '.', '_', '-'); it names the output folder. Default: the file name without extension.
	Name string `yaml:"name" jsonschema:"pattern=^[A-Za-z0-9][A-Za-z0-9._-]*$"`
	// Description says which incident the scenario models; its first line is the summary `brownout scenarios` lists.
	Description string `yaml:"description"`
	// Seed makes every random choice of a run (fault decisions, latencies, questions) reproducible. Default 1.
	Seed int64 `yaml:"seed"`
	// TimeScale is the default compression for `brownout run` and `brownout sweep`: every duration is divided by it and every rate multiplied by it. Left out (0), the commands measure the machine and choose the fastest honest scale (--time-scale auto).
	TimeScale float64 `yaml:"time_scale" jsonschema:"exclusiveMinimum=0"`
	// Breaker configures the circuit breaker under test.
	Breaker Breaker `yaml:"breaker"`
	// Assistant configures the assistant service and its fallbacks.
	Assistant Assistant `yaml:"assistant"`
	// Load is the traffic driven at the assistant; a phase may override any key.
	Load LoadSpec `yaml:"load"`
	// Upstream is how the fake inference server behaves when no fault fires; a phase may override any key.
	Upstream Upstream `yaml:"upstream"`
	// Phases is the timeline, played in order; at least one.
	Phases []Phase `yaml:"phases" jsonschema:"required,minItems=1"`
	// IgnoreWarnings silences warnings by code or name, e.g. [W001] or [ratio-without-window], for a scenario that means what it says.
	IgnoreWarnings []string `yaml:"ignore_warnings"`
	// Warnings are the warnings Parse found (with positions), minus the ignored ones; see [Scenario.Lint] for a scenario built in code.
	Warnings []Warning `yaml:"-"`
	// Thresholds maps a metric key such as `latency_p99{phase:outage}` to conditions such as "< 100ms"; all must hold for the run to pass. Kept in file order.
	Thresholds []Threshold `yaml:"thresholds"`
	// Target is your own service, launched by brownout for each run instead of the built-in assistant (docs/targets.md); --target-cmd and --target override it.
	Target *Target `yaml:"target"`
}

// Target is a service brownout launches for each run: it picks a free port, sets PORT, the fake upstream's URL and the seed's CIRCUIT_BREAKER_* variables (durations divided by the time scale), waits until the service is ready, plays, and stops it.
type Target struct {
	// Command is the program and its arguments, run without a shell; each may hold placeholders such as {port} or {breaker.reset_timeout.seconds}.
	Command []string `yaml:"command" jsonschema:"required,minItems=1"`
	// Env adds or overrides environment variables; values may hold placeholders, e.g. {HF_API_URL: "{upstream}"}.
	Env map[string]string `yaml:"env"`
	// UpstreamEnv names the variable that receives the fake upstream's URL. Default HF_API_BASE.
	UpstreamEnv string `yaml:"upstream_env"`
	// URL is where the service answers. Default http://127.0.0.1:{port}.
	URL string `yaml:"url"`
	// Ready is the path polled until it answers 2xx. Default: the health path.
	Ready string `yaml:"ready"`
	// Query is the query path. Default /assistant/query.
	Query string `yaml:"query"`
	// Health is the health path, or none to infer the breaker from the answers. Default /assistant/health/circuit-breaker.
	Health string `yaml:"health"`
}

// Breaker is the circuit breaker's configuration (gobreaker semantics).
type Breaker struct {
	// Enabled turns the breaker on; false sends every call upstream. Default true.
	Enabled bool `yaml:"enabled"`
	// Policy decides when the breaker trips: consecutive (fail_threshold failures in a row) or ratio (failure_ratio of at least min_requests calls). Default consecutive.
	Policy string `yaml:"policy" jsonschema:"enum=consecutive,enum=ratio"`
	// FailThreshold is the number of consecutive failures that trip the breaker (policy consecutive), 1 to 10000. Default 5.
	FailThreshold int `yaml:"fail_threshold" jsonschema:"minimum=1,maximum=10000"`
	// FailureRatio is the share of failed calls that trips the breaker (policy ratio). Default 50%.
	FailureRatio Ratio `yaml:"failure_ratio"`
	// MinRequests is the number of calls in the closed state before the ratio counts (policy ratio), 1 to 1000000. Default 20.
	MinRequests int `yaml:"min_requests" jsonschema:"minimum=1,maximum=1000000"`
	// ResetTimeout is how long the breaker stays open before it lets probes through (half-open); more than 0, at most 24h. Default 60s.
	ResetTimeout Duration `yaml:"reset_timeout"`
	// HalfOpenMaxRequests is the number of probe calls allowed while half-open, 1 to 10000. Default 1.
	HalfOpenMaxRequests int `yaml:"half_open_max_requests" jsonschema:"minimum=1,maximum=10000"`
	// Interval is the period after which the closed state's counts reset, at most 24h; 0 never resets them. Default 0s.
	Interval Duration `yaml:"interval"`
	// CallTimeout bounds each upstream call (at most 1h); a call that takes longer counts as a failure. Default 30s.
	CallTimeout Duration `yaml:"call_timeout"`
	// Scope is shared (one breaker for every upstream route) or per-endpoint (one per route). Default shared.
	Scope string `yaml:"scope" jsonschema:"enum=shared,enum=per-endpoint"`
	// Window, when set, makes the closed state count over a rolling window of this length (gobreaker's Interval with BucketPeriod = window/buckets), so the breaker reacts to a storm within one window however long it was healthy before; exclusive with interval. Default 0s (none).
	Window Duration `yaml:"window"`
	// Buckets is the number of buckets the rolling window is cut into, 2 to 1000; the oldest bucket is dropped whole, so the counts cover between window·(1-1/buckets) and window. Default 10.
	Buckets int `yaml:"buckets" jsonschema:"minimum=2,maximum=1000"`
	// Store is where the breaker's state lives: local (each assistant replica has its own breaker, in memory) or redis (one state shared by every replica, gobreaker's DistributedCircuitBreaker on Redis). Default local.
	Store string `yaml:"store" jsonschema:"enum=local,enum=redis"`
	// RedisURL is the Redis a redis store uses, such as redis://127.0.0.1:6379; empty starts an embedded in-process Redis, so nothing needs installing. Default empty.
	RedisURL string `yaml:"redis_url"`
}

// Assistant configures the assistant service and its fallback levels.
type Assistant struct {
	// Mode is the upstream API the assistant calls: chat (/v1/chat/completions) or text (legacy text generation). Default chat.
	Mode string `yaml:"mode" jsonschema:"enum=chat,enum=text"`
	// Replicas is the number of assistant instances, 1 to 64, each on its own loopback port with its own breaker (or one breaker shared through Redis with breaker.store redis); load goes to them round-robin, like a load balancer. Default 1.
	Replicas int `yaml:"replicas" jsonschema:"minimum=1,maximum=64"`
	// TopK is the number of knowledge-base documents retrieved per question, 1 to 50. Default 5.
	TopK int `yaml:"top_k" jsonschema:"minimum=1,maximum=50"`
	// Cache is the first fallback level: answers remembered from the upstream.
	Cache Cache `yaml:"cache"`
	// Excerpts is the second fallback level: raw excerpts of the retrieved documents.
	Excerpts Excerpts `yaml:"excerpts"`
}

// Cache configures the assistant's answer cache (fallback level 1).
type Cache struct {
	// Size is the number of answers kept; 0 disables the cache. Default 1000.
	Size int `yaml:"size" jsonschema:"minimum=0,maximum=10000000"`
	// TTL is how long an answer stays usable; more than 0, at most 168h (a week). Default 10m.
	TTL Duration `yaml:"ttl"`
}

// Excerpts configures the excerpt fallback (fallback level 2).
type Excerpts struct {
	// Count is the number of excerpts in a fallback answer, 1 to 50 (this level is the last before a 503 and always answers). Default 3.
	Count int `yaml:"count" jsonschema:"minimum=1,maximum=50"`
	// Chars is the length of each excerpt in characters, 20 to 10000. Default 200.
	Chars int `yaml:"chars" jsonschema:"minimum=20,maximum=10000"`
}

// LoadSpec is the traffic driven at the assistant (the type of the load:
// sections). It is not called Load because [Load] is the function that
// reads a scenario file.
type LoadSpec struct {
	// Rate is the request rate: "20/s" (constant), {pattern: ramp, from, to} over the phase, or {pattern: sine, mean, amplitude, period}. Default 10/s.
	Rate RateSpec `yaml:"rate"`
	// Queries is the question set: builtin, or a path to a text file with one question per line. Default builtin.
	Queries string `yaml:"queries"`
	// RepeatRatio is the share of requests that repeat an earlier question (exercises the cache). Default 0.3.
	RepeatRatio Ratio `yaml:"repeat_ratio"`
	// Timeout is the client timeout per request. Default 35s.
	Timeout Duration `yaml:"timeout"`
	// MaxWorkers caps the concurrent requests of the load generator. Default 512.
	MaxWorkers int `yaml:"max_workers" jsonschema:"minimum=1,maximum=100000"`
}

// Rate patterns of a [RateSpec].
const (
	PatternConstant = "constant"
	PatternRamp     = "ramp"
	PatternSine     = "sine"
)

// RateSpec is a load pattern. In YAML it is either a rate ("20/s", a
// constant) or a mapping with a pattern: {pattern: ramp, from: 5/s, to:
// 50/s} rises linearly over the phase; {pattern: sine, mean: 30/s,
// amplitude: 10/s, period: 60s} oscillates; {pattern: constant, rate: 20/s}
// is the long form of a constant. A phase that sets rate replaces it whole.
type RateSpec struct {
	// Pattern is constant, ramp or sine.
	Pattern string `yaml:"pattern"`
	// Rate is the constant rate (pattern constant).
	Rate Rate `yaml:"rate"`
	// From is the rate at the start of the phase (pattern ramp).
	From Rate `yaml:"from"`
	// To is the rate at the end of the phase (pattern ramp).
	To Rate `yaml:"to"`
	// Mean is the average rate (pattern sine).
	Mean Rate `yaml:"mean"`
	// Amplitude is the swing around the mean, at most the mean (pattern sine).
	Amplitude Rate `yaml:"amplitude"`
	// Period is the length of one oscillation (pattern sine).
	Period Duration `yaml:"period"`
}

// Upstream is how the fake inference server behaves when no fault fires.
type Upstream struct {
	// Latency is the timing model: time to first token plus time per token.
	Latency Latency `yaml:"latency"`
	// Tokens is the number of tokens generated per answer. Default 64.
	Tokens int `yaml:"tokens" jsonschema:"minimum=1,maximum=100000"`
	// Capacity is the fake server's concurrency model.
	Capacity Capacity `yaml:"capacity"`
}

// Latency is the fake server's timing model.
type Latency struct {
	// TTFT is the time to first token. Default lognormal, median 300ms, p99 1.5s.
	TTFT Dist `yaml:"ttft"`
	// PerToken is the time per generated token. Default fixed 5ms.
	PerToken Dist `yaml:"per_token"`
}

// Latency distributions of a [Dist].
const (
	DistFixed     = "fixed"
	DistUniform   = "uniform"
	DistNormal    = "normal"
	DistLognormal = "lognormal"
)

// Dist is a latency distribution. In YAML it is a mapping with dist and
// that distribution's parameters, or a plain duration as shorthand for
// {dist: fixed, value: D}. Samples are clamped to [0, cap] when cap is set.
// A phase that sets a distribution replaces it whole.
type Dist struct {
	// Dist is fixed (value), uniform (min, max), normal (mean, stddev) or lognormal (median, p99).
	Dist string `yaml:"dist"`
	// Value is the constant of dist fixed.
	Value Duration `yaml:"value"`
	// Min is the lower bound of dist uniform.
	Min Duration `yaml:"min"`
	// Max is the upper bound of dist uniform.
	Max Duration `yaml:"max"`
	// Mean is the mean of dist normal.
	Mean Duration `yaml:"mean"`
	// Stddev is the standard deviation of dist normal.
	Stddev Duration `yaml:"stddev"`
	// Median is the median of dist lognormal.
	Median Duration `yaml:"median"`
	// P99 is the 99th percentile of dist lognormal, at least the median.
	P99 Duration `yaml:"p99"`
	// Cap clamps every sample to at most this; 0 means no cap.
	Cap Duration `yaml:"cap"`
}

// Capacity is the fake server's concurrency model.
type Capacity struct {
	// Concurrency is the number of requests served at once; 0 = unlimited. Default 64.
	Concurrency int `yaml:"concurrency" jsonschema:"minimum=0,maximum=1000000"`
	// Queue is the number of requests waiting beyond that; a full queue answers 429; 0 = no queue. Default 256.
	Queue int `yaml:"queue" jsonschema:"minimum=0,maximum=1000000"`
}

// Phase is one stretch of the timeline with its own load, upstream
// behaviour and faults.
type Phase struct {
	// Name identifies the phase in thresholds (`phase:NAME`) and reports; unique; letters, digits, '.', '_', '-'.
	Name string `yaml:"name" jsonschema:"required,pattern=^[A-Za-z0-9][A-Za-z0-9._-]*$"`
	// Duration is how long the phase lasts: a positive duration, or a distribution such as {dist: uniform, min: 60s, max: 150s} (fixed, uniform or lognormal) drawn once per run from the seed, so that repeated runs play incidents of different lengths. In Go it holds the drawn length once [Scenario.Resolve] has run.
	Duration Duration `yaml:"duration" jsonschema:"required"`
	// DurationDist is the distribution the phase's length is drawn from when the file gives one; nil for a fixed length. [Scenario.Resolve] draws it and clears it.
	DurationDist *Dist `yaml:"-"`
	// StartJitter delays the phase's start by an offset drawn uniformly from [0, start_jitter] once per run from the seed (the phase before lasts that much longer), so that the incident does not always meet the breaker's clock at the same point. Not allowed on the first phase. Default 0s.
	StartJitter Duration `yaml:"start_jitter"`
	// Load overrides the scenario's load for this phase; only the keys given override. In Go it holds the effective (merged) value.
	Load LoadSpec `yaml:"load"`
	// Upstream overrides the scenario's upstream for this phase; only the keys given override. In Go it holds the effective (merged) value.
	Upstream Upstream `yaml:"upstream"`
	// Faults are injected into upstream calls during the phase; for each call the first fault that fires wins.
	Faults []Fault `yaml:"faults"`
}

// Fault kinds, as the fake server implements them.
const (
	KindStatus           = "status"
	KindLatency          = "latency"
	KindHang             = "hang"
	KindReset            = "reset"
	KindEmpty            = "empty"
	KindMalformed        = "malformed"
	KindWrongContentType = "wrong_content_type"
	KindSlowBody         = "slow_body"
	KindStreamCut        = "stream_cut"
	KindStreamError      = "stream_error"
)

// Fault is one failure the fake server injects. When it applies: with
// probability rate, and/or by the deterministic selectors first (the
// phase's first N calls), every (every N-th call) and after (calls after
// the N-th); with none of them it applies to every call. Selectors combine
// with AND. Parameters that a kind does not use are refused.
type Fault struct {
	// Kind is status, latency, hang, reset, empty, malformed, wrong_content_type, slow_body, stream_cut or stream_error.
	Kind string `yaml:"kind" jsonschema:"required,enum=status,enum=latency,enum=hang,enum=reset,enum=empty,enum=malformed,enum=wrong_content_type,enum=slow_body,enum=stream_cut,enum=stream_error"`
	// Rate is the probability in [0,1] that the fault fires on an eligible call, or a ramp over the phase such as {from: 0%, to: 80%}; unset = always.
	Rate *Ratio `yaml:"rate"`
	// RateTo, set by the ramp form rate: {from: 0%, to: 80%}, is the probability at the end of the phase; Rate is then the one at its start, and the fake server ramps linearly between them, because real incidents rarely start as a step. nil for a constant rate.
	RateTo *Ratio `yaml:"-"`
	// First selects the phase's first N calls.
	First int `yaml:"first" jsonschema:"minimum=1"`
	// Every selects every N-th call of the phase.
	Every int `yaml:"every" jsonschema:"minimum=1"`
	// After selects the calls after the N-th of the phase.
	After int `yaml:"after" jsonschema:"minimum=1"`
	// Code is the HTTP status (kind status); unset = the named body's status.
	Code int `yaml:"code" jsonschema:"minimum=100,maximum=599"`
	// Body names a realistic error body (kind status): model_loading, overloaded, validation, generation, incomplete_generation, bad_gateway, gateway_timeout.
	Body string `yaml:"body" jsonschema:"enum=model_loading,enum=overloaded,enum=validation,enum=generation,enum=incomplete_generation,enum=bad_gateway,enum=gateway_timeout"`
	// RetryAfter sets a Retry-After header (kind status).
	RetryAfter Duration `yaml:"retry_after"`
	// EstimatedTime is the estimated_time of a model_loading body (kind status).
	EstimatedTime Duration `yaml:"estimated_time"`
	// Latency is the extra delay added to the call (kind latency).
	Latency *Dist `yaml:"latency"`
	// Duration bounds how long a hang lasts before the connection is closed (kind hang); unset = the fake server's maximum.
	Duration Duration `yaml:"duration"`
	// Mode is how the body is broken (kind malformed): truncated (valid JSON cut short) or invalid (not JSON); unset = the fake server's default.
	Mode string `yaml:"mode" jsonschema:"enum=truncated,enum=invalid"`
	// ContentType is the wrong Content-Type sent with a 200 (kind wrong_content_type); unset = the fake server's default.
	ContentType string `yaml:"content_type"`
	// BytesPerSecond is the pace at which the body is dribbled (kind slow_body).
	BytesPerSecond int `yaml:"bytes_per_second" jsonschema:"minimum=1"`
	// Tokens is the number of tokens streamed before the cut or error (kinds stream_cut, stream_error).
	Tokens int `yaml:"tokens" jsonschema:"minimum=0,maximum=100000"`
	// Message is the error text of a status fault with a code that has no named body, or of the mid-stream error event (kind stream_error).
	Message string `yaml:"message"`
}

// Info is one entry of the built-in scenario library.
type Info struct {
	// Name is what `brownout run NAME` accepts.
	Name string
	// Description is the first line of the scenario's description.
	Description string
}

// TotalDuration returns the length of the whole timeline, the sum of the
// phase durations. For a timeline not yet drawn (see [Scenario.Resolve]) it
// is the longest a run may take: each drawn length at its maximum, each
// start jitter in full.
func (s *Scenario) TotalDuration() time.Duration {
	var total time.Duration
	for i := range s.Phases {
		total += longestPhase(&s.Phases[i]).D()
	}
	return total
}
