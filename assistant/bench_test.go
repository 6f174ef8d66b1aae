package assistant

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"brownout/redisstore"
	"brownout/redisstore/redistest"

	"brownout/contract"
)

// benchTransport answers every chat call at once with the same body: the
// upstream costs nothing, so the numbers are the assistant's own.
type benchTransport struct{ body string }

func (bt benchTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	return jsonResponse(r, 200, bt.body), nil
}

func benchBodies() [][]byte {
	var bodies [][]byte
	for _, q := range SampleQuestions() {
		b, _ := json.Marshal(contract.QueryRequest{Question: q})
		bodies = append(bodies, b)
	}
	return bodies
}

// benchWriter is the cheapest ResponseWriter that still keeps the status.
type benchWriter struct {
	h    http.Header
	code int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkQuery measures one POST /assistant/query through ServeHTTP with
// an instant upstream, with the breaker enabled and disabled; the
// difference is the breaker's per-request overhead.
func BenchmarkQuery(b *testing.B) {
	bodies := benchBodies()
	rt := benchTransport{chatBody("A circuit breaker stops calling a failing dependency and fails fast instead.")}
	for _, enabled := range []bool{true, false} {
		name := "breaker=off"
		if enabled {
			name = "breaker=on"
		}
		cfg := testConfig()
		cfg.Breaker.Enabled = enabled
		s := newTestService(b, cfg, rt)
		u, _ := url.Parse("http://assistant.test" + contract.PathQuery)
		run := func(i int) {
			body := bodies[i%len(bodies)]
			req := &http.Request{Method: http.MethodPost, URL: u, Header: http.Header{}, Proto: "HTTP/1.1",
				ProtoMajor: 1, ProtoMinor: 1, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
			w := &benchWriter{h: make(http.Header, 4)}
			s.ServeHTTP(w, req)
			if w.code != 200 {
				b.Fatalf("status %d", w.code)
			}
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				run(i)
			}
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					run(i)
				}
			})
		})
	}
}

// BenchmarkBreakerExecute isolates the breaker: one call of a function that
// succeeds at once, through the gobreaker wrapper or straight through.
func BenchmarkBreakerExecute(b *testing.B) {
	fn := func() (string, error) { return "ok", nil }
	ctx := context.Background()
	for _, enabled := range []bool{true, false} {
		cfg := DefaultConfig().Breaker
		cfg.Enabled = enabled
		br, err := newBreaker("bench", cfg, DefaultCallTimeout, breakerDeps{})
		if err != nil {
			b.Fatal(err)
		}
		name := "breaker=off"
		if enabled {
			name = "breaker=on"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				br.execute(ctx, fn)
			}
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					br.execute(ctx, fn)
				}
			})
		})
	}
}

// BenchmarkSharedBreakerExecute is the cost per upstream call of the
// breaker's bookkeeping: local, or shared through the embedded Redis on
// loopback, or through the real redis-server named by BROWNOUT_TEST_REDIS.
// The call itself succeeds at once, so only the breaker is measured.
func BenchmarkSharedBreakerExecute(b *testing.B) {
	fn := func() (string, error) { return "ok", nil }
	ctx := context.Background()
	run := func(b *testing.B, cfg BreakerConfig, store SharedStore) {
		br, err := newBreaker("bench", cfg, DefaultCallTimeout, breakerDeps{store: store})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := br.execute(ctx, fn); err != nil {
				b.Fatal(err)
			}
		}
	}
	cfg := DefaultConfig().Breaker
	b.Run("store=local", func(b *testing.B) { run(b, cfg, nil) })
	cfg.Store = StoreRedis
	b.Run("store=redis/embedded", func(b *testing.B) {
		e := redisstore.NewEmbedded()
		defer e.Close()
		url, err := e.Listen()
		if err != nil {
			b.Fatal(err)
		}
		c, err := redisstore.Connect(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		run(b, cfg, redisstore.New(c, redisstore.Options{}))
	})
	b.Run("store=redis/real", func(b *testing.B) {
		c := redistest.Real(b)
		if c == nil {
			b.Skip("no real redis-server")
		}
		prefix := "brownout-bench:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
		defer c.Del(ctx, prefix+sharedStatePrefix+"bench", prefix+sharedMutexPrefix+"bench")
		run(b, cfg, redisstore.New(c, redisstore.Options{Prefix: prefix}))
	})
}
