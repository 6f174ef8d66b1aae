package assistant

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"brownout/contract"
)

// TestRequestIDForwarded checks that a query's X-Request-Id reaches every
// upstream call the query makes, unchanged, and that an absent, repeated or
// oversized id is not forwarded.
func TestRequestIDForwarded(t *testing.T) {
	long := strings.Repeat("x", MaxRequestIDLen+1)
	for _, tc := range []struct {
		name string
		ids  []string
		want string
	}{
		{"one id", []string{"run7-42"}, "run7-42"},
		{"longest accepted", []string{long[1:]}, long[1:]},
		{"none", nil, ""},
		{"too long", []string{long}, ""},
		{"repeated", []string{"a", "b"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []string
			rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				mu.Lock()
				seen = append(seen, r.Header.Get(contract.HeaderRequestID))
				mu.Unlock()
				if r.URL.Path == "/v1/chat/completions" {
					// The chat endpoint fails, so the query also tries the
					// text endpoint: both calls must carry the id.
					return jsonResponse(r, 503, `{"error":"loading"}`), nil
				}
				return jsonResponse(r, 200, `[{"generated_text":"generated answer"}]`), nil
			})
			cfg := testConfig()
			cfg.Mode = ModeAuto // chat first, then text
			s := newTestService(t, cfg, rt)
			req := httptest.NewRequest(http.MethodPost, contract.PathQuery, strings.NewReader(`{"question":"what is a circuit breaker?"}`))
			req.Header.Set("Content-Type", "application/json")
			for _, id := range tc.ids {
				req.Header.Add(contract.HeaderRequestID, id)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
			if len(seen) != 2 {
				t.Fatalf("upstream calls = %d, want 2 (chat, then text)", len(seen))
			}
			for i, got := range seen {
				if got != tc.want {
					t.Errorf("call %d: X-Request-Id = %q, want %q", i, got, tc.want)
				}
			}
		})
	}
}
