package faults

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"brownout/internal/timeouts/timeoutstest"
)

// shortTimeouts are small enough for a unit test.
var shortTimeouts = Timeouts{Header: time.Second, Read: 200 * time.Millisecond, Write: 200 * time.Millisecond, Idle: time.Second}

// TestServeCutsOffSlowloris sends headers and then one body byte per tick
// to the fake over a socket: Serve must give up on the request long before
// the client would have sent it all, while a slow_body answer that takes
// several write timeouts still arrives whole (each write is bounded, not
// the answer).
func TestServeCutsOffSlowloris(t *testing.T) {
	url := startServer(t, newServer(t, onePhase(), WithTimeouts(shortTimeouts)))
	const size = 1000 // at one byte per 20 ms, 20 s to send
	if sent := timeoutstest.Slowloris(t, strings.TrimPrefix(url, "http://"), "/v1/chat/completions", size, 20*time.Millisecond); sent == size {
		t.Fatalf("sent all %d bytes one by one without being cut off", sent)
	}

	slow := startServer(t, newServer(t, onePhase(FaultSpec{Kind: "slow_body", BytesPerSecond: 400}), WithTimeouts(shortTimeouts)))
	start := time.Now()
	resp, err := post(freshClient(t), slow+"/v1/chat/completions", chatBody)
	if err != nil {
		t.Fatal(err)
	}
	b, err := readAll(resp.Body)
	if err != nil || !json.Valid(b) {
		t.Fatalf("slow_body answer cut: %v %q", err, b)
	}
	if took := time.Since(start); took < 2*shortTimeouts.Write {
		t.Errorf("the slow body took %v, too fast to show that answers may outlast the write timeout", took)
	}
}
