package assistant

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"brownout/contract"
)

// hfServer is a minimal HuggingFace-like upstream on real loopback HTTP.
type hfServer struct {
	*httptest.Server
	mode    atomic.Value // "ok", "down", "garbage", "slow", "hang"
	calls   atomic.Int64
	auth    atomic.Value
	arrived chan struct{} // one value per call, for tests that wait on one
}

// awaitCall waits for the next call the server receives.
func (h *hfServer) awaitCall(t *testing.T) {
	t.Helper()
	select {
	case <-h.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("no upstream call within 10 s")
	}
}

func newHFServer(t *testing.T) *hfServer {
	h := &hfServer{arrived: make(chan struct{}, 64)}
	h.mode.Store("ok")
	h.auth.Store("")
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.calls.Add(1)
		select {
		case h.arrived <- struct{}{}:
		default:
		}
		h.auth.Store(r.Header.Get("Authorization"))
		var req chatRequest
		if r.URL.Path != "/v1/chat/completions" || json.NewDecoder(r.Body).Decode(&req) != nil || len(req.Messages) != 2 {
			http.Error(w, `{"error":"bad request","error_type":"validation"}`, 422)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch h.mode.Load() {
		case "down":
			w.WriteHeader(503)
			io.WriteString(w, `{"error":"Model x is currently loading","estimated_time":20}`)
		case "garbage":
			io.WriteString(w, `{"choices":[{"mess`)
		case "hang":
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
			io.WriteString(w, chatBody("too late"))
		case "slow":
			select {
			case <-r.Context().Done():
			case <-time.After(300 * time.Millisecond):
			}
			io.WriteString(w, chatBody("slow answer"))
		default:
			io.WriteString(w, chatBody("answer over loopback"))
		}
	}))
	t.Cleanup(h.Close)
	return h
}

// startService serves s on a loopback port until the returned stop is
// called; stop returns Serve's error.
func startService(t *testing.T, s *Service) (base string, stop func() error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	var once atomic.Bool
	var serr error
	stop = func() error {
		if once.CompareAndSwap(false, true) {
			cancel()
			select {
			case serr = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return within 10 s of cancellation")
			}
		}
		return serr
	}
	t.Cleanup(func() { stop() })
	return "http://" + l.Addr().String(), stop
}

func httpAsk(t *testing.T, c *http.Client, base, question string) (int, QueryResponse, http.Header) {
	t.Helper()
	b, _ := json.Marshal(contract.QueryRequest{Question: question})
	resp, err := c.Post(base+contract.PathQuery, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	var q QueryResponse
	if resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(&q); err != nil {
			t.Fatalf("decode: %v", err)
		}
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	return resp.StatusCode, q, resp.Header
}

func TestEndToEndLoopback(t *testing.T) {
	hf := newHFServer(t)
	cfg := DefaultConfig()
	cfg.UpstreamURL = hf.URL
	cfg.Token = "hf_test_token"
	cfg.Breaker.FailThreshold = 3
	cfg.Breaker.ResetTimeout = 300 * time.Millisecond
	cfg.CallTimeout = 2 * time.Second
	var log transitionLog
	s, err := New(cfg, WithLogger(discardLogger()), WithObserver(log.record)) // its own pooled transport
	if err != nil {
		t.Fatal(err)
	}
	base, stop := startService(t, s)
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()

	code, a, _ := httpAsk(t, client, base, onTopic)
	if code != 200 || a.Answer != "answer over loopback" || a.Metadata.FromFallback {
		t.Fatalf("healthy: %d %+v", code, a)
	}
	if got := hf.auth.Load(); got != "Bearer hf_test_token" {
		t.Errorf("Authorization = %q", got)
	}

	// Outage: three failures (two kinds), then the breaker opens.
	hf.mode.Store("down")
	httpAsk(t, client, base, onTopic)
	hf.mode.Store("garbage")
	httpAsk(t, client, base, onTopic)
	hf.mode.Store("down")
	_, a, _ = httpAsk(t, client, base, onTopic)
	if a.Metadata.FallbackSource != contract.SourceL1Cache || a.Metadata.FallbackReason != contract.ReasonUpstreamError {
		t.Errorf("third failure: %+v", a.Metadata)
	}
	calls := hf.calls.Load()
	code, a, hdr := httpAsk(t, client, base, onTopic)
	if code != 200 || a.Metadata.FallbackReason != contract.ReasonCircuitOpen || a.Metadata.FallbackSource != contract.SourceL1Cache ||
		hdr.Get(contract.HeaderBreakerState) != contract.StateOpen.String() {
		t.Errorf("while open: %d %+v %v", code, a.Metadata, hdr)
	}
	if hf.calls.Load() != calls {
		t.Error("the upstream was called while the breaker was open")
	}
	resp, err := client.Post(base+contract.PathQuery, "application/json", strings.NewReader(`{"question":"`+offTopic+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var u UnavailableResponse
	json.NewDecoder(resp.Body).Decode(&u)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || u.RetryAfter != 1 || u.CircuitStatus.State != contract.StateOpen {
		t.Errorf("503: %d %q %+v", resp.StatusCode, resp.Header.Get("Retry-After"), u)
	}

	var h HealthResponse
	getJSON(t, client, base+contract.PathHealth, &h)
	if h.CircuitBreaker.State != contract.StateOpen || h.CircuitBreaker.FailCount != 3 || h.CircuitBreaker.IsHealthy {
		t.Errorf("health = %+v", h.CircuitBreaker)
	}
	metrics := getText(t, client, base+PathMetrics)
	for _, want := range []string{
		`assistant_breaker_state{breaker="huggingface_api"} 2`,
		`assistant_breaker_transitions_total{breaker="huggingface_api",from="closed",to="open"} 1`,
		`assistant_answers_total{outcome="upstream"} 1`,
		`assistant_answers_total{outcome="l1_cache"} 4`,
		`assistant_answers_total{outcome="unavailable"} 1`,
		`assistant_upstream_calls_total{endpoint="chat",result="status"} 2`,
		`assistant_upstream_calls_total{endpoint="chat",result="malformed"} 1`,
		`assistant_upstream_calls_total{endpoint="chat",result="success"} 1`,
		`assistant_breaker_rejections_total{breaker="huggingface_api"} 2`,
		`assistant_request_duration_seconds_count{outcome="l1_cache"} 4`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}

	// Recovery: once the reset timeout has passed on the breaker's clock,
	// the next request is the half-open probe, and its success closes the
	// breaker. This is real loopback, so the test waits the timeout out on
	// the real clock, to the deadline the breaker itself recorded (the
	// breaker's own timing is tested in virtual time in breaker_test.go).
	hf.mode.Store("ok")
	opened := log.all()[0]
	if opened.To != contract.StateOpen {
		t.Fatalf("first transition %+v, want to open", opened)
	}
	time.Sleep(time.Until(opened.At.Add(cfg.Breaker.ResetTimeout + time.Millisecond)))
	code, a, _ = httpAsk(t, client, base, onTopic)
	if code != 200 || a.Metadata.FromFallback || a.Answer != "answer over loopback" {
		t.Fatalf("first request after the reset timeout: %d %+v, want the upstream's answer", code, a)
	}
	ts := log.all()
	var seq []string
	for _, tr := range ts {
		seq = append(seq, tr.From.String()+">"+tr.To.String())
	}
	if got := strings.Join(seq, " "); got != "closed>open open>half-open half-open>closed" {
		t.Errorf("transitions = %s", got)
	}
	if d := ts[1].At.Sub(ts[0].At); d < cfg.Breaker.ResetTimeout {
		t.Errorf("half-open %v after opening, before the reset timeout", d)
	}

	if err := stop(); err != nil {
		t.Errorf("Serve returned %v after a clean shutdown", err)
	}
	if _, err := client.Get(base + contract.PathHealth); err == nil {
		t.Error("still serving after shutdown")
	}
}

func getJSON(t *testing.T, c *http.Client, url string, v any) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func getText(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestServeDrainsInFlightRequests(t *testing.T) {
	hf := newHFServer(t)
	hf.mode.Store("slow")
	cfg := DefaultConfig()
	cfg.UpstreamURL = hf.URL
	s, err := New(cfg, WithLogger(discardLogger()))
	if err != nil {
		t.Fatal(err)
	}
	base, stop := startService(t, s)
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	type result struct {
		code int
		a    QueryResponse
	}
	done := make(chan result, 1)
	go func() {
		code, a, _ := httpAsk(t, client, base, onTopic)
		done <- result{code, a}
	}()
	// Wait until the request reached the upstream, then shut down.
	hf.awaitCall(t)
	if err := stop(); err != nil {
		t.Errorf("Serve = %v, want nil", err)
	}
	r := <-done
	if r.code != 200 || r.a.Answer != "slow answer" {
		t.Errorf("in-flight request: %d %+v, want the upstream's answer", r.code, r.a)
	}
}

func TestServeBoundedShutdown(t *testing.T) {
	hf := newHFServer(t)
	hf.mode.Store("hang")
	cfg := DefaultConfig()
	cfg.UpstreamURL = hf.URL
	s, err := New(cfg, WithLogger(discardLogger()), withShutdownTimeout(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	base, stop := startService(t, s)
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := strings.NewReader(`{"question":"What is a circuit breaker?"}`)
		if resp, err := client.Post(base+contract.PathQuery, "application/json", b); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	hf.awaitCall(t)
	start := time.Now()
	err = stop()
	if err == nil || !strings.Contains(err.Error(), "shutdown") {
		t.Errorf("Serve = %v, want a shutdown error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %v with a 20 ms grace period: the hung upstream call was not cancelled", d)
	}
	<-done
}

func TestServeListenerError(t *testing.T) {
	s := newTestService(t, testConfig(), &upstream{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := s.Serve(context.Background(), l); err == nil {
		t.Error("Serve on a closed listener returned nil")
	}
}
