package faults

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"
)

var (
	errTooLarge         = &apiError{http.StatusRequestEntityTooLarge, ctTextPlain, []byte("Failed to buffer the request body: length limit exceeded")}
	errUnsupportedMedia = &apiError{http.StatusUnsupportedMediaType, ctTextPlain, []byte("Expected request with `Content-Type: application/json`")}
	overloadedBody      = errorBody("Model is overloaded", "overloaded")
)

var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads at most MaxBodyBytes of the request body.
func readBody(r *http.Request, buf *bytes.Buffer) *apiError {
	if r.ContentLength > MaxBodyBytes {
		return errTooLarge
	}
	if r.Body == nil {
		return nil
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, MaxBodyBytes+1))
	if n > MaxBodyBytes {
		return errTooLarge
	}
	if err != nil {
		return parseError("failed to read the request body: " + err.Error())
	}
	return nil
}

// jsonContentType reports whether a Content-Type is JSON. A missing header
// is accepted, to be lenient with hand-written clients.
func jsonContentType(ct string) bool {
	if ct == "" || ct == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || len(mt) > 5 && mt[len(mt)-5:] == "+json")
}

// serveInference decodes the request, decides the fault and serves it.
func (s *Server) serveInference(ex *exchange) {
	if !jsonContentType(ex.r.Header.Get("Content-Type")) {
		ex.respondError(errUnsupportedMedia)
		return
	}
	buf := bodyPool.Get().(*bytes.Buffer)
	buf.Reset()
	err := readBody(ex.r, buf)
	if err == nil {
		ex.req, err = decodeRequest(ex.route, buf.Bytes())
	}
	if buf.Cap() <= 64<<10 {
		bodyPool.Put(buf)
	}
	if err != nil {
		ex.respondError(err)
		return
	}
	if pf := s.decideFault(ex.phase, ex.arrival); pf != nil {
		ex.fault = pf.kind
		pf.f.apply(ex)
		if ex.handled {
			return
		}
	}
	s.serveModel(ex)
}

// serveModel is the model at work: capacity, timing, generation.
func (s *Server) serveModel(ex *exchange) {
	p := ex.phase
	if p.limit != nil {
		q0 := time.Now()
		ok := p.limit.acquire(ex.r.Context(), s.stopCtx.Done(), s.stats)
		ex.queued = time.Since(q0)
		if !ok {
			ex.noSlot = true
			if ex.r.Context().Err() == nil && s.stopCtx.Err() == nil {
				ex.respond(http.StatusTooManyRequests, ctJSON, overloadedBody)
			}
			return
		}
		defer p.limit.release(s.stats)
	}
	n, eos := ex.req.maxTokens, false
	if n == 0 {
		n, eos = p.tokens, true
	}
	n = min(n, s.maxTokens)
	ex.gen = generate(s.seed, ex.req.promptHash, n, eos, ex.gen.text)

	if ex.req.stream {
		s.serveStream(ex)
		return
	}
	ttft := s.timing.Sample(p.ttft) + ex.extraDelay
	total := ttft + s.timing.SampleN(p.perToken, ex.gen.n()-1)
	if !ex.sleep(total) {
		if ex.r.Context().Err() == nil {
			ex.abort(abortEmpty) // server stopping
		}
		return
	}
	if ex.errAfter >= 0 {
		ex.respond(http.StatusFailedDependency, ctJSON, errorBody(ex.errMsg, "generation"))
		return
	}
	h := ex.w.Header()
	h["X-Compute-Type"] = computeType
	b := ex.buf[:0]
	switch ex.route {
	case routeChat:
		b = s.appendChat(b, ex)
	case routeCompletions:
		b = s.appendCompletion(b, ex)
	case routeCompat:
		b = append(b, `[{"generated_text":"`...)
		b = ex.gen.appendText(b, false)
		b = append(b, `"}]`...)
	case routeGenerate:
		h["X-Prompt-Tokens"] = []string{strconv.Itoa(ex.req.promptTokens)}
		h["X-Generated-Tokens"] = []string{strconv.Itoa(ex.gen.n())}
		b = s.appendGenerate(b, ex)
	}
	ex.buf = b
	ex.respond(http.StatusOK, ctJSON, b)
}

// serveStream paces an SSE answer token by token.
func (s *Server) serveStream(ex *exchange) {
	p := ex.phase
	_, paced := p.perToken.(zeroDist)
	paced = !paced
	ex.startStream()
	if ttft := s.timing.Sample(p.ttft) + ex.extraDelay; ttft > 0 {
		ex.flush() // headers out now, like TGI, so clients see the 200 early
		if !ex.streamSleep(ttft) {
			return
		}
	}
	created := time.Now().Unix()
	n := ex.gen.n()
	for j := range n {
		if j > 0 && paced {
			ex.flush()
			if !ex.streamSleep(s.timing.Sample(p.perToken)) {
				return
			}
		}
		if j == ex.cutAfter {
			return
		}
		if j == ex.errAfter {
			s.streamError(ex)
			return
		}
		err := ex.event(func(b []byte) []byte { return s.appendStreamToken(b, ex, j, created) })
		if err != nil || ex.malformed != "" {
			return
		}
	}
	if ex.cutAfter >= n {
		return
	}
	if ex.errAfter >= n {
		s.streamError(ex)
		return
	}
	switch ex.route {
	case routeChat:
		if ex.req.includeUsage {
			if ex.event(func(b []byte) []byte { return s.appendUsageChunk(b, ex, created) }) != nil {
				return
			}
		}
		_ = ex.done()
	case routeCompletions:
		_ = ex.done()
	}
}

// streamError sends TGI's mid-stream error event for the route.
func (s *Server) streamError(ex *exchange) {
	ex.malformed = ""
	if ex.route == routeChat || ex.route == routeCompletions {
		_ = ex.event(func(b []byte) []byte {
			b = append(b, `{"error":{"message":`...)
			b = appendQuoted(b, ex.errMsg)
			return append(b, `,"http_status_code":424}}`...)
		})
		_ = ex.done()
		return
	}
	_ = ex.event(func(b []byte) []byte {
		b = append(b, `{"error":`...)
		b = appendQuoted(b, ex.errMsg)
		return append(b, `,"error_type":"generation"}`...)
	})
}

// appendModel appends the model an answer names: the request's, unless it
// was absent or TGI's placeholder "tgi".
func (s *Server) appendModel(b []byte, ex *exchange) []byte {
	if m := ex.req.model; m != "" && m != "tgi" {
		return appendQuoted(b, m)
	}
	return append(b, s.quotedModel...)
}

func (s *Server) appendHead(b []byte, ex *exchange, object string, created int64) []byte {
	b = append(b, `{"object":"`...)
	b = append(b, object...)
	b = append(b, `","id":"","created":`...)
	b = strconv.AppendInt(b, created, 10)
	b = append(b, `,"model":`...)
	b = s.appendModel(b, ex)
	return append(b, `,"system_fingerprint":"`+Fingerprint+`"`...)
}

func (s *Server) appendUsage(b []byte, ex *exchange) []byte {
	pt, ct := ex.req.promptTokens, ex.gen.n()
	b = append(b, `"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(pt), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(ct), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(pt+ct), 10)
	return append(b, '}')
}

// appendChat renders a ChatCompletion.
func (s *Server) appendChat(b []byte, ex *exchange) []byte {
	b = s.appendHead(b, ex, "chat.completion", time.Now().Unix())
	b = append(b, `,"choices":[{"index":0,"message":{"role":"assistant","content":"`...)
	b = ex.gen.appendText(b, true)
	b = append(b, `"},"logprobs":null,"finish_reason":"`...)
	b = append(b, ex.gen.finishReason(true)...)
	b = append(b, `"}],`...)
	b = s.appendUsage(b, ex)
	return append(b, '}')
}

// appendCompletion renders a CompletionFinal.
func (s *Server) appendCompletion(b []byte, ex *exchange) []byte {
	b = s.appendHead(b, ex, "text_completion", time.Now().Unix())
	b = append(b, `,"choices":[{"index":0,"text":"`...)
	b = ex.gen.appendText(b, false)
	b = append(b, `","logprobs":null,"finish_reason":"`...)
	b = append(b, ex.gen.finishReason(true)...)
	b = append(b, `"}],`...)
	b = s.appendUsage(b, ex)
	return append(b, '}')
}

// appendGenerate renders a GenerateResponse, with Details unless the
// request turned them off.
func (s *Server) appendGenerate(b []byte, ex *exchange) []byte {
	g := ex.gen
	b = append(b, `{"generated_text":"`...)
	b = g.appendText(b, false)
	b = append(b, '"')
	if ex.req.details {
		b = append(b, `,"details":{"finish_reason":"`...)
		b = append(b, g.finishReason(false)...)
		b = append(b, `","generated_tokens":`...)
		b = strconv.AppendInt(b, int64(g.n()), 10)
		b = append(b, `,"seed":null,"prefill":[],"tokens":[`...)
		for i, t := range g.text {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, vocab[t].tgi...)
		}
		if g.eos {
			if len(g.text) > 0 {
				b = append(b, ',')
			}
			b = append(b, eos.tgi...)
		}
		b = append(b, `]}`...)
	}
	return append(b, '}')
}

// appendStreamToken renders the event of token j of a stream.
func (s *Server) appendStreamToken(b []byte, ex *exchange, j int, created int64) []byte {
	g := ex.gen
	last := j == g.n()-1
	var tok *token
	if j < len(g.text) {
		tok = &vocab[g.text[j]]
	} else {
		tok = &eos
	}
	switch ex.route {
	case routeChat, routeCompletions:
		chat := ex.route == routeChat
		if chat {
			b = s.appendHead(b, ex, "chat.completion.chunk", created)
			b = append(b, `,"choices":[{"index":0,"delta":{"role":"assistant","content":"`...)
		} else {
			b = s.appendHead(b, ex, "text_completion", created)
			b = append(b, `,"choices":[{"index":0,"text":"`...)
		}
		switch {
		case tok == &eos:
		case j == 0 && chat:
			b = append(b, tok.escTrim...)
		default:
			b = append(b, tok.esc...)
		}
		if chat {
			b = append(b, `"},"logprobs":null,"finish_reason":`...)
		} else {
			b = append(b, `","logprobs":null,"finish_reason":`...)
		}
		switch {
		case last:
			b = append(b, '"')
			b = append(b, g.finishReason(true)...)
			b = append(b, '"')
		case chat:
			b = append(b, `null`...)
		default:
			b = append(b, `""`...)
		}
		b = append(b, `}]`...)
		if chat {
			b = append(b, `,"usage":null`...)
		}
		return append(b, '}')
	default: // generate_stream, compat with stream
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(j+1), 10)
		b = append(b, `,"token":`...)
		b = append(b, tok.tgi...)
		if !last {
			return append(b, `,"generated_text":null,"details":null}`...)
		}
		b = append(b, `,"generated_text":"`...)
		b = g.appendText(b, false)
		b = append(b, '"')
		if !ex.req.details {
			return append(b, `,"details":null}`...)
		}
		b = append(b, `,"details":{"finish_reason":"`...)
		b = append(b, g.finishReason(false)...)
		b = append(b, `","generated_tokens":`...)
		b = strconv.AppendInt(b, int64(g.n()), 10)
		b = append(b, `,"input_length":`...)
		b = strconv.AppendInt(b, int64(ex.req.promptTokens), 10)
		return append(b, `,"seed":null}}`...)
	}
}

// appendUsageChunk renders the extra chunk of stream_options.include_usage.
func (s *Server) appendUsageChunk(b []byte, ex *exchange, created int64) []byte {
	b = s.appendHead(b, ex, "chat.completion.chunk", created)
	b = append(b, `,"choices":[],`...)
	b = s.appendUsage(b, ex)
	return append(b, '}')
}

// renderInfo renders GET /info.
func renderInfo(s *Server) []byte {
	b := append([]byte(`{"model_id":`), s.quotedModel...)
	b = append(b, `,"model_sha":null,"model_pipeline_tag":"text-generation","max_concurrent_requests":128,"max_best_of":2,"max_stop_sequences":4,"max_input_tokens":`...)
	b = strconv.AppendInt(b, int64(max(1, 4*s.maxTokens)), 10)
	b = append(b, `,"max_total_tokens":`...)
	b = strconv.AppendInt(b, int64(5*s.maxTokens), 10)
	b = append(b, `,"validation_workers":2,"max_client_batch_size":4,"router":"text-generation-router","version":"3.3.6","sha":null,"docker_label":null}`...)
	return b
}

// renderModels renders GET /v1/models.
func renderModels(s *Server) []byte {
	b := append([]byte(`{"object":"list","data":[{"id":`), s.quotedModel...)
	b = append(b, `,"object":"model","created":0,"owned_by":`...)
	b = append(b, s.quotedModel...)
	return append(b, `}]}`...)
}
