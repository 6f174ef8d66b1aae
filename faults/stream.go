package faults

import (
	"cmp"
	"fmt"
)

// Default message of a stream_error fault, as TGI reports a failure of the
// model while generating.
const defaultStreamError = "Request failed during generation: Server error: CUDA out of memory. Tried to allocate 2.00 GiB"

// streamCutFault stops an SSE stream after k tokens: the stream ends
// cleanly at the HTTP level but without a final chunk or [DONE]. A
// non-streaming answer is cut instead: its connection drops after half the
// body, so the client reads an unexpected EOF.
type streamCutFault struct{ k int }

func newStreamCutFault(f FaultSpec, _ buildEnv) (fault, error) {
	if err := onlyParams(f, "tokens"); err != nil {
		return nil, err
	}
	if f.Tokens < 0 {
		return nil, fmt.Errorf("tokens: must be >= 0, got %d", f.Tokens)
	}
	return streamCutFault{k: f.Tokens}, nil
}

func (f streamCutFault) apply(ex *exchange) { ex.cutAfter = f.k }

// streamErrorFault sends an error event after k tokens of a 200 stream, in
// TGI's shape for the route (OpenAI-style {"error":{"message",
// "http_status_code"}} then [DONE] on /v1 routes; {"error","error_type"}
// on /generate_stream). A non-streaming request gets the non-streaming
// equivalent, 424 generation.
type streamErrorFault struct {
	k   int
	msg string
}

func newStreamErrorFault(f FaultSpec, _ buildEnv) (fault, error) {
	if err := onlyParams(f, "tokens", "message"); err != nil {
		return nil, err
	}
	if f.Tokens < 0 {
		return nil, fmt.Errorf("tokens: must be >= 0, got %d", f.Tokens)
	}
	return streamErrorFault{k: f.Tokens, msg: cmp.Or(f.Message, defaultStreamError)}, nil
}

func (f streamErrorFault) apply(ex *exchange) {
	ex.errAfter = f.k
	ex.errMsg = f.msg
}
