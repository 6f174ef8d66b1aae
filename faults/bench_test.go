package faults

import (
	"net/http"
	"strings"
	"testing"
)

// discardWriter is a minimal ResponseWriter, so the benchmark measures the
// server rather than a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// benchChat posts chatJSON to /v1/chat/completions straight through
// ServeHTTP, in parallel.
func benchChat(b *testing.B, cfg Config, chatJSON string) {
	s, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: make(http.Header)}
		body := strings.NewReader(chatJSON)
		req, _ := http.NewRequest(http.MethodPost, "http://fake/v1/chat/completions", body)
		req.Header.Set("Content-Type", "application/json")
		for pb.Next() {
			body.Reset(chatJSON)
			clear(w.h)
			s.ServeHTTP(w, req)
		}
	})
}

// BenchmarkChatCompletion: one healthy non-streaming chat completion with
// zero latency, straight through ServeHTTP (the harness's hot path).
func BenchmarkChatCompletion(b *testing.B) {
	benchChat(b, Config{Seed: 1, Phases: []Phase{{Name: "p", Faults: []FaultSpec{{Kind: "status", Code: 503, Rate: rate(0)}}}}}, chatBody)
}

// BenchmarkChatCompletionStream: the same as a stream.
func BenchmarkChatCompletionStream(b *testing.B) {
	benchChat(b, Config{Seed: 1}, chatStreamBody)
}

// BenchmarkRoundTripper: a healthy chat completion through the in-memory
// transport and an http.Client.
func BenchmarkRoundTripper(b *testing.B) {
	s, err := New(Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := &http.Client{Transport: s.RoundTripper()}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := post(c, "http://fake/v1/chat/completions", chatBody)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = readAll(resp.Body)
	}
}
