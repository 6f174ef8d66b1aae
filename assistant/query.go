package assistant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"brownout/contract"
	"brownout/internal/jsonfast"
	"brownout/limits"
)

// MaxRequestIDLen bounds the length of a forwarded request id, so a caller
// cannot make the assistant send arbitrarily large headers upstream.
const MaxRequestIDLen = 128

// QueryResponse is a 200 answer of POST /assistant/query, from the upstream
// or from a fallback.
type QueryResponse struct {
	Answer   string   `json:"answer"`
	Sources  []Source `json:"sources"`
	Metadata Metadata `json:"metadata"`
}

// Source is one retrieved chunk behind an answer.
type Source struct {
	ID      string  `json:"id"`
	Title   string  `json:"title"`
	Excerpt string  `json:"excerpt"`
	Score   float64 `json:"score"` // BM25, rounded to 4 decimals
}

// Metadata describes how an answer was produced. The fallback fields are
// absent from upstream answers.
type Metadata struct {
	DurationMS     float64                 `json:"duration_ms"`
	ChunksUsed     int                     `json:"chunks_used"`
	FromFallback   bool                    `json:"from_fallback,omitempty"`
	FallbackReason contract.FallbackReason `json:"fallback_reason,omitempty"`
	FallbackSource contract.FallbackSource `json:"fallback_source,omitempty"`
}

// ErrorResponse is the body of every 4xx answer.
type ErrorResponse struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// UnavailableResponse is the body of the 503 answer (fallback level 3).
type UnavailableResponse struct {
	Error         string        `json:"error"` // contract.ErrorServiceUnavailable
	Message       string        `json:"message"`
	RetryAfter    int           `json:"retry_after"` // seconds, also in the Retry-After header
	CircuitStatus BreakerStatus `json:"circuit_status"`
}

// HealthResponse is the body of GET /assistant/health/circuit-breaker.
// CircuitBreaker is the breaker of the first endpoint queries use (the only
// one with scope shared); CircuitBreakers lists every breaker.
type HealthResponse struct {
	CircuitBreaker  BreakerStatus   `json:"circuit_breaker"`
	CircuitBreakers []BreakerStatus `json:"circuit_breakers"`
	Timestamp       float64         `json:"timestamp"` // Unix seconds
}

const systemPrompt = "You are a helpful assistant for engineers. Answer the question using the numbered context passages; say so when they do not contain the answer. Be brief."

const excerptsLead = "The assistant's language model is unavailable right now, so here are the most relevant passages from the knowledge base. Ask again in a moment for a full answer."

func (s *Service) handleQuery(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	q, topK, ok := s.decodeQuery(w, r)
	if !ok {
		return
	}

	var hitsBuf [limits.MaxTopK]hit
	hits := s.index.search(q, topK, hitsBuf[:0])
	p := prompt{system: s.systemJSON, user: s.userPrompt(q, hits), requestID: forwardedID(r.Header)}
	key := normalizeQuestion(q)

	// Every endpoint is tried in turn until one answers, so once the loop
	// is over, all of them failed and lastErr is the last one's error.
	var lastErr error
	ctx := r.Context()
	for _, ep := range s.endpoints {
		answer, err := ep.br.execute(ctx, func() (string, error) {
			a, err := s.client.call(ctx, ep.name, p)
			s.metrics.call(ep.name, err)
			return a, err
		})
		if err == nil {
			c := cachedAnswer{answerJSON: jsonfast.AppendString(make([]byte, 0, len(answer)+16), answer), hits: append([]hit(nil), hits...)}
			s.cache.put(key, c, time.Now())
			s.writeAnswer(w, start, contract.OutcomeUpstream, ep.br, answerFrom{json: c.answerJSON}, hits, "", "")
			return
		}
		lastErr = err
		if rejected(err) {
			s.metrics.rejected[ep.br.name].Inc()
		}
	}
	lastBr := s.endpoints[len(s.endpoints)-1].br

	reason := contract.ReasonUpstreamError
	var ue *UpstreamError
	switch {
	case rejected(lastErr):
		reason = contract.ReasonCircuitOpen
	case errors.Is(lastErr, ErrStoreFailed):
		reason = contract.ReasonStoreError
	case errors.As(lastErr, &ue) && ue.Timeout():
		reason = contract.ReasonUpstreamTimeout
	}

	// Level 1: a cached upstream answer to the same question.
	if c, ok := s.cache.get(key, time.Now()); ok {
		s.writeAnswer(w, start, contract.OutcomeCache, lastBr, answerFrom{json: c.answerJSON}, c.hits, reason, contract.SourceL1Cache)
		return
	}
	// Level 2: the top retrieved chunks.
	if len(hits) > 0 {
		n := min(s.cfg.ExcerptCount, len(hits))
		s.writeAnswer(w, start, contract.OutcomeExcerpts, lastBr, answerFrom{excerpts: hits[:n]}, hits[:n], reason, contract.SourceExcerpts)
		return
	}
	// Level 3: nothing to offer.
	now := time.Now()
	retry := 0
	for _, ep := range s.endpoints {
		if ra := ep.br.retryAfter(now); retry == 0 || ra < retry {
			retry = ra
		}
	}
	cs := lastBr.status()
	msg := "The language model is temporarily unavailable"
	if reason == contract.ReasonCircuitOpen {
		msg += " (circuit breaker " + cs.State.String() + ")"
	}
	msg += " and there is no cached answer or relevant passage for this question. Retry after " + strconv.Itoa(retry) + " s."
	w.Header().Set("Retry-After", strconv.Itoa(retry))
	w.Header()[contract.HeaderBreakerState] = stateHeader(cs.State)
	s.writeJSON(w, http.StatusServiceUnavailable, &UnavailableResponse{
		Error: contract.ErrorServiceUnavailable, Message: msg, RetryAfter: retry, CircuitStatus: cs,
	})
	s.metrics.answers[contract.OutcomeUnavailable].Inc()
	s.metrics.latency[contract.OutcomeUnavailable].Observe(time.Since(start).Seconds())
}

// forwardedID returns the request id to forward upstream: the caller's
// single X-Request-Id if it has one of at most MaxRequestIDLen bytes.
func forwardedID(h http.Header) []string {
	if id := h[contract.HeaderRequestID]; len(id) == 1 && id[0] != "" && len(id[0]) <= MaxRequestIDLen {
		return id
	}
	return nil
}

// answerFrom is where an answer's text comes from: an escaped string, or
// the excerpts of some chunks.
type answerFrom struct {
	json     []byte
	excerpts []hit
}

var (
	headerJSON  = []string{"application/json"}
	headerState = map[contract.State][]string{
		contract.StateClosed:   {contract.StateClosed.String()},
		contract.StateOpen:     {contract.StateOpen.String()},
		contract.StateHalfOpen: {contract.StateHalfOpen.String()},
	}
)

func stateHeader(st contract.State) []string {
	if h, ok := headerState[st]; ok {
		return h
	}
	return []string{st.String()}
}

var answerPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// writeAnswer writes a 200 QueryResponse (hand-encoded, see jsonfast.go)
// and counts it. reason and source are empty for an upstream answer.
func (s *Service) writeAnswer(w http.ResponseWriter, start time.Time, outcome contract.Outcome, br *breaker,
	answer answerFrom, sources []hit, reason contract.FallbackReason, source contract.FallbackSource) {
	bp := answerPool.Get().(*[]byte)
	b := append((*bp)[:0], `{"answer":"`...)
	if answer.excerpts == nil {
		b = append(b, answer.json...)
	} else {
		b = append(b, s.leadJSON...)
		for i, h := range answer.excerpts {
			b = append(b, `\n\n`...)
			b = strconv.AppendInt(b, int64(i+1), 10)
			b = append(b, ". "...)
			b = append(b, s.excerptLineJSON[h.chunk]...)
		}
	}
	b = append(b, `","sources":[`...)
	for i, h := range sources {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, s.sourceJSON[h.chunk]...)
		b = jsonfast.AppendFloat(b, roundScore(h.score))
		b = append(b, '}')
	}
	d := time.Since(start)
	b = append(b, `],"metadata":{"duration_ms":`...)
	b = jsonfast.AppendFloat(b, float64(d.Microseconds())/1000)
	b = append(b, `,"chunks_used":`...)
	b = strconv.AppendInt(b, int64(len(sources)), 10)
	if source != "" {
		b = append(b, `,"from_fallback":true,"fallback_reason":"`...)
		b = append(b, reason...)
		b = append(b, `","fallback_source":"`...)
		b = append(b, source...)
		b = append(b, '"')
	}
	b = append(b, "}}\n"...)

	h := w.Header()
	h["Content-Type"] = headerJSON
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	h[contract.HeaderBreakerState] = stateHeader(br.lastState())
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	*bp = b
	answerPool.Put(bp)
	s.metrics.answers[outcome].Inc()
	s.metrics.latency[outcome].Observe(d.Seconds())
}

// roundScore rounds a BM25 score to 4 decimals for the answer.
func roundScore(f float64) float64 { return math.Round(f*1e4) / 1e4 }

// userPrompt returns the user message, JSON-escaped: the numbered
// context passages, then the question.
func (s *Service) userPrompt(q string, hits []hit) []byte {
	n := 32 + len(q) + len(q)/8 // room for a little escaping
	for _, h := range hits {
		n += 8 + len(s.contextJSON[h.chunk])
	}
	dst := make([]byte, 0, n)
	if len(hits) > 0 {
		dst = append(dst, `Context:\n`...)
		for i, h := range hits {
			dst = append(dst, '[')
			dst = strconv.AppendInt(dst, int64(i+1), 10)
			dst = append(dst, "] "...)
			dst = append(dst, s.contextJSON[h.chunk]...)
		}
	}
	dst = append(dst, "Question: "...)
	return jsonfast.AppendString(dst, q)
}

// decodeQuery reads and checks the request body. On a client mistake it
// writes the 400 or 413 itself and returns ok false.
func (s *Service) decodeQuery(w http.ResponseWriter, r *http.Request) (question string, topK int, ok bool) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxRequestBodySize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.refuse(w, http.StatusRequestEntityTooLarge, "request_too_large",
				fmt.Sprintf("request body is larger than %d bytes", MaxRequestBodySize), "")
			return "", 0, false
		}
		s.invalid(w, "could not read the request body: "+err.Error())
		return "", 0, false
	}
	body := bytes.TrimSpace(buf.Bytes())
	if len(body) == 0 {
		s.invalid(w, `request body is empty: want a JSON object such as {"question": "What is a circuit breaker?"}`)
		return "", 0, false
	}
	if body[0] != '{' {
		s.invalid(w, `request body must be a JSON object such as {"question": "What is a circuit breaker?"}`)
		return "", 0, false
	}
	// The fast path gives top_k 0 when it is absent (it never reads a 0).
	question, k, fast := scanQuery(body)
	hasK := k != 0
	if !fast {
		var in struct {
			Question *string `json:"question"`
			TopK     *int    `json:"top_k"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			s.invalid(w, describeJSONError(err))
			return "", 0, false
		}
		if _, err := dec.Token(); err != io.EOF {
			s.invalid(w, "request body holds more than one JSON value")
			return "", 0, false
		}
		if in.Question == nil {
			s.invalid(w, `"question" is missing`)
			return "", 0, false
		}
		question = *in.Question
		if in.TopK != nil {
			k, hasK = *in.TopK, true
		}
	}
	question = strings.TrimSpace(question)
	if question == "" {
		s.invalid(w, `"question" is empty`)
		return "", 0, false
	}
	if n := utf8.RuneCountInString(question); n > MaxQuestionChars {
		s.invalid(w, fmt.Sprintf(`"question" is too long: %d characters, at most %d`, n, MaxQuestionChars))
		return "", 0, false
	}
	topK = s.cfg.TopK
	if hasK {
		if k < 1 || k > limits.MaxTopK {
			s.invalid(w, fmt.Sprintf(`"top_k" is %d: want an integer from 1 to %d`, k, limits.MaxTopK))
			return "", 0, false
		}
		topK = k
	}
	return question, topK, true
}

// describeJSONError turns a decoding error into a message for the caller.
func describeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		switch te.Field {
		case "question":
			return fmt.Sprintf(`"question" must be a string, not %s`, te.Value)
		case "top_k":
			return fmt.Sprintf(`"top_k" must be an integer from 1 to %d, not %s`, limits.MaxTopK, te.Value)
		}
		return fmt.Sprintf("wrong type: %s where %s was expected", te.Value, te.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: the body ends early"
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown field " + f + `: valid fields are "question" and "top_k"`
	}
	return "malformed JSON: " + strings.TrimPrefix(msg, "json: ")
}

func (s *Service) invalid(w http.ResponseWriter, msg string) {
	s.refuse(w, http.StatusBadRequest, "invalid_request", msg, "")
}

// refuse writes a 4xx error body; allow, when set, goes in the Allow header.
func (s *Service) refuse(w http.ResponseWriter, code int, errName, msg, allow string) {
	if allow != "" {
		w.Header().Set("Allow", allow)
	}
	s.writeJSON(w, code, &ErrorResponse{Error: errName, Message: msg})
	s.metrics.invalid.WithLabelValues(strconv.Itoa(code)).Inc()
}

func (s *Service) handleHealth(w http.ResponseWriter, r *http.Request) {
	st := s.Status()
	primary := st[0]
	for i, b := range s.breakers {
		if b == s.endpoints[0].br {
			primary = st[i]
		}
	}
	s.writeJSON(w, http.StatusOK, &HealthResponse{
		CircuitBreaker:  primary,
		CircuitBreakers: st,
		Timestamp:       float64(time.Now().UnixMicro()) / 1e6,
	})
}

// writeJSON encodes v into a pooled buffer and writes it with one Write.
func (s *Service) writeJSON(w http.ResponseWriter, code int, v any) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only our own types are encoded here; this cannot happen.
		http.Error(w, `{"error":"internal_error","message":"could not encode the answer"}`, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}
