package faults

import "unicode/utf8"

// The chat route carries most of the harness's traffic, and a RAG prompt
// makes its body a few kilobytes of JSON that encoding/json scans twice
// (validation, then decoding). decodeChatFast reads the common shape in one
// pass: an object with model, messages (role and string content),
// max_tokens or max_completion_tokens, and stream. It accepts only input it
// fully understands and that is valid JSON; anything else (other keys,
// escapes beyond the simple ones, duplicate keys, errors) returns ok=false
// and goes to the general decoder, which also words the error answers. A
// fuzz test checks that both decoders agree whenever the fast one accepts.

// chatScanner walks one JSON document.
type chatScanner struct {
	b []byte
	i int
}

func (s *chatScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *chatScanner) eat(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str reads a string, decoding the simple escapes; \u escapes, control
// characters and invalid UTF-8 (which encoding/json would replace) are
// refused.
func (s *chatScanner) str() (string, bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return "", false
	}
	start := s.i + 1
	plain, ascii := true, true
	j := start
	for ; j < len(s.b); j++ {
		c := s.b[j]
		if c == '"' {
			break
		}
		if c < 0x20 {
			return "", false
		}
		if c >= 0x80 {
			ascii = false
		}
		if c == '\\' {
			plain = false
			j++
			if j >= len(s.b) {
				return "", false
			}
			switch s.b[j] {
			case 'n', 't', 'r', 'b', 'f', '"', '\\', '/':
			default:
				return "", false
			}
		}
	}
	if j >= len(s.b) || (!ascii && !utf8.Valid(s.b[start:j])) {
		return "", false
	}
	s.i = j + 1
	if plain {
		return string(s.b[start:j]), true
	}
	return unquoteValid(s.b[start-1 : j+1]), true
}

// uint reads a non-negative JSON integer that fits TGI's u32.
func (s *chatScanner) uint() (int64, bool) {
	s.ws()
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	n := s.i - start
	if n == 0 || n > 10 || (s.b[start] == '0' && n > 1) {
		return 0, false
	}
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	var v int64
	for _, c := range s.b[start:s.i] {
		v = v*10 + int64(c-'0')
	}
	return v, v <= 1<<32-1
}

func (s *chatScanner) boolean() (bool, bool) {
	s.ws()
	switch {
	case len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true":
		s.i += 4
		return true, true
	case len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false":
		s.i += 5
		return false, true
	}
	return false, false
}

// messages reads [{"role": "...", "content": "..."}, ...] into the prompt.
func (s *chatScanner) messages(prompt *[]byte) (int, bool) {
	if !s.eat('[') {
		return 0, false
	}
	if s.eat(']') {
		return 0, true
	}
	n := 0
	for {
		if !s.eat('{') {
			return 0, false
		}
		var seenRole, seenContent bool
		for first := true; ; first = false {
			if first && s.eat('}') {
				break
			}
			key, ok := s.str()
			if !ok || !s.eat(':') {
				return 0, false
			}
			switch {
			case key == "role" && !seenRole:
				seenRole = true
				if _, ok := s.str(); !ok {
					return 0, false
				}
			case key == "content" && !seenContent:
				seenContent = true
				text, ok := s.str()
				if !ok {
					return 0, false
				}
				*prompt = append(*prompt, text...)
			default:
				return 0, false
			}
			if s.eat('}') {
				break
			}
			if !s.eat(',') {
				return 0, false
			}
		}
		if !seenRole {
			return 0, false // TGI requires a role: the general decoder says so
		}
		n++
		if s.eat(']') {
			return n, true
		}
		if !s.eat(',') {
			return 0, false
		}
	}
}

// decodeChatFast decodes the common chat request; ok=false means "use the
// general decoder".
func decodeChatFast(body []byte) (request, bool) {
	var req request
	s := chatScanner{b: body}
	if !s.eat('{') {
		return req, false
	}
	var prompt []byte
	var seen [5]bool // model, messages, max_tokens, max_completion_tokens, stream
	var maxTokens, maxCompletion int64 = -1, -1
	msgs := -1
	for first := true; ; first = false {
		if first && s.eat('}') {
			break
		}
		key, ok := s.str()
		if !ok || !s.eat(':') {
			return req, false
		}
		idx := -1
		switch key {
		case "model":
			idx = 0
			req.model, ok = s.str()
		case "messages":
			idx = 1
			msgs, ok = s.messages(&prompt)
		case "max_tokens":
			idx = 2
			maxTokens, ok = s.uint()
		case "max_completion_tokens":
			idx = 3
			maxCompletion, ok = s.uint()
		case "stream":
			idx = 4
			req.stream, ok = s.boolean()
		}
		if idx < 0 || !ok || seen[idx] {
			return req, false
		}
		seen[idx] = true
		if s.eat('}') {
			break
		}
		if !s.eat(',') {
			return req, false
		}
	}
	s.ws()
	if s.i != len(s.b) || msgs <= 0 {
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
	req.prompt = string(prompt)
	return req, true
}
