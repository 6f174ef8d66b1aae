// Package limits holds the one set of ranges that every brownout setting
// is checked against, wherever it comes from: a scenario file
// (package scenarios reports a violation with file:line:column), the
// assistant's environment and flags (package assistant), or a time scale
// chosen on the command line (package sim). Before it existed each of
// those had its own rule, and a scenario could pass `brownout validate`
// only to be refused by `brownout run`.
//
// The package has no dependencies beyond the standard library, so that
// scenarios (which must not import servers) and assistant (which must not
// import scenarios) can both use it.
//
// The limits are generous: their job is to catch typos (a reset timeout of
// 60000 meaning milliseconds) and values that cannot be represented (a
// fail_threshold beyond 32 bits, durations whose sum overflows), not to
// second-guess a tuning choice.
package limits

import "time"

// Breaker settings (gobreaker v2 counts in uint32; these stay far below).
const (
	// MinFailThreshold and MaxFailThreshold bound breaker.fail_threshold.
	MinFailThreshold = 1
	MaxFailThreshold = 10000
	// MinMinRequests and MaxMinRequests bound breaker.min_requests.
	MinMinRequests = 1
	MaxMinRequests = 1000000
	// MinHalfOpen and MaxHalfOpen bound breaker.half_open_max_requests.
	MinHalfOpen = 1
	MaxHalfOpen = 10000
	// MaxResetTimeout bounds breaker.reset_timeout (which must be > 0).
	MaxResetTimeout = 24 * time.Hour
	// MaxCallTimeout bounds breaker.call_timeout (which must be > 0).
	MaxCallTimeout = time.Hour
	// MaxInterval bounds breaker.interval (0 means never reset) and
	// breaker.window (0 means no rolling window).
	MaxInterval = 24 * time.Hour
	// MinBuckets and MaxBuckets bound breaker.buckets of a rolling window.
	MinBuckets = 2
	MaxBuckets = 1000
)

// Assistant settings.
const (
	// MinReplicas and MaxReplicas bound assistant.replicas: each replica is
	// a Service with its own loopback port in the run's process.
	MinReplicas = 1
	MaxReplicas = 64

	// MinTopK and MaxTopK bound assistant.top_k and a request's "top_k".
	MinTopK = 1
	MaxTopK = 50
	// MaxCacheSize bounds assistant.cache.size (0 disables the cache).
	MaxCacheSize = 10000000
	// MaxCacheTTL bounds assistant.cache.ttl (0 means entries never expire).
	MaxCacheTTL = 7 * 24 * time.Hour
	// MinExcerptCount and MaxExcerptCount bound assistant.excerpts.count:
	// the excerpt level is the last fallback before a 503 and always
	// answers with at least one excerpt.
	MinExcerptCount = 1
	MaxExcerptCount = 50
	// MinExcerptChars and MaxExcerptChars bound assistant.excerpts.chars.
	MinExcerptChars = 20
	MaxExcerptChars = 10000
)

// Load and upstream settings.
const (
	// MaxRate bounds every request rate once compressed by the time scale:
	// far beyond what one machine's loopback can carry, and small enough
	// that the pacer's arithmetic stays exact.
	MaxRate = 1e6
	// MaxWorkers bounds load.max_workers.
	MaxWorkers = 100000
	// MaxTokens bounds upstream.tokens and a stream fault's tokens.
	MaxTokens = 100000
	// MaxQueue bounds upstream.capacity.concurrency and .queue.
	MaxQueue = 1000000
)

// Durations and time compression.
const (
	// MaxScenarioDuration bounds the sum of a scenario's phase durations
	// (scenario time): a month, far from time.Duration's 292 years, so no
	// sum or compression of durations can overflow.
	MaxScenarioDuration = 30 * 24 * time.Hour
	// MaxDuration bounds every other duration in a scenario (latencies,
	// timeouts, hangs, periods) once compressed by the time scale.
	MaxDuration = 24 * time.Hour
	// MinScaledDuration is the shortest real duration that a
	// time-compressed scenario may ask the machine to time. Go's timers
	// fire within tens of microseconds on an idle Linux box, but on a
	// loaded 2-core machine the scheduler, the garbage collector and the
	// loopback stack add delays of a few milliseconds; 10 ms keeps that
	// noise under about 10% of the smallest breaker, phase or timeout
	// duration, so breaker transitions land in the same order at any
	// accepted time scale.
	MinScaledDuration = 10 * time.Millisecond
)
