package sim

import (
	"testing"

	"brownout/recording"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       recording.Outcome
		reason     string
	}{
		{"upstream", `{"answer":"x","sources":[],"metadata":{"duration_ms":3,"chunks_used":5}}`, 200, recording.OutcomeUpstream, ""},
		{"cache", `{"answer":"x","metadata":{"from_fallback":true,"fallback_reason":"circuit_open","fallback_source":"l1_cache"}}`, 200, recording.OutcomeCache, "circuit_open"},
		{"excerpts", `{"answer":"x","metadata":{"from_fallback":true,"fallback_reason":"upstream_timeout","fallback_source":"excerpts"}}`, 200, recording.OutcomeExcerpts, "upstream_timeout"},
		{"unknown source", `{"metadata":{"from_fallback":true,"fallback_source":"magic"}}`, 200, recording.OutcomeBadResponse, ""},
		{"unreadable 200", `{"answer":`, 200, recording.OutcomeBadResponse, ""},
		{"503", `{"error":"service_unavailable"}`, 503, recording.OutcomeUnavailable, ""},
		{"500", `oops`, 500, recording.OutcomeBadResponse, ""},
		{"transport", ``, 0, recording.OutcomeError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, _ := classify(tt.status, []byte(tt.body), "boom")
			if got != tt.want || (tt.reason != "" && reason != tt.reason) {
				t.Errorf("classify = %q, %q; want %q, %q", got, reason, tt.want, tt.reason)
			}
		})
	}
}

func TestCheckLoopback(t *testing.T) {
	for target, ok := range map[string]bool{
		"http://127.0.0.1:8000/assistant/query": true,
		"http://127.9.9.9/":                     true,
		"http://[::1]:80/":                      true,
		"http://localhost:1/":                   true,
		"http://10.0.0.1/":                      false,
		"http://192.168.1.1/":                   false,
		"http://example.com/":                   false,
		"http://8.8.8.8/":                       false,
	} {
		if err := CheckLoopback(target); (err == nil) != ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok=%v", target, err, ok)
		}
	}
}
