// Package assistant is brownout's built-in assistant service: the Go
// counterpart of the seed's Python assistant, with the same HTTP contract.
//
// A question posted to /assistant/query is answered by a HuggingFace
// inference API (chat completions or legacy text generation) behind a
// github.com/sony/gobreaker/v2 circuit breaker, with context retrieved by
// BM25 from a small corpus. When the upstream call fails or the breaker
// rejects it, the answer degrades in three levels: a cached upstream answer
// to the same question (L1 cache), the top retrieved excerpts, and only when
// there is neither, a 503 whose retry_after says when the breaker will next
// let a request through.
//
// The Service is an http.Handler; Serve runs it on a listener. It keeps all
// its state (breakers, cache, Prometheus registry) to itself, starts no
// goroutines of its own, and reads the clock only through time.Now, so that
// a whole Service runs in virtual time inside a testing/synctest bubble when
// given an in-memory transport (WithTransport).
package assistant
