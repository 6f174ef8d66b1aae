package faults

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFaultsOverLoopback drives every fault kind through a real
// http.Client and a real socket.
func TestFaultsOverLoopback(t *testing.T) {
	type check func(t *testing.T, resp *http.Response, err error)
	status := func(code int, ctype, contains string) check {
		return func(t *testing.T, resp *http.Response, err error) {
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			b, err := readAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != code {
				t.Errorf("status = %d, want %d", resp.StatusCode, code)
			}
			if got := resp.Header.Get("Content-Type"); got != ctype {
				t.Errorf("Content-Type = %q, want %q", got, ctype)
			}
			if !strings.Contains(string(b), contains) {
				t.Errorf("body %q does not contain %q", b, contains)
			}
		}
	}
	tests := []struct {
		name  string
		fault FaultSpec
		body  string
		check check
	}{
		{"healthy", FaultSpec{Kind: "status", Code: 503, Rate: rate(0)}, chatBody,
			status(200, "application/json", `"object":"chat.completion"`)},
		{"model_loading", FaultSpec{Kind: "status", Body: "model_loading", EstimatedTime: 30 * time.Second}, chatBody,
			status(503, "application/json", `{"error":"Model `+DefaultModel+` is currently loading","estimated_time":30.0}`)},
		{"overloaded retry-after", FaultSpec{Kind: "status", Body: "overloaded", RetryAfter: 1500 * time.Millisecond}, chatBody,
			func(t *testing.T, resp *http.Response, err error) {
				status(429, "application/json", `"error_type":"overloaded"`)(t, resp, err)
				if got := resp.Header.Get("Retry-After"); got != "2" {
					t.Errorf("Retry-After = %q, want 2", got)
				}
			}},
		{"overloaded without retry-after", FaultSpec{Kind: "status", Code: 429}, chatBody,
			func(t *testing.T, resp *http.Response, err error) {
				status(429, "application/json", `{"error":"Model is overloaded","error_type":"overloaded"}`)(t, resp, err)
				if _, ok := resp.Header["Retry-After"]; ok {
					t.Error("unexpected Retry-After")
				}
			}},
		{"validation", FaultSpec{Kind: "status", Body: "validation"}, chatBody, status(422, "application/json", `"error_type":"validation"`)},
		{"generation", FaultSpec{Kind: "status", Body: "generation"}, chatBody, status(424, "application/json", `"error_type":"generation"`)},
		{"incomplete", FaultSpec{Kind: "status", Body: "incomplete_generation"}, chatBody, status(500, "application/json", `"error_type":"incomplete_generation"`)},
		{"bad_gateway", FaultSpec{Kind: "status", Body: "bad_gateway"}, chatBody, status(502, "text/html", "<h1>502 Bad Gateway</h1>")},
		{"gateway_timeout", FaultSpec{Kind: "status", Body: "gateway_timeout"}, chatBody, status(504, "text/plain; charset=utf-8", "upstream request timeout")},
		{"generic code", FaultSpec{Kind: "status", Code: 418, Message: "short and stout"}, chatBody,
			status(418, "application/json", `{"error":"short and stout","error_type":"i'm_a_teapot"}`)},
		{"reset", FaultSpec{Kind: "reset"}, chatBody, func(t *testing.T, resp *http.Response, err error) {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("err = %v, want connection reset", err)
			}
		}},
		{"empty", FaultSpec{Kind: "empty"}, chatBody, func(t *testing.T, resp *http.Response, err error) {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("err = %v, want EOF", err)
			}
		}},
		{"malformed truncated", FaultSpec{Kind: "malformed"}, chatBody, func(t *testing.T, resp *http.Response, err error) {
			status(200, "application/json", `"object"`)(t, resp, err)
		}},
		{"wrong_content_type", FaultSpec{Kind: "wrong_content_type"}, chatBody,
			status(200, "text/html; charset=utf-8", `"object":"chat.completion"`)},
		{"stream_error non-stream", FaultSpec{Kind: "stream_error"}, chatBody,
			status(424, "application/json", `"error":"Request failed during generation`)},
		{"stream_cut non-stream", FaultSpec{Kind: "stream_cut"}, chatBody, func(t *testing.T, resp *http.Response, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if _, err := readAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("body read err = %v, want unexpected EOF", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := startServer(t, newServer(t, onePhase(tt.fault)))
			resp, err := post(freshClient(t), url+"/v1/chat/completions", tt.body)
			tt.check(t, resp, err)
		})
	}
}

// TestMalformedFailsDecoding checks that both modes break JSON decoding,
// including a streaming decoder.
func TestMalformedFailsDecoding(t *testing.T) {
	for _, mode := range []string{"truncated", "invalid"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			url := startServer(t, newServer(t, onePhase(FaultSpec{Kind: "malformed", Mode: mode})))
			for _, path := range []string{"/v1/chat/completions", "/generate", "/"} {
				body := chatBody
				if path != "/v1/chat/completions" {
					body = `{"inputs":"hello"}`
				}
				resp, err := post(freshClient(t), url+path, body)
				if err != nil {
					t.Fatal(err)
				}
				var v any
				err = json.NewDecoder(resp.Body).Decode(&v)
				resp.Body.Close()
				if resp.StatusCode != 200 || err == nil {
					t.Errorf("%s: status %d, decode err %v; want 200 and a decode error", path, resp.StatusCode, err)
				}
			}
		})
	}
}

// TestHangEndsWhenClientLeaves checks that a hang holds the request until the
// client leaves, and that the server notices it leaving.
func TestHangEndsWhenClientLeaves(t *testing.T) {
	calls := make(chan Call, 1)
	s := newServer(t, onePhase(FaultSpec{Kind: "hang", Duration: time.Minute}), WithCallObserver(func(c Call) { calls <- c }))
	// The client leaves once the hang holds its request: leaving on a
	// client timeout instead could fire before a loaded machine delivered
	// the request, and then the fake never sees a call at all.
	hung := make(chan struct{}, 1)
	s.testHookHang = func() { hung <- struct{}{} }
	url := startServer(t, s)
	ctx, leave := context.WithCancel(t.Context())
	defer leave()
	go func() {
		select {
		case <-hung:
			leave()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/chat/completions", strings.NewReader(chatBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if _, err := freshClient(t).Do(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the client's own cancellation", err)
	}
	select {
	case call := <-calls:
		if call.Fault != "hang" || call.Status != 0 {
			t.Errorf("call = %+v, want fault hang, status 0", call)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("hang did not end after the client left")
	}
}

// TestHangReleasedOnShutdown checks that Serve's shutdown ends hangs at
// once instead of waiting for their bound.
func TestHangReleasedOnShutdown(t *testing.T) {
	s := newServer(t, onePhase(FaultSpec{Kind: "hang", Duration: time.Hour}))
	hung := make(chan struct{}, 1)
	s.testHookHang = func() { hung <- struct{}{} }
	url := startServer(t, s)
	errc := make(chan error, 1)
	go func() {
		resp, err := post(freshClient(t), url+"/v1/chat/completions", chatBody)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-hung
	s.release()
	select {
	case err := <-errc:
		if !errors.Is(err, io.EOF) {
			t.Errorf("err = %v, want EOF (connection closed without response)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("hang not released")
	}
}

// TestSlowBodyTakesPredictedTime checks the pace of slow_body over a real
// socket: n bytes at r bytes/s take n/r, within -10% and +50% + 100ms
// (wall clock on a shared machine; the exact pace is checked in virtual
// time by TestSlowBodyVirtual).
func TestSlowBodyTakesPredictedTime(t *testing.T) {
	const bps = 2000
	url := startServer(t, newServer(t, onePhase(FaultSpec{Kind: "slow_body", BytesPerSecond: bps})))
	start := time.Now()
	resp, err := post(freshClient(t), url+"/v1/chat/completions", chatBody)
	if err != nil {
		t.Fatal(err)
	}
	b, err := readAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	got := time.Since(start)
	want := time.Duration(len(b)) * time.Second / bps
	t.Logf("%d bytes at %d B/s: took %v, predicted %v", len(b), bps, got, want)
	if got < want*9/10 || got > want*3/2+100*time.Millisecond {
		t.Errorf("took %v, want %v within tolerance", got, want)
	}
	if !json.Valid(b) {
		t.Errorf("slow body is not the complete JSON: %q", b)
	}
}

// TestStreamFaults checks stream_cut and stream_error on chat and TGI
// streams over a real socket.
func TestStreamFaults(t *testing.T) {
	tests := []struct {
		name, path, body string
		fault            FaultSpec
		want             func(events []string) string // "" = ok, else the problem
	}{
		{"healthy chat", "/v1/chat/completions", chatStreamBody, FaultSpec{Kind: "stream_cut", Rate: rate(0)}, func(ev []string) string {
			// 6 tokens, usage chunk, [DONE]
			if len(ev) != 8 || ev[7] != "[DONE]" || !strings.Contains(ev[5], `"finish_reason":"length"`) {
				return "want 6 tokens, usage, [DONE]"
			}
			return ""
		}},
		{"cut chat", "/v1/chat/completions", chatStreamBody, FaultSpec{Kind: "stream_cut", Tokens: 3}, func(ev []string) string {
			if len(ev) != 3 || slices.Contains(ev, "[DONE]") {
				return "want exactly 3 token events and no [DONE]"
			}
			return ""
		}},
		{"error chat", "/v1/chat/completions", chatStreamBody, FaultSpec{Kind: "stream_error", Tokens: 2}, func(ev []string) string {
			if len(ev) != 4 || !strings.HasPrefix(ev[2], `{"error":{"message":"Request failed during generation`) ||
				!strings.Contains(ev[2], `"http_status_code":424`) || ev[3] != "[DONE]" {
				return "want 2 tokens, an OpenAI-style error event, [DONE]"
			}
			return ""
		}},
		{"cut generate_stream", "/generate_stream", `{"inputs":"hi","parameters":{"max_new_tokens":5}}`, FaultSpec{Kind: "stream_cut", Tokens: 4}, func(ev []string) string {
			if len(ev) != 4 || strings.Contains(ev[3], `"generated_text":"`) {
				return "want 4 token events without the final one"
			}
			return ""
		}},
		{"error generate_stream", "/generate_stream", `{"inputs":"hi"}`, FaultSpec{Kind: "stream_error", Tokens: 1, Message: "boom"}, func(ev []string) string {
			if len(ev) != 2 || ev[1] != `{"error":"boom","error_type":"generation"}` {
				return "want 1 token and a TGI error event"
			}
			return ""
		}},
		{"malformed stream", "/v1/chat/completions", chatStreamBody, FaultSpec{Kind: "malformed"}, func(ev []string) string {
			if len(ev) != 1 || json.Valid([]byte(ev[0])) {
				return "want one event that is not valid JSON"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := startServer(t, newServer(t, onePhase(tt.fault)))
			resp, err := post(freshClient(t), url+tt.path, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			b, err := readAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
				t.Errorf("status %d, Content-Type %q; want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			ev := sseEvents(t, b)
			if problem := tt.want(ev); problem != "" {
				t.Errorf("%s; got %d events:\n%s", problem, len(ev), strings.Join(ev, "\n"))
			}
		})
	}
}
