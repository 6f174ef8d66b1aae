package recording

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"brownout/contract"

	"github.com/google/go-cmp/cmp"
)

func TestAppendRequestMatchesEncodingJSON(t *testing.T) {
	cases := []Request{
		{},
		{Seq: 7, T: 1500 * time.Millisecond, Latency: 3 * time.Millisecond, Status: 200, Outcome: contract.OutcomeUpstream, Phase: "healthy", Breaker: contract.StateClosed},
		{Seq: 10, T: time.Second, Latency: 900 * time.Millisecond, RealLatency: 19 * time.Millisecond, Status: 200, Outcome: contract.OutcomeUpstream, Phase: "healthy", Breaker: contract.StateClosed},
		{Seq: 8, Status: 200, Outcome: contract.OutcomeCache, Reason: "circuit_breaker_open", Phase: "out\"age", Breaker: contract.StateOpen},
		{Seq: 9, Outcome: contract.OutcomeError, Error: "Post \"http://127.0.0.1:1/x\": context deadline exceeded <&> é\n", Breaker: contract.StateHalfOpen},
		{Seq: 11, Status: 200, Outcome: contract.OutcomeUpstream, Error: "e", RealLatency: 5, Replica: 8},
	}
	for _, r := range cases {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got := appendRequest(nil, &r)
		if string(got) != string(want)+"\n" {
			t.Errorf("appendRequest(%+v)\n got %s\nwant %s", r, got, want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	h := Header{Scenario: "s", Seed: 3, TimeScale: 10, Phases: []PhaseSpan{{"a", 0, time.Second}, {"b", time.Second, 2 * time.Second}}, Breakers: []string{"huggingface_api"}}
	w, err := Create(dir, h)
	if err != nil {
		t.Fatal(err)
	}
	reqs := []Request{
		{Seq: 1, T: time.Millisecond, Intended: 900 * time.Microsecond, Latency: 500 * time.Millisecond, RealLatency: 52 * time.Millisecond, Status: 200, Outcome: contract.OutcomeUpstream, Phase: "a", Breaker: contract.StateClosed},
		{Seq: 2, T: 1100 * time.Millisecond, Status: 503, Outcome: contract.OutcomeUnavailable, Phase: "b", Breaker: contract.StateOpen},
		{Seq: 3, T: 1200 * time.Millisecond, Status: 200, Outcome: contract.OutcomeUpstream, Phase: "b", Breaker: contract.StateClosed, Replica: 2},
	}
	trs := []Transition{
		{T: time.Second, Breaker: "huggingface_api", From: contract.StateClosed, To: contract.StateOpen},
		{T: time.Second, Breaker: "huggingface_api/r2", Replica: 2, From: contract.StateClosed, To: contract.StateOpen},
	}
	calls := []UpstreamCall{
		{Seq: 1, T: time.Millisecond, Phase: "a", Route: "/v1/chat/completions", Status: 200, Breaker: contract.StateClosed},
		{Seq: 2, T: 2 * time.Millisecond, Phase: "a", Route: "/v1/chat/completions", Status: 200, Breaker: contract.StateClosed, Replica: 3},
	}
	for _, r := range reqs {
		if err := w.Request(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, tr := range trs {
		if err := w.Transition(tr); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range calls {
		if err := w.UpstreamCall(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(2*time.Second, time.Unix(100, 0).UTC(), true); err != nil {
		t.Fatal(err)
	}
	if err := w.Request(reqs[0]); err == nil {
		t.Error("Request after Close: want an error")
	}

	got, err := ReadHeader(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Complete || !got.Interrupted || got.Counts != (Counts{3, 2, 2}) || got.Format != FormatVersion {
		t.Errorf("header = %+v", got)
	}
	if p := got.PhaseAt(1500 * time.Millisecond); p != "b" {
		t.Errorf("PhaseAt(1.5s) = %q, want b", p)
	}
	var gotReqs []Request
	if err := EachRequest(dir, func(r *Request) error { gotReqs = append(gotReqs, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(reqs, gotReqs); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	gotTrs, err := ReadTransitions(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(trs, gotTrs); d != "" {
		t.Errorf("transitions (-want +got):\n%s", d)
	}
	var gotCalls []UpstreamCall
	if err := EachUpstreamCall(dir, func(c *UpstreamCall) error { gotCalls = append(gotCalls, *c); return nil }); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(calls, gotCalls); d != "" {
		t.Errorf("upstream calls (-want +got):\n%s", d)
	}
}

func TestReadToleratesPartialLastLine(t *testing.T) {
	dir := t.TempDir()
	data := `{"seq":1,"t_ns":0,"latency_ns":0,"status":200,"outcome":"upstream","phase":"a","breaker":"closed"}` + "\n" + `{"seq":2,"t_ns":`
	if err := os.WriteFile(filepath.Join(dir, RequestsFile), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := EachRequest(dir, func(*Request) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("read %d requests, want 1", n)
	}
}

func TestReadHeaderRefusesOtherFormat(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, HeaderFile), []byte(`{"format":99}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadHeader(dir); err == nil {
		t.Error("want an error for format 99")
	}
}

func BenchmarkWriterRequest(b *testing.B) {
	w, err := Create(b.TempDir(), Header{})
	if err != nil {
		b.Fatal(err)
	}
	r := Request{Seq: 1, T: time.Second, Latency: time.Millisecond, Status: 200, Outcome: contract.OutcomeExcerpts, Reason: "circuit_breaker_open", Phase: "outage", Breaker: contract.StateOpen}
	b.ReportAllocs()
	for b.Loop() {
		r.Seq++
		if err := w.Request(r); err != nil {
			b.Fatal(err)
		}
	}
	w.Close(0, time.Time{}, false)
}

// TestOldReasonReadsAsTheSeeds checks that recordings made before the
// built-in assistant used the seed's "circuit_breaker_open" still read,
// with the reason under today's spelling, on both decoding paths (the
// second line has a key order the fast path leaves to encoding/json).
func TestOldReasonReadsAsTheSeeds(t *testing.T) {
	dir := t.TempDir()
	data := `{"seq":1,"t_ns":0,"latency_ns":0,"status":200,"outcome":"excerpts","reason":"circuit_open","phase":"a","breaker":"open"}` + "\n" +
		`{"seq":2,"reason":"circuit_open","extra":{"x":1},"outcome":"l1_cache"}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, RequestsFile), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	var reasons []contract.FallbackReason
	if err := EachRequest(dir, func(r *Request) error { reasons = append(reasons, r.Reason); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(reasons) != 2 || reasons[0] != "circuit_breaker_open" || reasons[1] != "circuit_breaker_open" {
		t.Errorf("reasons %q, want circuit_breaker_open twice", reasons)
	}
}

func TestOfReplica(t *testing.T) {
	for _, c := range []struct {
		replica, k int
		want       bool
	}{
		{0, 1, true}, // unstamped: a one-replica run, or an older recording
		{0, 2, false},
		{1, 1, true},
		{2, 2, true},
		{2, 1, false},
		{1, 2, false},
	} {
		if got := OfReplica(c.replica, c.k); got != c.want {
			t.Errorf("OfReplica(%d, %d) = %v, want %v", c.replica, c.k, got, c.want)
		}
	}
}
