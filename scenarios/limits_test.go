package scenarios

import (
	"encoding/json"
	"testing"

	"brownout/limits"
)

// TestSchemaRangesAreTheLimits checks that the ranges the JSON Schema
// gives editors (struct tags, which cannot name constants) are the ones
// package limits defines and Parse enforces, so a limit is changed in one
// place and this test points at the other.
func TestSchemaRangesAreTheLimits(t *testing.T) {
	var schema struct {
		Defs map[string]struct {
			Properties map[string]struct {
				Minimum *float64 `json:"minimum"`
				Maximum *float64 `json:"maximum"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(JSONSchema(), &schema); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		def, prop string
		min, max  float64
	}{
		{"Breaker", "fail_threshold", limits.MinFailThreshold, limits.MaxFailThreshold},
		{"Breaker", "min_requests", limits.MinMinRequests, limits.MaxMinRequests},
		{"Breaker", "half_open_max_requests", limits.MinHalfOpen, limits.MaxHalfOpen},
		{"Breaker", "buckets", limits.MinBuckets, limits.MaxBuckets},
		{"Assistant", "top_k", limits.MinTopK, limits.MaxTopK},
		{"Cache", "size", 0, limits.MaxCacheSize},
		{"Excerpts", "count", limits.MinExcerptCount, limits.MaxExcerptCount},
		{"Excerpts", "chars", limits.MinExcerptChars, limits.MaxExcerptChars},
		{"LoadSpec", "max_workers", 1, limits.MaxWorkers},
		{"Upstream", "tokens", 1, limits.MaxTokens},
		{"Capacity", "concurrency", 0, limits.MaxQueue},
		{"Capacity", "queue", 0, limits.MaxQueue},
	} {
		p, ok := schema.Defs[tc.def].Properties[tc.prop]
		if !ok {
			t.Errorf("%s.%s: not in the schema", tc.def, tc.prop)
			continue
		}
		if p.Minimum == nil || *p.Minimum != tc.min || p.Maximum == nil || *p.Maximum != tc.max {
			t.Errorf("%s.%s: schema range %v..%v, want %v..%v (package limits)", tc.def, tc.prop, deref(p.Minimum), deref(p.Maximum), tc.min, tc.max)
		}
	}
}

func deref(f *float64) any {
	if f == nil {
		return "unset"
	}
	return *f
}
