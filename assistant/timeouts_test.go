package assistant

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"brownout/contract"
	"brownout/internal/timeouts/timeoutstest"
)

// TestServeCutsOffSlowloris sends headers and then one body byte per tick
// to Serve over a socket: the request must be given up long before the
// client would have sent it all, and a question asked normally afterwards
// is still answered.
func TestServeCutsOffSlowloris(t *testing.T) {
	short := Timeouts{Header: time.Second, Read: 200 * time.Millisecond, Write: 200 * time.Millisecond, Idle: time.Second}
	up := func(r *http.Request) (*http.Response, error) { return jsonResponse(r, 200, chatBody("fine")), nil }
	base, _ := startService(t, newTestService(t, testConfig(), roundTripFunc(up), WithTimeouts(short)))
	const size = 1000 // at one byte per 20 ms, 20 s to send
	if sent := timeoutstest.Slowloris(t, strings.TrimPrefix(base, "http://"), contract.PathQuery, size, 20*time.Millisecond); sent == size {
		t.Fatalf("sent all %d bytes one by one without being cut off", sent)
	}
	if code, q, _ := httpAsk(t, http.DefaultClient, base, "What is a circuit breaker?"); code != 200 || q.Answer == "" {
		t.Errorf("after the slow client: status %d, answer %q", code, q.Answer)
	}
}
