package faults

import (
	"bytes"
	"fmt"
)

// malformedFault answers 200 with a body that does not parse: the JSON (or
// the first SSE frame) cut in half ("truncated"), or with a syntax error
// ("invalid"). Content-Length matches what is sent, so the transport sees a
// complete response and only the decoder fails.
type malformedFault struct{ mode string }

func newMalformedFault(f FaultSpec, _ buildEnv) (fault, error) {
	if err := onlyParams(f, "mode"); err != nil {
		return nil, err
	}
	switch f.Mode {
	case "", "truncated":
		return malformedFault{mode: "truncated"}, nil
	case "invalid":
		return malformedFault{mode: "invalid"}, nil
	}
	return nil, fmt.Errorf("mode: unknown %q (want truncated or invalid)", f.Mode)
}

func (f malformedFault) apply(ex *exchange) { ex.malformed = f.mode }

// corrupt breaks a JSON document so that no decoder accepts it.
func corrupt(body []byte, mode string) []byte {
	if mode == "invalid" {
		// Replace the first ':' with '=': a syntax error near the start,
		// which even streaming decoders reject.
		if i := bytes.IndexByte(body, ':'); i >= 0 {
			out := bytes.Clone(body)
			out[i] = '='
			return out
		}
		return append([]byte("{="), body...)
	}
	return body[:len(body)/2]
}
