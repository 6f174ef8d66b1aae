package faults

import (
	"sync"

	"brownout/internal/jsonfast"
)

// The chat route carries most of the harness's traffic, and a RAG prompt
// makes its body a few kilobytes of JSON that encoding/json scans twice
// (validation, then decoding). decodeChatFast reads the common shape in one
// pass: an object with model, messages (role and string content),
// max_tokens or max_completion_tokens, and stream. It accepts only input it
// fully understands and that is valid JSON; anything else (other keys,
// keys with escapes, duplicate keys, errors) returns ok=false
// and goes to the general decoder, which also words the error answers. A
// fuzz test checks that both decoders agree whenever the fast one accepts.

// promptPool holds the buffers decodeChatFast decodes prompts into.
var promptPool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// chatScanner reads a chat request.
type chatScanner struct{ jsonfast.Scanner }

// str reads a string value as encoding/json decodes it.
func (s *chatScanner) str() (string, bool) {
	raw, escaped, ok := s.String()
	if !ok {
		return "", false
	}
	if !escaped {
		return string(raw), true
	}
	return jsonfast.Unquote(raw)
}

// uint reads a non-negative JSON integer that fits TGI's u32.
func (s *chatScanner) uint() (int64, bool) {
	v, ok := s.Uint(10)
	return int64(v), ok && v <= 1<<32-1
}

// messages reads [{"role": "...", "content": "..."}, ...], appending the
// decoded contents to prompt.
func (s *chatScanner) messages(prompt []byte) ([]byte, int, bool) {
	if !s.Eat('[') {
		return prompt, 0, false
	}
	if s.Eat(']') {
		return prompt, 0, true
	}
	n := 0
	for {
		if !s.Eat('{') {
			return prompt, 0, false
		}
		var seenRole, seenContent bool
		for first := true; ; first = false {
			if first && s.Eat('}') {
				break
			}
			key, ok := s.Key()
			if !ok {
				return prompt, 0, false
			}
			switch {
			case string(key) == "role" && !seenRole:
				seenRole = true
				if _, _, ok := s.String(); !ok {
					return prompt, 0, false
				}
			case string(key) == "content" && !seenContent:
				seenContent = true
				raw, escaped, ok := s.String()
				if !ok {
					return prompt, 0, false
				}
				if !escaped {
					prompt = append(prompt, raw...)
				} else if prompt, ok = jsonfast.AppendUnquote(prompt, raw); !ok {
					return prompt, 0, false
				}
			default:
				return prompt, 0, false
			}
			if s.Eat('}') {
				break
			}
			if !s.Eat(',') {
				return prompt, 0, false
			}
		}
		if !seenRole {
			return prompt, 0, false // TGI requires a role: the general decoder says so
		}
		n++
		if s.Eat(']') {
			return prompt, n, true
		}
		if !s.Eat(',') {
			return prompt, 0, false
		}
	}
}

// decodeChatFast decodes the common chat request; ok=false means "use the
// general decoder".
func decodeChatFast(body []byte) (request, bool) {
	var req request
	s := chatScanner{jsonfast.New(body)}
	if !s.Eat('{') {
		return req, false
	}
	// The decoded prompt is needed only for its hash and length: build it
	// in a pooled buffer.
	scratch := promptPool.Get().(*[]byte)
	prompt := (*scratch)[:0]
	defer func() {
		if cap(prompt) <= 64<<10 {
			*scratch = prompt[:0]
			promptPool.Put(scratch)
		}
	}()
	var seen [5]bool // model, messages, max_tokens, max_completion_tokens, stream
	var maxTokens, maxCompletion int64 = -1, -1
	msgs := -1
	for first := true; ; first = false {
		if first && s.Eat('}') {
			break
		}
		key, ok := s.Key()
		if !ok {
			return req, false
		}
		idx := -1
		switch string(key) {
		case "model":
			idx = 0
			req.model, ok = s.str()
		case "messages":
			idx = 1
			prompt, msgs, ok = s.messages(prompt)
		case "max_tokens":
			idx = 2
			maxTokens, ok = s.uint()
		case "max_completion_tokens":
			idx = 3
			maxCompletion, ok = s.uint()
		case "stream":
			idx = 4
			req.stream, ok = s.Bool()
		}
		if idx < 0 || !ok || seen[idx] {
			return req, false
		}
		seen[idx] = true
		if s.Eat('}') {
			break
		}
		if !s.Eat(',') {
			return req, false
		}
	}
	if !s.End() || msgs <= 0 {
		return req, false
	}
	mt := maxTokens
	if mt < 0 {
		mt = maxCompletion
	}
	if mt == 0 {
		return req, false // a validation error: the general decoder words it
	}
	if mt > 0 {
		req.maxTokens = int(min(mt, 1<<31-1))
	}
	req.setPrompt(prompt)
	return req, true
}
