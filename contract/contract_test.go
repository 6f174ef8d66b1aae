package contract

import "testing"

func TestOutcomeOf(t *testing.T) {
	tests := []struct {
		source FallbackSource
		want   Outcome
		ok     bool
	}{
		{SourceL1Cache, OutcomeCache, true},
		{SourceExcerpts, OutcomeExcerpts, true},
		{"magic", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got, ok := OutcomeOf(tt.source); got != tt.want || ok != tt.ok {
			t.Errorf("OutcomeOf(%q) = %q, %v; want %q, %v", tt.source, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCanonicalReason(t *testing.T) {
	tests := []struct{ in, want FallbackReason }{
		{"circuit_open", ReasonCircuitOpen},
		{ReasonCircuitOpen, ReasonCircuitOpen},
		{ReasonUpstreamError, ReasonUpstreamError},
		{"", ""},
	}
	for _, tt := range tests {
		if got := tt.in.Canonical(); got != tt.want {
			t.Errorf("%q.Canonical() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSeedSpellings pins the words to the seed's HTTP contract: changing
// one breaks every client and recording.
func TestSeedSpellings(t *testing.T) {
	for got, want := range map[string]string{
		StateClosed.String(): "closed", StateOpen.String(): "open", StateHalfOpen.String(): "half-open",
		string(ReasonCircuitOpen): "circuit_breaker_open", string(SourceL1Cache): "l1_cache",
		PathQuery: "/assistant/query", PathHealth: "/assistant/health/circuit-breaker",
	} {
		if got != want {
			t.Errorf("spelt %q, the seed says %q", got, want)
		}
	}
}
