package scenarios

import "time"

// Defaults returns the values every scenario starts from: decoding a file
// overwrites only the keys it gives, so this is the one place defaults are
// defined (docs/scenarios.md lists them). Phases and thresholds have no
// defaults; a phase starts from the scenario's load and upstream.
//
// The breaker values are the seed document's (gobreaker with 5 consecutive
// failures, 60 s open, one half-open probe, 30 s per call); the upstream
// model is a mid-sized hosted model: about 300 ms to the first token, 5 ms
// per token, 64 tokens per answer.
func Defaults() Scenario {
	return Scenario{
		Seed: 1,
		// TimeScale 0: the scenario sets none, and `brownout run` and
		// `brownout sweep` choose one (--time-scale auto).
		Breaker: Breaker{
			Enabled:             true,
			Policy:              PolicyConsecutive,
			FailThreshold:       5,
			FailureRatio:        0.5,
			MinRequests:         20,
			ResetTimeout:        Duration(60 * time.Second),
			HalfOpenMaxRequests: 1,
			Interval:            0,
			CallTimeout:         Duration(30 * time.Second),
			Scope:               ScopeShared,
			Window:              0,
			Buckets:             10,
			Store:               StoreLocal,
		},
		Assistant: Assistant{
			Mode:     ModeChat,
			Replicas: 1,
			TopK:     5,
			Cache:    Cache{Size: 1000, TTL: Duration(10 * time.Minute)},
			Excerpts: Excerpts{Count: 3, Chars: 200},
		},
		Load: LoadSpec{
			Rate:        RateSpec{Pattern: PatternConstant, Rate: 10},
			Queries:     QueriesBuiltin,
			RepeatRatio: 0.3,
			Timeout:     Duration(35 * time.Second),
			MaxWorkers:  512,
		},
		Upstream: Upstream{
			Latency: Latency{
				TTFT:     Dist{Dist: DistLognormal, Median: Duration(300 * time.Millisecond), P99: Duration(1500 * time.Millisecond)},
				PerToken: Dist{Dist: DistFixed, Value: Duration(5 * time.Millisecond)},
			},
			Tokens:   64,
			Capacity: Capacity{Concurrency: 64, Queue: 256},
		},
	}
}

// Values of the enumerated string settings.
const (
	PolicyConsecutive = "consecutive"
	PolicyRatio       = "ratio"
	ScopeShared       = "shared"
	ScopePerEndpoint  = "per-endpoint"
	StoreLocal        = "local"
	StoreRedis        = "redis"
	ModeChat          = "chat"
	ModeText          = "text"
	QueriesBuiltin    = "builtin"
)
