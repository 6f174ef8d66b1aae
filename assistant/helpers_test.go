package assistant

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"brownout/contract"
	"brownout/internal/jsonfast"
)

const testBase = "http://hf.test"

// testConfig is DefaultConfig pointed at a fake host, with the seed's
// breaker settings.
func testConfig() Config {
	c := DefaultConfig()
	c.UpstreamURL = testBase
	c.Model = "test-org/test-model"
	return c
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newTestService(t testing.TB, cfg Config, rt http.RoundTripper, opts ...Option) *Service {
	t.Helper()
	opts = append([]Option{WithTransport(rt), WithLogger(discardLogger())}, opts...)
	s, err := New(cfg, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// roundTripFunc adapts a function to http.RoundTripper: an in-memory
// upstream, usable inside a synctest bubble.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func jsonResponse(r *http.Request, code int, body string) *http.Response {
	return &http.Response{
		StatusCode: code, Status: http.StatusText(code), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r,
	}
}

func chatBody(content string) string {
	b, _ := json.Marshal(map[string]any{
		"object": "chat.completion", "id": "", "created": 1706270835, "model": "tgi",
		"system_fingerprint": "3.3.6-native",
		"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": content},
			"logprobs": nil, "finish_reason": "stop"}},
		"usage": map[string]any{"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
	})
	return string(b)
}

// upstream is a scriptable in-memory upstream: it answers according to its
// current behaviour and counts the calls that reached it.
type upstream struct {
	mu     sync.Mutex
	status int           // 0 or 200: healthy
	body   string        // body for non-200 answers, or a malformed 200
	delay  time.Duration // latency before answering
	calls  atomic.Int64
	paths  []string
}

func (u *upstream) set(status int, body string) {
	u.mu.Lock()
	u.status, u.body = status, body
	u.mu.Unlock()
}

func (u *upstream) setDelay(d time.Duration) {
	u.mu.Lock()
	u.delay = d
	u.mu.Unlock()
}

func (u *upstream) RoundTrip(r *http.Request) (*http.Response, error) {
	u.calls.Add(1)
	u.mu.Lock()
	status, body, delay := u.status, u.body, u.delay
	u.paths = append(u.paths, r.URL.Path)
	u.mu.Unlock()
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	if status == 0 || status == 200 && body == "" {
		if strings.HasPrefix(r.URL.Path, "/models/") {
			return jsonResponse(r, 200, `[{"generated_text":"generated answer"}]`), nil
		}
		return jsonResponse(r, 200, chatBody("upstream answer")), nil
	}
	return jsonResponse(r, status, body), nil
}

func (u *upstream) pathLog() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.paths...)
}

// post sends a query through ServeHTTP.
func post(t testing.TB, s *Service, body string) *httptest.ResponseRecorder {
	t.Helper()
	return postCtx(context.Background(), s, body)
}

func postCtx(ctx context.Context, s *Service, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, contract.PathQuery, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func ask(t testing.TB, s *Service, question string) *httptest.ResponseRecorder {
	t.Helper()
	b, _ := json.Marshal(contract.QueryRequest{Question: question})
	return post(t, s, string(b))
}

func decode[T any](t testing.TB, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T from %d %q: %v", v, rec.Code, rec.Body.String(), err)
	}
	return v
}

// answerOf checks for a 200 and decodes it.
func answerOf(t testing.TB, rec *httptest.ResponseRecorder) QueryResponse {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body.String())
	}
	return decode[QueryResponse](t, rec)
}

// classify applies the harness's rule: the outcome from the response alone.
func classify(t testing.TB, rec *httptest.ResponseRecorder) contract.Outcome {
	t.Helper()
	switch rec.Code {
	case http.StatusOK:
		r := decode[QueryResponse](t, rec)
		if !r.Metadata.FromFallback {
			return contract.OutcomeUpstream
		}
		o, _ := contract.OutcomeOf(r.Metadata.FallbackSource)
		return o
	case http.StatusServiceUnavailable:
		return contract.OutcomeUnavailable
	}
	t.Fatalf("unexpected status %d: %s", rec.Code, rec.Body.String())
	return ""
}

func health(t testing.TB, s *Service) HealthResponse {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, contract.PathHealth, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("health: status %d", rec.Code)
	}
	return decode[HealthResponse](t, rec)
}

// transitionLog records transitions from the observer.
type transitionLog struct {
	mu sync.Mutex
	ts []Transition
}

func (l *transitionLog) record(t Transition) {
	l.mu.Lock()
	l.ts = append(l.ts, t)
	l.mu.Unlock()
}

func (l *transitionLog) all() []Transition {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Transition(nil), l.ts...)
}

// A question the embedded corpus has nothing on: fallback level 3.
const offTopic = "zxqv wplk"

const onTopic = "What is a circuit breaker?"

// newPrompt escapes a plain system and user message.
func newPrompt(system, user string) prompt {
	return prompt{system: jsonfast.AppendString(nil, system), user: jsonfast.AppendString(nil, user)}
}

// mustClient is newClient for a configuration the test knows is valid.
func mustClient(t testing.TB, cfg Config, rt http.RoundTripper) *client {
	t.Helper()
	c, err := newClient(cfg, rt)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
