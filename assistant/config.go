package assistant

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"brownout/limits"
)

// Breaker policies.
const (
	// PolicyConsecutive trips the breaker after FailThreshold consecutive
	// failures (the seed's PyBreaker behaviour).
	PolicyConsecutive = "consecutive"
	// PolicyRatio trips the breaker once at least MinRequests calls completed
	// in the current interval and the share of failures among them reached
	// FailureRatio.
	PolicyRatio = "ratio"
)

// Breaker scopes.
const (
	// ScopeShared puts one breaker, named BreakerConfig.Name, in front of
	// every upstream endpoint (the seed's setup).
	ScopeShared = "shared"
	// ScopePerEndpoint gives the chat and the text endpoint their own
	// breakers, named Name+".chat" and Name+".text".
	ScopePerEndpoint = "per-endpoint"
)

// Breaker stores: where a breaker keeps its state.
const (
	// StoreLocal keeps the state in the process: every replica has its own
	// breaker (the seed's setup).
	StoreLocal = "local"
	// StoreRedis keeps one state shared by every replica in a SharedStore
	// (gobreaker's DistributedCircuitBreaker), given with WithSharedStore.
	StoreRedis = "redis"
)

// Upstream modes.
const (
	// ModeChat calls POST {base}/v1/chat/completions (OpenAI-compatible).
	ModeChat = "chat"
	// ModeText calls the legacy POST {base}/models/{model} with
	// {"inputs","parameters"}.
	ModeText = "text"
	// ModeAuto tries chat first and, when that call fails or its breaker
	// rejects it, the legacy text endpoint before falling back.
	ModeAuto = "auto"
)

// Defaults, from the seed unless noted.
const (
	DefaultName            = "huggingface_api"
	DefaultFailThreshold   = 5
	DefaultResetTimeout    = 60 * time.Second
	DefaultCallTimeout     = 30 * time.Second
	DefaultUpstreamURL     = "https://api-inference.huggingface.co"
	DefaultModel           = "HuggingFaceH4/zephyr-7b-beta"
	DefaultTopK            = 5
	DefaultCacheSize       = 1000
	DefaultCacheTTL        = 10 * time.Minute
	DefaultExcerptCount    = 3
	DefaultExcerptChars    = 200
	DefaultFailureRatio    = 0.5
	DefaultMinRequests     = 20
	DefaultShutdownTimeout = 5 * time.Second
	// DefaultBuckets is the number of buckets of a rolling window when
	// Window is set and Buckets is not: a tenth of the window leaves the
	// window at most 10% longer than asked at any instant (brownout's
	// choice, gobreaker has no default).
	DefaultBuckets = 10
)

// Limits of the assistant's own request contract. The ranges of its
// settings are shared with scenario files and live in package limits, so
// that a setting a scenario may hold is one the assistant accepts.
const (
	MaxQuestionChars   = 2000
	MaxRequestBodySize = 64 << 10
	MaxMaxTokens       = 100000
)

// BreakerConfig configures the circuit breaker(s) in front of the upstream.
type BreakerConfig struct {
	// Enabled false calls the upstream directly (the seed's feature flag).
	Enabled bool
	// Name of the breaker (scope shared) or the prefix of the per-endpoint
	// names (scope per-endpoint).
	Name string
	// Policy is PolicyConsecutive or PolicyRatio.
	Policy string
	// FailThreshold is the number of consecutive failures that trips the
	// breaker under PolicyConsecutive: exactly this many, not one more.
	FailThreshold uint32
	// FailureRatio in (0,1] trips the breaker under PolicyRatio.
	FailureRatio float64
	// MinRequests is the number of completed, counted calls in the current
	// interval before PolicyRatio may trip.
	MinRequests uint32
	// ResetTimeout is how long the breaker stays open before it lets a
	// probe through (half-open).
	ResetTimeout time.Duration
	// HalfOpenMaxRequests is the number of probes admitted while half-open;
	// that many consecutive successes close the breaker.
	HalfOpenMaxRequests uint32
	// Interval is the cyclic period after which the closed state clears its
	// counts (a fixed window); 0 means never. With 0 and no Window the
	// counts of a closed breaker accumulate for as long as it stays closed,
	// so after a long healthy stretch PolicyRatio trips late.
	Interval time.Duration
	// Window, when positive, makes the closed state count over a rolling
	// window of this length instead (gobreaker's Interval with a
	// BucketPeriod of Window/Buckets): the counts always cover the last
	// Window, so the breaker reacts to a storm within one window however
	// long the breaker was closed before. Exclusive with Interval.
	Window time.Duration
	// Buckets is the number of buckets the rolling window is cut into
	// (2 to limits.MaxBuckets); the oldest bucket is dropped whole, so the counts
	// cover between Window-Window/Buckets and Window. 0 means DefaultBuckets.
	Buckets uint32
	// Scope is ScopeShared or ScopePerEndpoint.
	Scope string
	// Store is StoreLocal or StoreRedis; "" means StoreLocal.
	Store string
}

// Config configures a Service. Start from DefaultConfig: the zero value is
// not valid.
type Config struct {
	Breaker BreakerConfig
	// CallTimeout bounds one upstream call, body included (the seed's
	// CIRCUIT_BREAKER_TIMEOUT_SECONDS). A call that runs out of time counts
	// as a failure and falls back with reason upstream_timeout.
	CallTimeout time.Duration
	// UpstreamURL is the base URL of the inference API (HF_API_BASE).
	UpstreamURL string
	// Model is the model id sent to the upstream (HF_MODEL).
	Model string
	// Token is sent as a bearer token when not empty (HF_TOKEN).
	Token string
	// Mode is ModeChat, ModeText or ModeAuto.
	Mode string
	// MaxTokens, when positive, is sent as max_tokens (chat) or
	// max_new_tokens (text); 0 leaves the length to the upstream.
	MaxTokens int
	// TopK is the default number of chunks retrieved per question; a request
	// may override it with "top_k".
	TopK int
	// CacheSize bounds the L1 cache (entries); 0 disables it.
	CacheSize int
	// CacheTTL is the lifetime of an L1 entry; 0 means entries never expire.
	CacheTTL time.Duration
	// ExcerptCount is the number of chunks a level-2 fallback returns.
	ExcerptCount int
	// ExcerptChars is the length of each excerpt, in characters.
	ExcerptChars int
	// CorpusDir is a folder of Markdown files to retrieve from; "" uses the
	// embedded corpus.
	CorpusDir string
}

// DefaultConfig returns the seed's defaults: breaker enabled, 5 consecutive
// failures, 60 s reset timeout, 30 s call timeout, one shared breaker named
// huggingface_api, chat mode, top 5 chunks, 3 excerpts of 200 characters.
func DefaultConfig() Config {
	return Config{
		Breaker: BreakerConfig{
			Enabled:             true,
			Name:                DefaultName,
			Policy:              PolicyConsecutive,
			FailThreshold:       DefaultFailThreshold,
			FailureRatio:        DefaultFailureRatio,
			MinRequests:         DefaultMinRequests,
			ResetTimeout:        DefaultResetTimeout,
			HalfOpenMaxRequests: 1,
			Interval:            0,
			Scope:               ScopeShared,
			Store:               StoreLocal,
		},
		CallTimeout:  DefaultCallTimeout,
		UpstreamURL:  DefaultUpstreamURL,
		Model:        DefaultModel,
		Mode:         ModeChat,
		TopK:         DefaultTopK,
		CacheSize:    DefaultCacheSize,
		CacheTTL:     DefaultCacheTTL,
		ExcerptCount: DefaultExcerptCount,
		ExcerptChars: DefaultExcerptChars,
	}
}

// Environment variables read by ConfigFromEnv. The first eight are the
// seed's; the others are brownout's additions with the same prefix.
const (
	EnvEnabled       = "CIRCUIT_BREAKER_ENABLED"
	EnvFailThreshold = "CIRCUIT_BREAKER_FAIL_THRESHOLD"
	EnvTimeout       = "CIRCUIT_BREAKER_TIMEOUT_SECONDS"
	EnvResetTimeout  = "CIRCUIT_BREAKER_RESET_TIMEOUT"
	EnvName          = "CIRCUIT_BREAKER_NAME"
	EnvAPIBase       = "HF_API_BASE"
	EnvModel         = "HF_MODEL"
	EnvToken         = "HF_TOKEN"

	EnvPolicy       = "CIRCUIT_BREAKER_POLICY"
	EnvFailureRatio = "CIRCUIT_BREAKER_FAILURE_RATIO"
	EnvMinRequests  = "CIRCUIT_BREAKER_MIN_REQUESTS"
	EnvHalfOpenMax  = "CIRCUIT_BREAKER_HALF_OPEN_MAX_REQUESTS"
	EnvInterval     = "CIRCUIT_BREAKER_INTERVAL"
	EnvWindow       = "CIRCUIT_BREAKER_WINDOW"
	EnvBuckets      = "CIRCUIT_BREAKER_BUCKETS"
	EnvScope        = "CIRCUIT_BREAKER_SCOPE"
	EnvMode         = "HF_MODE"
)

// ConfigFromEnv returns base with every variable that getenv reports as
// non-empty applied on top. Durations accept seconds ("60", "1.5") or Go
// durations ("90s", "250ms"). Every invalid value is reported, each naming
// its variable, the value found and the valid range.
func ConfigFromEnv(getenv func(string) string, base Config) (Config, error) {
	c := base
	var errs []error
	bad := func(name, val, want string) {
		errs = append(errs, fmt.Errorf("%s=%q is invalid: want %s", name, val, want))
	}
	// count sets *dst from name when it holds an integer from 1 to limit.
	count := func(name string, limit uint64, dst *uint32) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n < 1 || n > limit {
			bad(name, v, fmt.Sprintf("an integer from 1 to %d", limit))
			return
		}
		*dst = uint32(n)
	}
	// oneOf sets *dst from name when it holds one of valid (want words them).
	oneOf := func(name, want string, dst *string, valid ...string) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		if !slices.Contains(valid, v) {
			bad(name, v, want)
			return
		}
		*dst = v
	}
	if v := strings.TrimSpace(getenv(EnvEnabled)); v != "" {
		b, ok := parseBool(v)
		if !ok {
			bad(EnvEnabled, v, "true or false (also 1/0, yes/no, on/off)")
		}
		c.Breaker.Enabled = b
	}
	count(EnvFailThreshold, limits.MaxFailThreshold, &c.Breaker.FailThreshold)
	if v := strings.TrimSpace(getenv(EnvTimeout)); v != "" {
		d, ok := parseSeconds(v)
		if !ok || d <= 0 || d > limits.MaxCallTimeout {
			bad(EnvTimeout, v, fmt.Sprintf("seconds greater than 0 and at most %d (or a duration such as 30s)", int(limits.MaxCallTimeout.Seconds())))
		} else {
			c.CallTimeout = d
		}
	}
	if v := strings.TrimSpace(getenv(EnvResetTimeout)); v != "" {
		d, ok := parseSeconds(v)
		if !ok || d <= 0 || d > limits.MaxResetTimeout {
			bad(EnvResetTimeout, v, fmt.Sprintf("seconds greater than 0 and at most %d (or a duration such as 60s)", int(limits.MaxResetTimeout.Seconds())))
		} else {
			c.Breaker.ResetTimeout = d
		}
	}
	if v := getenv(EnvName); v != "" {
		if err := checkName(v); err != nil {
			bad(EnvName, v, err.Error())
		} else {
			c.Breaker.Name = v
		}
	}
	if v := strings.TrimSpace(getenv(EnvAPIBase)); v != "" {
		if err := checkURL(v); err != nil {
			bad(EnvAPIBase, v, "an absolute http or https URL such as http://127.0.0.1:9000")
		} else {
			c.UpstreamURL = v
		}
	}
	if v := strings.TrimSpace(getenv(EnvModel)); v != "" {
		c.Model = v
	}
	if v := strings.TrimSpace(getenv(EnvToken)); v != "" {
		c.Token = v
	}
	oneOf(EnvPolicy, "consecutive or ratio", &c.Breaker.Policy, PolicyConsecutive, PolicyRatio)
	if v := strings.TrimSpace(getenv(EnvFailureRatio)); v != "" {
		r, ok := parseRatio(v)
		if !ok || r <= 0 || r > 1 {
			bad(EnvFailureRatio, v, "a ratio greater than 0 and at most 1 (or a percentage such as 50%)")
		} else {
			c.Breaker.FailureRatio = r
		}
	}
	count(EnvMinRequests, limits.MaxMinRequests, &c.Breaker.MinRequests)
	count(EnvHalfOpenMax, limits.MaxHalfOpen, &c.Breaker.HalfOpenMaxRequests)
	// window sets *dst from name when it holds 0 (meaning zero) to limits.MaxInterval.
	window := func(name, zero string, dst *time.Duration) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return
		}
		d, ok := parseSeconds(v)
		if !ok || d < 0 || d > limits.MaxInterval {
			bad(name, v, fmt.Sprintf("seconds from 0 (%s) to %d (or a duration such as 60s)", zero, int(limits.MaxInterval.Seconds())))
			return
		}
		*dst = d
	}
	window(EnvInterval, "never reset", &c.Breaker.Interval)
	window(EnvWindow, "no rolling window", &c.Breaker.Window)
	if v := strings.TrimSpace(getenv(EnvBuckets)); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n < limits.MinBuckets || n > limits.MaxBuckets {
			bad(EnvBuckets, v, fmt.Sprintf("an integer from %d to %d", limits.MinBuckets, limits.MaxBuckets))
		} else {
			c.Breaker.Buckets = uint32(n)
		}
	}
	oneOf(EnvScope, "shared or per-endpoint", &c.Breaker.Scope, ScopeShared, ScopePerEndpoint)
	oneOf(EnvMode, "chat, text or auto", &c.Mode, ModeChat, ModeText, ModeAuto)
	return c, errors.Join(errs...)
}

// Validate reports every setting that is out of range, each naming the
// setting (as the scenario files and flags spell it) and its valid range.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	b := c.Breaker
	if err := checkName(b.Name); err != nil {
		bad("breaker name %q is invalid: want %s", b.Name, err)
	}
	switch b.Policy {
	case PolicyConsecutive:
		if b.FailThreshold < limits.MinFailThreshold || b.FailThreshold > limits.MaxFailThreshold {
			bad("fail_threshold %d is out of range: want %d to %d", b.FailThreshold, limits.MinFailThreshold, limits.MaxFailThreshold)
		}
	case PolicyRatio:
		if math.IsNaN(b.FailureRatio) || b.FailureRatio <= 0 || b.FailureRatio > 1 {
			bad("failure_ratio %v is out of range: want greater than 0 and at most 1", b.FailureRatio)
		}
		if b.MinRequests < limits.MinMinRequests || b.MinRequests > limits.MaxMinRequests {
			bad("min_requests %d is out of range: want %d to %d", b.MinRequests, limits.MinMinRequests, limits.MaxMinRequests)
		}
	default:
		bad("policy %q is unknown: want consecutive or ratio", b.Policy)
	}
	if b.ResetTimeout <= 0 || b.ResetTimeout > limits.MaxResetTimeout {
		bad("reset_timeout %v is out of range: want greater than 0 and at most %v", b.ResetTimeout, limits.MaxResetTimeout)
	}
	if b.HalfOpenMaxRequests < limits.MinHalfOpen || b.HalfOpenMaxRequests > limits.MaxHalfOpen {
		bad("half_open_max_requests %d is out of range: want %d to %d", b.HalfOpenMaxRequests, limits.MinHalfOpen, limits.MaxHalfOpen)
	}
	if b.Interval < 0 || b.Interval > limits.MaxInterval {
		bad("interval %v is out of range: want 0 (never) to %v", b.Interval, limits.MaxInterval)
	}
	if b.Window < 0 || b.Window > limits.MaxInterval {
		bad("window %v is out of range: want 0 (no rolling window) to %v", b.Window, limits.MaxInterval)
	}
	if b.Window > 0 && b.Interval > 0 {
		bad("window %v and interval %v are both set: want one of them (window counts over a rolling window, interval clears the counts every interval)", b.Window, b.Interval)
	}
	if b.Buckets != 0 && (b.Buckets < limits.MinBuckets || b.Buckets > limits.MaxBuckets) {
		bad("buckets %d is out of range: want %d to %d (or 0 for %d)", b.Buckets, limits.MinBuckets, limits.MaxBuckets, DefaultBuckets)
	}
	if n := b.buckets(); b.Window > 0 && b.Window < time.Duration(n) {
		bad("window %v is shorter than its %d buckets: want at least %v", b.Window, n, time.Duration(n))
	}
	if b.Scope != ScopeShared && b.Scope != ScopePerEndpoint {
		bad("scope %q is unknown: want shared or per-endpoint", b.Scope)
	}
	if b.Store != "" && b.Store != StoreLocal && b.Store != StoreRedis {
		bad("store %q is unknown: want local or redis", b.Store)
	}
	if c.CallTimeout <= 0 || c.CallTimeout > limits.MaxCallTimeout {
		bad("call_timeout %v is out of range: want greater than 0 and at most %v", c.CallTimeout, limits.MaxCallTimeout)
	}
	if err := checkURL(c.UpstreamURL); err != nil {
		bad("upstream URL %q is invalid: %v", c.UpstreamURL, err)
	}
	if strings.TrimSpace(c.Model) == "" {
		bad("model is empty: want a model id such as %s", DefaultModel)
	}
	if c.Mode != ModeChat && c.Mode != ModeText && c.Mode != ModeAuto {
		bad("mode %q is unknown: want chat, text or auto", c.Mode)
	}
	if c.MaxTokens < 0 || c.MaxTokens > MaxMaxTokens {
		bad("max_tokens %d is out of range: want 0 (upstream default) to %d", c.MaxTokens, MaxMaxTokens)
	}
	if c.TopK < limits.MinTopK || c.TopK > limits.MaxTopK {
		bad("top_k %d is out of range: want %d to %d", c.TopK, limits.MinTopK, limits.MaxTopK)
	}
	if c.CacheSize < 0 || c.CacheSize > limits.MaxCacheSize {
		bad("cache size %d is out of range: want 0 (disabled) to %d", c.CacheSize, limits.MaxCacheSize)
	}
	if c.CacheTTL < 0 || c.CacheTTL > limits.MaxCacheTTL {
		bad("cache ttl %v is out of range: want 0 (never expire) to %v", c.CacheTTL, limits.MaxCacheTTL)
	}
	if c.ExcerptCount < limits.MinExcerptCount || c.ExcerptCount > limits.MaxExcerptCount {
		bad("excerpts count %d is out of range: want %d to %d", c.ExcerptCount, limits.MinExcerptCount, limits.MaxExcerptCount)
	}
	if c.ExcerptChars < limits.MinExcerptChars || c.ExcerptChars > limits.MaxExcerptChars {
		bad("excerpts chars %d is out of range: want %d to %d", c.ExcerptChars, limits.MinExcerptChars, limits.MaxExcerptChars)
	}
	return errors.Join(errs...)
}

// buckets is Buckets, or DefaultBuckets when unset.
func (b BreakerConfig) buckets() uint32 {
	if b.Buckets == 0 {
		return DefaultBuckets
	}
	return b.Buckets
}

// BucketPeriod is the length of one bucket of the rolling window, 0 when
// there is no window (gobreaker then uses a fixed window of Interval).
func (b BreakerConfig) BucketPeriod() time.Duration {
	if b.Window <= 0 {
		return 0
	}
	return b.Window / time.Duration(b.buckets())
}

func checkName(name string) error {
	if name == "" || len(name) > 100 || strings.TrimSpace(name) != name {
		return errors.New("a non-empty name of at most 100 characters without surrounding spaces")
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("want an http or https URL")
	}
	if u.Host == "" {
		return errors.New("want a host")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("want no query or fragment")
	}
	return nil
}

func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "1", "t", "true", "yes", "y", "on":
		return true, true
	case "0", "f", "false", "no", "n", "off":
		return false, true
	}
	return false, false
}

// parseSeconds reads a plain number as seconds, or a Go duration.
func parseSeconds(s string) (time.Duration, bool) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e9 {
			return 0, false
		}
		return time.Duration(f * float64(time.Second)), true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}

// parseRatio reads "0.5" or "50%".
func parseRatio(s string) (float64, bool) {
	scale := 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = strings.TrimSpace(t), 100
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f / scale, true
}
