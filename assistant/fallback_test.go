package assistant

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"brownout/contract"

	"github.com/jarcoal/httpmock"
)

// mockUpstream returns a mock transport whose chat endpoint answers with
// *resp, so a test can change the answer between queries.
func mockUpstream(resp *httpmock.Responder) *httpmock.MockTransport {
	mt := httpmock.NewMockTransport()
	h := func(r *http.Request) (*http.Response, error) { return (*resp)(r) }
	mt.RegisterResponder(http.MethodPost, chatURL, h)
	mt.RegisterResponder(http.MethodPost, textURL, h)
	return mt
}

var (
	okResponder          = httpmock.NewStringResponder(200, chatBody("The upstream answer."))
	serverErrorResponder = httpmock.NewStringResponder(500, `{"error":"Incomplete generation","error_type":"incomplete_generation"}`)
)

func TestUpstreamAnswer(t *testing.T) {
	t.Parallel()
	resp := okResponder
	s := newTestService(t, testConfig(), mockUpstream(&resp))
	rec := ask(t, s, onTopic)
	a := answerOf(t, rec)
	if a.Answer != "The upstream answer." {
		t.Errorf("answer = %q", a.Answer)
	}
	if a.Metadata.FromFallback || a.Metadata.FallbackReason != "" || a.Metadata.FallbackSource != "" {
		t.Errorf("metadata = %+v, want no fallback fields", a.Metadata)
	}
	if strings.Contains(rec.Body.String(), "from_fallback") {
		t.Errorf("an upstream answer must not carry from_fallback: %s", rec.Body.String())
	}
	if got, want := len(a.Sources), DefaultTopK; got != want || a.Metadata.ChunksUsed != want {
		t.Errorf("sources = %d, chunks_used = %d, want %d", got, a.Metadata.ChunksUsed, want)
	}
	if a.Sources[0].ID != "circuit-breaker#1" || a.Sources[0].Title != "Circuit breaker" || a.Sources[0].Score <= 0 {
		t.Errorf("first source = %+v", a.Sources[0])
	}
	for i := 1; i < len(a.Sources); i++ {
		if a.Sources[i].Score > a.Sources[i-1].Score {
			t.Errorf("sources not ordered by score: %v", a.Sources)
		}
	}
	if a.Metadata.DurationMS < 0 {
		t.Errorf("duration_ms = %v", a.Metadata.DurationMS)
	}
	if got := rec.Header().Get(contract.HeaderBreakerState); got != contract.StateClosed.String() {
		t.Errorf("%s = %q", contract.HeaderBreakerState, got)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}

	// top_k from the request.
	a = answerOf(t, post(t, s, `{"question":"What is a circuit breaker?","top_k":2}`))
	if len(a.Sources) != 2 || a.Metadata.ChunksUsed != 2 {
		t.Errorf("top_k 2: sources = %d, chunks_used = %d", len(a.Sources), a.Metadata.ChunksUsed)
	}
}

func TestFallbackL1Cache(t *testing.T) {
	t.Parallel()
	resp := okResponder
	s := newTestService(t, testConfig(), mockUpstream(&resp))
	first := answerOf(t, ask(t, s, onTopic))

	resp = serverErrorResponder
	// The same question, spelt differently: the cache key is normalised.
	for _, q := range []string{onTopic, "  what IS a circuit   breaker  "} {
		a := answerOf(t, ask(t, s, q))
		m := a.Metadata
		if !m.FromFallback || m.FallbackSource != contract.SourceL1Cache || m.FallbackReason != contract.ReasonUpstreamError {
			t.Fatalf("%q: metadata = %+v, want l1_cache / upstream_error", q, m)
		}
		if a.Answer != first.Answer || len(a.Sources) != len(first.Sources) || a.Sources[0] != first.Sources[0] {
			t.Errorf("%q: cached answer differs: %+v vs %+v", q, a, first)
		}
		if m.ChunksUsed != len(first.Sources) {
			t.Errorf("chunks_used = %d, want %d", m.ChunksUsed, len(first.Sources))
		}
	}
}

func TestFallbackExcerpts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		count, chars int
	}{
		{"seed defaults", 3, 200},
		{"configured", 2, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := serverErrorResponder
			cfg := testConfig()
			cfg.ExcerptCount, cfg.ExcerptChars = tc.count, tc.chars
			s := newTestService(t, cfg, mockUpstream(&resp))
			a := answerOf(t, ask(t, s, "How does jitter prevent retry storms?"))
			m := a.Metadata
			if !m.FromFallback || m.FallbackSource != contract.SourceExcerpts || m.FallbackReason != contract.ReasonUpstreamError {
				t.Fatalf("metadata = %+v, want excerpts / upstream_error", m)
			}
			if len(a.Sources) != tc.count || m.ChunksUsed != tc.count {
				t.Fatalf("sources = %d, chunks_used = %d, want %d", len(a.Sources), m.ChunksUsed, tc.count)
			}
			for i, src := range a.Sources {
				text := chunkText(t, s, src.ID)
				n := utf8.RuneCountInString(src.Excerpt)
				switch {
				case utf8.RuneCountInString(text) <= tc.chars:
					if src.Excerpt != text {
						t.Errorf("excerpt %d = %q, want the whole chunk %q", i, src.Excerpt, text)
					}
				case n > tc.chars || n < tc.chars*3/4 || !strings.HasSuffix(src.Excerpt, "…") ||
					!strings.HasPrefix(text, strings.TrimSuffix(src.Excerpt, "…")):
					t.Errorf("excerpt %d has %d characters, want %d or a little less, cut from %q: %q",
						i, n, tc.chars, text, src.Excerpt)
				}
				if !strings.Contains(a.Answer, src.Excerpt) || !strings.Contains(a.Answer, strconv.Itoa(i+1)+". "+src.Title) {
					t.Errorf("answer lacks excerpt %d: %q", i, a.Answer)
				}
			}
			if !strings.HasPrefix(a.Answer, excerptsLead) {
				t.Errorf("answer lacks the guidance line: %q", a.Answer)
			}
			// A fallback answer is never cached: asking again gives excerpts again.
			if got := classify(t, ask(t, s, "How does jitter prevent retry storms?")); got != contract.OutcomeExcerpts {
				t.Errorf("second ask = %s, want excerpts", got)
			}
		})
	}
}

func TestFallbackUnavailable(t *testing.T) {
	t.Parallel()
	resp := serverErrorResponder
	cfg := testConfig()
	cfg.Breaker.FailThreshold = 2
	s := newTestService(t, cfg, mockUpstream(&resp))

	// Breaker still closed: the next request goes through at once.
	rec := ask(t, s, offTopic)
	u := checkUnavailable(t, rec)
	if u.RetryAfter != 1 || u.CircuitStatus.State != contract.StateClosed || u.CircuitStatus.FailCount != 1 {
		t.Errorf("closed: retry_after = %d, circuit_status = %+v", u.RetryAfter, u.CircuitStatus)
	}
	// The second failure trips it: retry after the whole reset timeout.
	u = checkUnavailable(t, ask(t, s, offTopic))
	if u.RetryAfter != 60 {
		t.Errorf("just opened: retry_after = %d, want 60", u.RetryAfter)
	}
	want := BreakerStatus{Enabled: true, Name: "huggingface_api", State: contract.StateOpen, FailCount: 2, FailMax: 2,
		ResetTimeout: 60, IsHealthy: false, Policy: PolicyConsecutive}
	if u.CircuitStatus != want {
		t.Errorf("circuit_status = %+v, want %+v", u.CircuitStatus, want)
	}
	if !strings.Contains(u.Message, "60 s") {
		t.Errorf("message = %q", u.Message)
	}
}

func checkUnavailable(t testing.TB, r *httptest.ResponseRecorder) UnavailableResponse {
	t.Helper()
	if r.Code != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503: %s", r.Code, r.Body.String())
	}
	u := decode[UnavailableResponse](t, r)
	if u.Error != "service_unavailable" || u.Message == "" {
		t.Errorf("body = %+v", u)
	}
	if h := r.Header().Get("Retry-After"); h != strconv.Itoa(u.RetryAfter) {
		t.Errorf("Retry-After header = %q, body retry_after = %d", h, u.RetryAfter)
	}
	if u.RetryAfter < 1 {
		t.Errorf("retry_after = %d, want at least 1", u.RetryAfter)
	}
	return u
}

func TestFallbackCircuitOpenMakesNoCall(t *testing.T) {
	t.Parallel()
	resp := okResponder
	cfg := testConfig()
	cfg.Breaker.FailThreshold = 3
	mt := mockUpstream(&resp)
	s := newTestService(t, cfg, mt)
	answerOf(t, ask(t, s, onTopic)) // fills the cache
	resp = serverErrorResponder
	for range 3 {
		ask(t, s, onTopic)
	}
	calls := mt.GetTotalCallCount()
	if calls != 4 {
		t.Fatalf("calls = %d, want 4", calls)
	}
	for _, tc := range []struct {
		q      string
		source contract.FallbackSource
	}{
		{onTopic, contract.SourceL1Cache},
		{"What is a bulkhead?", contract.SourceExcerpts},
	} {
		a := answerOf(t, ask(t, s, tc.q))
		if m := a.Metadata; !m.FromFallback || m.FallbackReason != contract.ReasonCircuitOpen || m.FallbackSource != tc.source {
			t.Errorf("%q: metadata = %+v, want %s / circuit_breaker_open", tc.q, m, tc.source)
		}
	}
	u := checkUnavailable(t, ask(t, s, offTopic))
	if u.CircuitStatus.State != contract.StateOpen || !strings.Contains(u.Message, "circuit breaker open") {
		t.Errorf("503 = %+v", u)
	}
	if got := mt.GetTotalCallCount(); got != calls {
		t.Errorf("upstream calls while open = %d, want 0", got-calls)
	}
}

func TestFallbackTimeoutReason(t *testing.T) {
	t.Parallel()
	resp := httpmock.Responder(blockUntilCancelled)
	cfg := testConfig()
	cfg.CallTimeout = 20 * time.Millisecond
	s := newTestService(t, cfg, mockUpstream(&resp))
	a := answerOf(t, ask(t, s, onTopic))
	if m := a.Metadata; m.FallbackReason != contract.ReasonUpstreamTimeout || m.FallbackSource != contract.SourceExcerpts {
		t.Errorf("metadata = %+v, want excerpts / upstream_timeout", m)
	}
}

func TestClientErrorsDoNotCount(t *testing.T) {
	t.Parallel()
	resp := httpmock.NewStringResponder(422, `{"error":"Input validation error","error_type":"validation"}`)
	cfg := testConfig()
	cfg.Breaker.FailThreshold = 2
	mt := mockUpstream(&resp)
	s := newTestService(t, cfg, mt)
	for i := range 10 {
		a := answerOf(t, ask(t, s, onTopic))
		if a.Metadata.FallbackReason != contract.ReasonUpstreamError {
			t.Fatalf("422 #%d: reason = %q, want upstream_error", i, a.Metadata.FallbackReason)
		}
	}
	if h := health(t, s).CircuitBreaker; h.State != contract.StateClosed || h.FailCount != 0 {
		t.Fatalf("after 10 × 422: %+v, want closed with no failures", h)
	}
	if got := mt.GetTotalCallCount(); got != 10 {
		t.Errorf("calls = %d, want 10", got)
	}
	// 429 and 408 do count.
	for _, code := range []int{429, 408} {
		resp = httpmock.NewStringResponder(code, `{"error":"x"}`)
		ask(t, s, onTopic)
	}
	if h := health(t, s).CircuitBreaker; h.State != contract.StateOpen || h.FailCount != 2 {
		t.Fatalf("after 429 and 408: %+v, want open with 2 failures", h)
	}
}

func TestMalformedBodyCountsAndFallsBack(t *testing.T) {
	t.Parallel()
	resp := httpmock.NewStringResponder(200, `{"choices":[{"message":{"content":"trunc`)
	cfg := testConfig()
	cfg.Breaker.FailThreshold = 2
	s := newTestService(t, cfg, mockUpstream(&resp))
	for i := range 2 {
		a := answerOf(t, ask(t, s, onTopic))
		if m := a.Metadata; !m.FromFallback || m.FallbackReason != contract.ReasonUpstreamError || m.FallbackSource != contract.SourceExcerpts {
			t.Fatalf("#%d: metadata = %+v", i, m)
		}
	}
	if st := stateOf(t, s); st != contract.StateOpen {
		t.Errorf("after 2 malformed bodies: state %s, want open", st)
	}
}

func TestCallerGoneDoesNotCount(t *testing.T) {
	t.Parallel()
	resp := httpmock.Responder(blockUntilCancelled)
	cfg := testConfig()
	cfg.Breaker.FailThreshold = 1
	s := newTestService(t, cfg, mockUpstream(&resp))
	for range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(5*time.Millisecond, cancel)
		postCtx(ctx, s, `{"question":"What is a circuit breaker?"}`)
	}
	if h := health(t, s).CircuitBreaker; h.State != contract.StateClosed || h.FailCount != 0 {
		t.Errorf("after 3 cancelled callers: %+v, want closed", h)
	}
}

func TestBreakerDisabled(t *testing.T) {
	t.Parallel()
	resp := serverErrorResponder
	cfg := testConfig()
	cfg.Breaker.Enabled = false
	cfg.Breaker.FailThreshold = 1
	mt := mockUpstream(&resp)
	s := newTestService(t, cfg, mt)
	for i := range 5 {
		a := answerOf(t, ask(t, s, onTopic))
		if a.Metadata.FallbackReason != contract.ReasonUpstreamError {
			t.Fatalf("#%d: reason %q, want upstream_error", i, a.Metadata.FallbackReason)
		}
	}
	if got := mt.GetTotalCallCount(); got != 5 {
		t.Errorf("calls = %d, want 5: a disabled breaker calls the upstream every time", got)
	}
	h := health(t, s).CircuitBreaker
	if h.Enabled || h.State != contract.StateClosed || !h.IsHealthy || h.FailCount != 5 {
		t.Errorf("health = %+v", h)
	}
	u := checkUnavailable(t, ask(t, s, offTopic))
	if u.RetryAfter != 1 || u.CircuitStatus.Enabled {
		t.Errorf("503 = %+v", u)
	}
}

func TestModes(t *testing.T) {
	t.Parallel()
	t.Run("text", func(t *testing.T) {
		t.Parallel()
		up := &upstream{}
		cfg := testConfig()
		cfg.Mode = ModeText
		s := newTestService(t, cfg, up)
		if a := answerOf(t, ask(t, s, onTopic)); a.Answer != "generated answer" {
			t.Errorf("answer = %q", a.Answer)
		}
		if p := up.pathLog(); len(p) != 1 || p[0] != "/models/test-org/test-model" {
			t.Errorf("paths = %v", p)
		}
	})
	t.Run("auto falls back to text", func(t *testing.T) {
		t.Parallel()
		mt := httpmock.NewMockTransport()
		mt.RegisterResponder(http.MethodPost, chatURL, serverErrorResponder)
		mt.RegisterResponder(http.MethodPost, textURL, httpmock.NewStringResponder(200, `[{"generated_text":"from text"}]`))
		cfg := testConfig()
		cfg.Mode = ModeAuto
		s := newTestService(t, cfg, mt)
		a := answerOf(t, ask(t, s, onTopic))
		if a.Answer != "from text" || a.Metadata.FromFallback {
			t.Errorf("answer = %+v", a)
		}
		info := mt.GetCallCountInfo()
		if info["POST "+chatURL] != 1 || info["POST "+textURL] != 1 {
			t.Errorf("calls = %v", info)
		}
	})
}

func TestPerEndpointBreakers(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder(http.MethodPost, chatURL, serverErrorResponder)
	mt.RegisterResponder(http.MethodPost, textURL, httpmock.NewStringResponder(200, `[{"generated_text":"from text"}]`))
	cfg := testConfig()
	cfg.Mode = ModeAuto
	cfg.Breaker.Scope = ScopePerEndpoint
	cfg.Breaker.FailThreshold = 2
	var log transitionLog
	s := newTestService(t, cfg, mt, WithObserver(log.record))
	for range 5 {
		if got := classify(t, ask(t, s, onTopic)); got != contract.OutcomeUpstream {
			t.Fatalf("outcome = %s, want upstream (via text)", got)
		}
	}
	info := mt.GetCallCountInfo()
	if info["POST "+chatURL] != 2 || info["POST "+textURL] != 5 {
		t.Errorf("calls = %v, want chat 2 (then open), text 5", info)
	}
	h := health(t, s)
	if len(h.CircuitBreakers) != 2 {
		t.Fatalf("circuit_breakers = %+v", h.CircuitBreakers)
	}
	if b := h.CircuitBreakers[0]; b.Name != "huggingface_api.chat" || b.State != contract.StateOpen {
		t.Errorf("chat breaker = %+v", b)
	}
	if b := h.CircuitBreakers[1]; b.Name != "huggingface_api.text" || b.State != contract.StateClosed {
		t.Errorf("text breaker = %+v", b)
	}
	if h.CircuitBreaker.Name != "huggingface_api.chat" {
		t.Errorf("circuit_breaker = %+v, want the chat breaker (first used)", h.CircuitBreaker)
	}
	if ts := log.all(); len(ts) != 1 || ts[0].Breaker != "huggingface_api.chat" || ts[0].To != contract.StateOpen {
		t.Errorf("transitions = %+v", ts)
	}
}

func TestSharedBreakerHealth(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testConfig(), &upstream{})
	h := health(t, s)
	want := BreakerStatus{Enabled: true, Name: "huggingface_api", State: contract.StateClosed, FailCount: 0, FailMax: 5,
		ResetTimeout: 60, IsHealthy: true, Policy: PolicyConsecutive}
	if h.CircuitBreaker != want || len(h.CircuitBreakers) != 1 || h.CircuitBreakers[0] != want {
		t.Errorf("health = %+v, want %+v", h, want)
	}
	if d := time.Since(time.Unix(0, int64(h.Timestamp*1e9))); d < -time.Second || d > time.Minute {
		t.Errorf("timestamp %v is %v away from now", h.Timestamp, d)
	}
}

func chunkText(t testing.TB, s *Service, id string) string {
	t.Helper()
	for _, c := range s.index.chunks {
		if c.ID == id {
			return c.Text
		}
	}
	t.Fatalf("no chunk %q", id)
	return ""
}
