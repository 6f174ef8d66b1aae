package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// inBubble runs f in a synctest bubble with a server built inside it and
// a client that reaches it through the in-memory transport.
func inBubble(t *testing.T, cfg Config, f func(t *testing.T, s *Server, c *http.Client)) {
	synctest.Test(t, func(t *testing.T) {
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		f(t, s, &http.Client{Transport: s.RoundTripper()})
	})
}

func fixed(d time.Duration) DistSpec { return DistSpec{Dist: "fixed", Value: d} }

// TestTimingVirtual: a non-streaming answer takes TTFT + (n-1)·per-token,
// exactly, in virtual time; a stream paces its events the same way.
func TestTimingVirtual(t *testing.T) {
	cfg := Config{Phases: []Phase{{Name: "p", TTFT: fixed(300 * time.Millisecond), PerToken: fixed(20 * time.Millisecond)}}}
	inBubble(t, cfg, func(t *testing.T, s *Server, c *http.Client) {
		start := time.Now()
		resp, err := post(c, "http://fake/v1/chat/completions", chatBody) // max_tokens 6
		if err != nil {
			t.Fatal(err)
		}
		_, _ = readAll(resp.Body)
		if got, want := time.Since(start), 300*time.Millisecond+5*20*time.Millisecond; got != want {
			t.Errorf("non-stream took %v, want %v", got, want)
		}

		start = time.Now()
		resp, err = post(c, "http://fake/v1/chat/completions", chatStreamBody)
		if err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 0 {
			t.Errorf("stream headers after %v, want at once", got)
		}
		var at []time.Duration
		buf := make([]byte, 64<<10)
		for {
			n, err := resp.Body.Read(buf)
			if n > 0 {
				for range strings.Count(string(buf[:n]), "data: ") {
					at = append(at, time.Since(start))
				}
			}
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		want := []time.Duration{300, 320, 340, 360, 380, 400, 400, 400} // 6 tokens, usage, [DONE]
		if fmt.Sprint(at) != fmt.Sprint(scale(want, time.Millisecond)) {
			t.Errorf("events at %v, want %v", at, scale(want, time.Millisecond))
		}
	})
}

func scale(ds []time.Duration, unit time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d * unit
	}
	return out
}

// TestLatencyFaultVirtual: a latency fault adds its delay to the first
// token, only on the calls it selects.
func TestLatencyFaultVirtual(t *testing.T) {
	cfg := onePhase(FaultSpec{Kind: "latency", Every: 2, Latency: &DistSpec{Dist: "fixed", Value: 5 * time.Second}})
	cfg.Phases[0].TTFT = fixed(100 * time.Millisecond)
	inBubble(t, cfg, func(t *testing.T, s *Server, c *http.Client) {
		var got []time.Duration
		for range 4 {
			start := time.Now()
			resp, err := post(c, "http://fake/generate", `{"inputs":"x","parameters":{"max_new_tokens":1}}`)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = readAll(resp.Body)
			got = append(got, time.Since(start))
		}
		if want := "[100ms 5.1s 100ms 5.1s]"; fmt.Sprint(got) != want {
			t.Errorf("latencies %v, want %s", got, want)
		}
	})
}

// TestSlowBodyVirtual: slow_body paces a body of n bytes over n/rate.
func TestSlowBodyVirtual(t *testing.T) {
	inBubble(t, onePhase(FaultSpec{Kind: "slow_body", BytesPerSecond: 100}), func(t *testing.T, s *Server, c *http.Client) {
		start := time.Now()
		resp, err := post(c, "http://fake/", `{"inputs":"x","parameters":{"max_new_tokens":3}}`)
		if err != nil {
			t.Fatal(err)
		}
		b, err := readAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := time.Since(start), time.Duration(len(b))*10*time.Millisecond; got != want {
			t.Errorf("%d bytes at 100 B/s took %v, want %v", len(b), got, want)
		}
	})
}

// TestTimelineVirtual: phases switch at their boundaries, the last one
// stays, and each phase counts its own calls from 0.
func TestTimelineVirtual(t *testing.T) {
	cfg := Config{Phases: []Phase{
		{Name: "warm", Duration: 10 * time.Second},
		{Name: "outage", Duration: 5 * time.Second, Faults: []FaultSpec{{Kind: "status", Code: 503, First: 1}}},
		{Name: "recovery", Duration: time.Second},
	}}
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var calls []string
		s, err := New(cfg, WithCallObserver(func(c Call) {
			mu.Lock()
			calls = append(calls, fmt.Sprintf("%s:%s:%d", c.Phase, c.Fault, c.Status))
			mu.Unlock()
		}))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		time.Sleep(time.Hour) // before StartTimeline the clock runs from New
		s.StartTimeline(time.Now())
		c := &http.Client{Transport: s.RoundTripper()}
		t0 := time.Now()
		for _, at := range []time.Duration{0, 9999 * time.Millisecond, 10 * time.Second, 11 * time.Second, 15 * time.Second, time.Hour} {
			time.Sleep(time.Until(t0.Add(at)))
			resp, err := post(c, "http://fake/generate", `{"inputs":"x"}`)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = readAll(resp.Body)
		}
		s.Close()
		want := "warm::200 warm::200 outage:status:503 outage::200 recovery::200 recovery::200"
		if got := strings.Join(calls, " "); got != want {
			t.Errorf("calls:\n got %s\nwant %s", got, want)
		}
		if got := s.Stats().Phases[1].ByStatus["503"]; got != 1 {
			t.Errorf("stats: outage 503s = %d, want 1", got)
		}
	})
}

// TestCapacityVirtual: with concurrency 1 and queue 1, the second of
// three simultaneous requests waits for the first, and the third is
// answered 429 overloaded at once.
func TestCapacityVirtual(t *testing.T) {
	cfg := Config{Phases: []Phase{{Name: "p", TTFT: fixed(time.Second), Concurrency: 1, Queue: 1}}}
	inBubble(t, cfg, func(t *testing.T, s *Server, c *http.Client) {
		type result struct {
			code int
			took time.Duration
		}
		results := make([]result, 3)
		var wg sync.WaitGroup
		start := time.Now()
		for i := range 3 {
			wg.Go(func() {
				// Stagger arrivals by a virtual nanosecond so the order is fixed.
				time.Sleep(time.Duration(i))
				resp, err := post(c, "http://fake/generate", `{"inputs":"x","parameters":{"max_new_tokens":1}}`)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = readAll(resp.Body)
				results[i] = result{resp.StatusCode, time.Since(start)}
			})
		}
		wg.Wait()
		want := []result{{200, time.Second}, {200, 2 * time.Second}, {429, 2}}
		if fmt.Sprint(results) != fmt.Sprint(want) {
			t.Errorf("results %v, want %v", results, want)
		}
	})
}

// TestHangVirtual: a hang lasts until its bound, then drops the
// connection; a client deadline ends it earlier; Close ends it at once.
func TestHangVirtual(t *testing.T) {
	inBubble(t, onePhase(FaultSpec{Kind: "hang", Duration: time.Minute}), func(t *testing.T, s *Server, c *http.Client) {
		start := time.Now()
		_, err := post(c, "http://fake/v1/chat/completions", chatBody)
		if !errors.Is(err, io.EOF) || time.Since(start) != time.Minute {
			t.Errorf("bounded hang: err %v after %v, want EOF after 1m", err, time.Since(start))
		}

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://fake/v1/chat/completions", strings.NewReader(chatBody))
		start = time.Now()
		_, err = c.Do(req)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 30*time.Second {
			t.Errorf("client deadline: err %v after %v, want deadline after 30s", err, time.Since(start))
		}

		errc := make(chan error)
		go func() {
			_, err := post(c, "http://fake/v1/chat/completions", chatBody)
			errc <- err
		}()
		synctest.Wait() // the request is hanging
		start = time.Now()
		s.Close()
		if err := <-errc; err == nil || time.Since(start) != 0 {
			t.Errorf("after Close: err %v after %v, want an error at once", err, time.Since(start))
		}
	})
}

// TestClientCancelsStream: a client that stops reading mid-stream ends
// the server's work; the call is recorded with its status.
func TestClientCancelsStream(t *testing.T) {
	cfg := Config{Phases: []Phase{{Name: "p", Tokens: 100, PerToken: fixed(time.Second)}}}
	synctest.Test(t, func(t *testing.T) {
		got := make(chan Call, 1)
		s, err := New(cfg, WithCallObserver(func(c Call) { got <- c }))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		c := &http.Client{Transport: s.RoundTripper()}
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://fake/generate_stream", strings.NewReader(`{"inputs":"x"}`))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(3500 * time.Millisecond)
		cancel()
		if _, err := readAll(resp.Body); !errors.Is(err, context.Canceled) {
			t.Errorf("body err = %v, want context.Canceled", err)
		}
		call := <-got
		if call.Status != 200 || call.Duration != 3500*time.Millisecond {
			t.Errorf("call = %+v, want status 200 after 3.5s", call)
		}
	})
}

// TestKeepAliveVirtual: a stream silent for 40 s sends TGI's keep-alive
// comment at 15 s and 30 s, then its tokens.
func TestKeepAliveVirtual(t *testing.T) {
	cfg := Config{Phases: []Phase{{Name: "p", TTFT: fixed(40 * time.Second)}}}
	inBubble(t, cfg, func(t *testing.T, s *Server, c *http.Client) {
		start := time.Now()
		resp, err := post(c, "http://fake/generate_stream", `{"inputs":"x","parameters":{"max_new_tokens":1}}`)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got []string
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			if n > 0 {
				got = append(got, fmt.Sprintf("%v:%.6s", time.Since(start), buf[:n]))
			}
			if err != nil {
				break
			}
		}
		if want := "[15s::\n\n 30s::\n\n 40s:data: ]"; fmt.Sprint(got) != want {
			t.Errorf("reads %q, want %s", got, want)
		}
	})
}

// TestCallDelay: a call reports the delay it was planned to have, whether
// or not the client waited for all of it, and the time it spent waiting
// for a capacity slot.
func TestCallDelay(t *testing.T) {
	cfg := Config{Phases: []Phase{{Name: "p", TTFT: fixed(300 * time.Millisecond), PerToken: fixed(20 * time.Millisecond),
		Concurrency: 1, Queue: 1}}}
	synctest.Test(t, func(t *testing.T) {
		got := make(chan Call, 4)
		s, err := New(cfg, WithCallObserver(func(c Call) { got <- c }))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		c := &http.Client{Transport: s.RoundTripper()}
		const planned = 300*time.Millisecond + 5*20*time.Millisecond // max_tokens 6

		// Three calls at once: one is served, one waits its turn, one
		// finds the queue full.
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if resp, err := post(c, "http://fake/v1/chat/completions", chatBody); err == nil {
					readAll(resp.Body)
				}
			})
			synctest.Wait()
		}
		wg.Wait()
		calls := []Call{<-got, <-got, <-got}
		want := []struct {
			status        int
			delay, queued time.Duration
			gotSlot       bool
			duration      time.Duration
		}{
			{http.StatusTooManyRequests, 0, 0, false, 0},
			{http.StatusOK, planned, 0, true, planned},
			{http.StatusOK, planned, planned, true, 2 * planned},
		}
		for i, w := range want {
			c := calls[i]
			if c.Status != w.status || c.Delay != w.delay || c.Queued != w.queued || c.GotSlot != w.gotSlot || c.Duration != w.duration {
				t.Errorf("call %d = status %d delay %v queued %v slot %v duration %v, want %+v",
					i, c.Status, c.Delay, c.Queued, c.GotSlot, c.Duration, w)
			}
		}

		// A client that gives up after 100 ms: the call still reports the
		// 400 ms it was planned to take.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://fake/v1/chat/completions", strings.NewReader(chatBody))
		if _, err := c.Do(req); err == nil {
			t.Error("want a timeout")
		}
		if call := <-got; call.Delay != planned || call.Duration != 100*time.Millisecond || call.Status != 0 {
			t.Errorf("abandoned call = %+v, want delay %v, duration 100ms, no status", call, planned)
		}
	})
}
