package faults

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestClientMistakes: bad requests get TGI's status and shape, never 500.
func TestClientMistakes(t *testing.T) {
	s := newServer(t, onePhase(FaultSpec{Kind: "status", Code: 500})) // faults never see bad requests
	tests := []struct {
		name, method, path, ctype, body string
		code                            int
		contains                        string
	}{
		{"syntax", "POST", "/v1/chat/completions", "application/json", `{"messages":`, 400, "Failed to parse the request body as JSON"},
		{"empty body", "POST", "/generate", "application/json", ``, 400, "Failed to parse the request body as JSON"},
		{"missing messages", "POST", "/v1/chat/completions", "application/json", `{"model":"tgi"}`, 422, "missing field `messages`"},
		{"messages wrong type", "POST", "/v1/chat/completions", "application/json", `{"messages":"hi"}`, 422, "messages: invalid type: string, expected a sequence (a JSON array)"},
		{"content wrong type", "POST", "/v1/chat/completions", "application/json", `{"messages":[{"role":"user","content":5}]}`, 422, "messages[0].content: invalid type, expected a string or a list of chunks"},
		{"empty messages", "POST", "/v1/chat/completions", "application/json", `{"messages":[]}`, 422, `"error_type":"validation"`},
		{"max_tokens 0", "POST", "/v1/chat/completions", "application/json", `{"messages":[{"role":"user","content":"x"}],"max_tokens":0}`, 422, "must be strictly positive"},
		{"max_tokens negative", "POST", "/v1/chat/completions", "application/json", `{"messages":[{"role":"user","content":"x"}],"max_tokens":-1}`, 422, "expected u32"},
		{"stream not bool", "POST", "/v1/chat/completions", "application/json", `{"messages":[],"stream":"yes"}`, 422, "stream: invalid type: string, expected a boolean"},
		{"missing inputs", "POST", "/generate", "application/json", `{"parameters":{}}`, 422, "missing field `inputs`"},
		{"inputs wrong type", "POST", "/", "application/json", `{"inputs":["a"]}`, 422, "Failed to deserialize"},
		{"missing prompt", "POST", "/v1/completions", "application/json", `{"max_tokens":3}`, 422, "missing field `prompt`"},
		{"media type", "POST", "/generate", "text/plain", `{"inputs":"x"}`, 415, "Expected request with `Content-Type: application/json`"},
		{"too large", "POST", "/generate", "application/json", `{"inputs":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, 413, "length limit exceeded"},
		{"wrong method", "GET", "/v1/chat/completions", "", ``, 405, ""},
		{"unknown route", "POST", "/v2/nothing", "application/json", `{}`, 404, ""},
		{"ok without content type", "POST", "/models/acme/tiny", "", `{"inputs":"x"}`, 500, "incomplete_generation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			s.ServeHTTP(rec, req)
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("got %d %.200q, want %d containing %q", rec.Code, rec.Body.String(), tt.code, tt.contains)
			}
		})
	}
}

// TestDeterministicText: the same prompt and seed give the same text,
// another prompt or seed another; usage counts add up.
func TestDeterministicText(t *testing.T) {
	get := func(seed int64, prompt string) string {
		s := newServer(t, Config{Seed: seed})
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"inputs":"`+prompt+`","parameters":{"max_new_tokens":12}}`))
		s.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	a := get(1, "hello")
	if a != get(1, "hello") {
		t.Error("same prompt and seed gave different text")
	}
	if a == get(2, "hello") || a == get(1, "goodbye") {
		t.Error("text does not depend on seed and prompt")
	}
	if n := strings.Count(a, " ") + strings.Count(a, "\\n"); n < 6 {
		t.Errorf("12 tokens rendered as %q", a)
	}
}

// TestMaxTokensBounded: max_tokens above Config.MaxTokens is clamped.
func TestMaxTokensBounded(t *testing.T) {
	s := newServer(t, Config{MaxTokens: 5})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/generate", strings.NewReader(`{"inputs":"x","parameters":{"max_new_tokens":100000}}`)))
	if !strings.Contains(rec.Body.String(), `"generated_tokens":5`) {
		t.Errorf("not clamped to 5: %s", rec.Body.String())
	}
}

// FuzzDecodeRequest: the decoder never panics and either returns a
// client-error status with a body or a usable request.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		chatBody, chatStreamBody,
		`{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_completion_tokens":3}`,
		`{"prompt":["a","b"],"max_tokens":2,"stream":true}`,
		`{"inputs":"hi","parameters":{"max_new_tokens":4,"details":true},"stream":true}`,
		`{"messages":null}`, `{"inputs":null}`, `[]`, `"x"`, `{"max_tokens":1e99}`, `{"prompt":{}}`,
	} {
		for _, r := range []string{routeChat, routeCompletions, routeGenerate, routeCompat} {
			f.Add(r, []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, route string, body []byte) {
		req, err := decodeRequest(route, body)
		if err != nil {
			if err.status < 400 || err.status >= 500 {
				t.Fatalf("status %d for a client mistake", err.status)
			}
			return
		}
		if req.maxTokens < 0 || req.promptTokens < 1 {
			t.Fatalf("bad request decoded: %+v", req)
		}
	})
}
