package faults

import (
	"errors"
	"fmt"
	"time"
)

// Defaults applied by [New] where a [Config] leaves a field zero.
const (
	// DefaultModel is the served model id when Config.Model is empty.
	DefaultModel = "meta-llama/Llama-3.1-8B-Instruct"
	// DefaultMaxTokens bounds the completion length when Config.MaxTokens is 0.
	DefaultMaxTokens = 1024
	// DefaultTokens is the completion length when neither the request nor
	// the phase gives one.
	DefaultTokens = 16
	// DefaultCap bounds every latency distribution whose Cap is 0.
	DefaultCap = 10 * time.Minute
	// DefaultHang bounds a hang fault whose Duration is 0, so nothing leaks.
	DefaultHang = 10 * time.Minute
	// MaxBodyBytes is the largest request body accepted; larger ones get 413.
	MaxBodyBytes = 1 << 20
)

// DistSpec describes a latency distribution. Only the fields of the chosen
// Dist are read; every sample is clamped to [0, Cap] (Cap 0 = [DefaultCap]).
type DistSpec struct {
	// Dist is "fixed" (Value), "uniform" (Min, Max), "normal" (Mean,
	// Stddev) or "lognormal" (Median, P99); "" means always zero.
	Dist string `yaml:"dist,omitempty"`

	Value  time.Duration `yaml:"value,omitempty"`
	Min    time.Duration `yaml:"min,omitempty"`
	Max    time.Duration `yaml:"max,omitempty"`
	Mean   time.Duration `yaml:"mean,omitempty"`
	Stddev time.Duration `yaml:"stddev,omitempty"`
	Median time.Duration `yaml:"median,omitempty"`
	P99    time.Duration `yaml:"p99,omitempty"`
	Cap    time.Duration `yaml:"cap,omitempty"`
}

// FaultSpec describes one fault and when it fires. Kind selects the
// behaviour; the selector fields (Rate, First, Every, After) are applied by
// the server, see the package documentation. Parameters unused by Kind must
// be zero.
type FaultSpec struct {
	// Kind is one of status, latency, hang, reset, empty, malformed,
	// wrong_content_type, slow_body, stream_cut, stream_error.
	Kind string `yaml:"kind"`
	// Rate is the probability in [0,1] that the fault fires when its
	// selectors match; nil means 1.
	Rate *float64 `yaml:"rate,omitempty"`
	// RateTo, when set, makes the probability ramp linearly over the
	// phase, from Rate (0 when nil) at the phase's start to RateTo at its
	// end, because real incidents rarely start as a step. A last phase that
	// outlasts its duration stays at RateTo.
	RateTo *float64 `yaml:"rate_to,omitempty"`
	// First, when > 0, restricts the fault to the phase's first N calls.
	First int `yaml:"first,omitempty"`
	// Every, when > 0, restricts the fault to every N-th call of the phase.
	Every int `yaml:"every,omitempty"`
	// After, when > 0, restricts the fault to calls after the first N.
	After int `yaml:"after,omitempty"`

	// Code is the HTTP status of a status fault (default: the named Body's).
	Code int `yaml:"code,omitempty"`
	// Body names a realistic status body: model_loading, overloaded,
	// validation, generation, incomplete_generation, bad_gateway,
	// gateway_timeout; "" is the usual body for Code.
	Body string `yaml:"body,omitempty"`
	// RetryAfter, when > 0, adds a Retry-After header (whole seconds,
	// rounded up) to a status fault.
	RetryAfter time.Duration `yaml:"retry_after,omitempty"`
	// EstimatedTime is the estimated_time of a model_loading body
	// (default 20s).
	EstimatedTime time.Duration `yaml:"estimated_time,omitempty"`
	// Latency is the extra delay of a latency fault, added before the
	// first byte.
	Latency *DistSpec `yaml:"latency,omitempty"`
	// Duration bounds a hang (default [DefaultHang]); a hang also ends when
	// the client goes away or the server closes.
	Duration time.Duration `yaml:"duration,omitempty"`
	// Mode of a malformed fault: "truncated" (default) or "invalid".
	Mode string `yaml:"mode,omitempty"`
	// ContentType of a wrong_content_type fault (default
	// "text/html; charset=utf-8").
	ContentType string `yaml:"content_type,omitempty"`
	// BytesPerSecond is the pace of a slow_body fault.
	BytesPerSecond int `yaml:"bytes_per_second,omitempty"`
	// Tokens is how many tokens a stream_cut or stream_error fault lets
	// through first.
	Tokens int `yaml:"tokens,omitempty"`
	// Message overrides the error text of status and stream_error faults.
	Message string `yaml:"message,omitempty"`
}

// Phase is one stretch of the timeline with its own timing, capacity and
// faults.
type Phase struct {
	// Name identifies the phase in calls, stats and metrics.
	Name string `yaml:"name"`
	// Duration is how long the phase lasts; the last phase stays active
	// after its end, and only the last phase may have Duration 0.
	Duration time.Duration `yaml:"duration,omitempty"`
	// TTFT is the time to first token of every healthy answer.
	TTFT DistSpec `yaml:"ttft,omitempty"`
	// PerToken is the time between tokens.
	PerToken DistSpec `yaml:"per_token,omitempty"`
	// Tokens is the completion length when the request gives none
	// (default [DefaultTokens]).
	Tokens int `yaml:"tokens,omitempty"`
	// Concurrency is how many requests are in service at once (0 =
	// unlimited). Requests beyond it wait first come, first served.
	Concurrency int `yaml:"concurrency,omitempty"`
	// Queue is how many requests may wait for service (0 = unlimited);
	// beyond it the server answers 429 overloaded.
	Queue int `yaml:"queue,omitempty"`
	// Faults are considered in order; the first that fires wins.
	Faults []FaultSpec `yaml:"faults,omitempty"`
}

// Config is the whole behaviour of a [Server]. Durations are real time.
type Config struct {
	// Model is the served model id (default [DefaultModel]).
	Model string `yaml:"model,omitempty"`
	// Seed makes fault decisions, timing and generated text reproducible.
	Seed int64 `yaml:"seed,omitempty"`
	// MaxTokens bounds a request's max_tokens/max_new_tokens (default
	// [DefaultMaxTokens]).
	MaxTokens int `yaml:"max_tokens,omitempty"`
	// Phases is the timeline; none means one endless healthy phase.
	Phases []Phase `yaml:"phases,omitempty"`
}

// Validate reports every problem in c at once; each error names the phase
// and the fault index, e.g. `phase "outage": faults[0]: unknown kind ...`.
func (c Config) Validate() error {
	var errs []error
	if c.MaxTokens < 0 {
		errs = append(errs, fmt.Errorf("max_tokens: must be >= 0, got %d", c.MaxTokens))
	}
	seen := make(map[string]int, len(c.Phases))
	for i, p := range c.Phases {
		name := phaseName(p, i)
		wrap := func(err error) { errs = append(errs, fmt.Errorf("phase %q: %w", name, err)) }
		if j, dup := seen[name]; dup {
			wrap(fmt.Errorf("duplicate name (also phases[%d])", j))
		}
		seen[name] = i
		if p.Duration < 0 {
			wrap(fmt.Errorf("duration: must be >= 0, got %v", p.Duration))
		}
		if p.Duration == 0 && i < len(c.Phases)-1 {
			wrap(errors.New("duration: must be > 0 (only the last phase may be endless)"))
		}
		if _, err := newDist(p.TTFT); err != nil {
			wrap(fmt.Errorf("ttft: %w", err))
		}
		if _, err := newDist(p.PerToken); err != nil {
			wrap(fmt.Errorf("per_token: %w", err))
		}
		if p.Tokens < 0 {
			wrap(fmt.Errorf("tokens: must be >= 0, got %d", p.Tokens))
		}
		if p.Concurrency < 0 {
			wrap(fmt.Errorf("concurrency: must be >= 0, got %d", p.Concurrency))
		}
		if p.Queue < 0 {
			wrap(fmt.Errorf("queue: must be >= 0, got %d", p.Queue))
		}
		for j, f := range p.Faults {
			for _, err := range flatten(validateFault(f)) {
				wrap(fmt.Errorf("faults[%d]: %w", j, err))
			}
		}
	}
	return errors.Join(errs...)
}

// flatten lists the errors joined in err, so each can get its own prefix.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// phaseName is the phase's name, or phases[i] when it has none.
func phaseName(p Phase, i int) string {
	if p.Name != "" {
		return p.Name
	}
	return fmt.Sprintf("phases[%d]", i)
}

// validateFault checks the selectors, then builds the fault once to check
// its parameters.
func validateFault(f FaultSpec) error {
	var errs []error
	if f.Rate != nil && !(*f.Rate >= 0 && *f.Rate <= 1) {
		errs = append(errs, fmt.Errorf("rate: must be in [0,1], got %v", *f.Rate))
	}
	if f.RateTo != nil && !(*f.RateTo >= 0 && *f.RateTo <= 1) {
		errs = append(errs, fmt.Errorf("rate_to: must be in [0,1], got %v", *f.RateTo))
	}
	if f.First < 0 {
		errs = append(errs, fmt.Errorf("first: must be >= 0, got %d", f.First))
	}
	if f.Every < 0 {
		errs = append(errs, fmt.Errorf("every: must be >= 0, got %d", f.Every))
	}
	if f.After < 0 {
		errs = append(errs, fmt.Errorf("after: must be >= 0, got %d", f.After))
	}
	if _, err := buildFault(f, buildEnv{model: DefaultModel, rnd: newRand(0, 0)}); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
