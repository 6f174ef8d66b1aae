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

// span finds the string literal at the cursor and moves past it. It
// returns the literal's inside (escapes not decoded) and whether it holds
// an escape. Literals encoding/json would decode differently from their
// bytes (\u escapes, control characters, invalid UTF-8, which it replaces)
// are refused.
func (s *chatScanner) span() (inside []byte, escaped, ok bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, false
	}
	start := s.i + 1
	ascii := true
	j := start
	for ; j < len(s.b); j++ {
		c := s.b[j]
		if c == '"' {
			break
		}
		if c < 0x20 {
			return nil, false, false
		}
		if c >= 0x80 {
			ascii = false
		}
		if c == '\\' {
			escaped = true
			j++
			if j >= len(s.b) {
				return nil, false, false
			}
			switch s.b[j] {
			case 'n', 't', 'r', 'b', 'f', '"', '\\', '/':
			default:
				return nil, false, false
			}
		}
	}
	if j >= len(s.b) || (!ascii && !utf8.Valid(s.b[start:j])) {
		return nil, false, false
	}
	s.i = j + 1
	return s.b[start:j], escaped, true
}

// str reads a string, decoding the simple escapes.
func (s *chatScanner) str() (string, bool) {
	inside, escaped, ok := s.span()
	if !ok {
		return "", false
	}
	if !escaped {
		return string(inside), true
	}
	return unquoteValid(s.b[s.i-len(inside)-2 : s.i]), true
}

// key reads an object key without copying it; keys with escapes are left
// to the general decoder.
func (s *chatScanner) key() ([]byte, bool) {
	inside, escaped, ok := s.span()
	return inside, ok && !escaped
}

// hashStr reads a string and feeds its decoded bytes to the prompt hash
// without building the string: the content of a RAG prompt is most of the
// body, and the hash and length are all the model needs of it.
func (s *chatScanner) hashStr(h *uint64, n *int) bool {
	inside, escaped, ok := s.span()
	if !ok {
		return false
	}
	if !escaped {
		*h = fnv1a(*h, inside)
		*n += len(inside)
		return true
	}
	x := *h
	for i := 0; i < len(inside); i++ {
		c := inside[i]
		if c == '\\' {
			i++
			c = unescape(inside[i])
		}
		x = (x ^ uint64(c)) * fnvPrime
		*n++
	}
	*h = x
	return true
}

// unescape decodes the letter of a simple JSON escape (span has refused
// the others).
func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	}
	return c // '"', '\\', '/'
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

// messages reads [{"role": "...", "content": "..."}, ...] into the prompt's
// hash and length.
func (s *chatScanner) messages(h *uint64, size *int) (int, bool) {
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
			key, ok := s.key()
			if !ok || !s.eat(':') {
				return 0, false
			}
			switch {
			case string(key) == "role" && !seenRole:
				seenRole = true
				if _, _, ok := s.span(); !ok {
					return 0, false
				}
			case string(key) == "content" && !seenContent:
				seenContent = true
				if !s.hashStr(h, size) {
					return 0, false
				}
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
	hash, promptLen := uint64(fnvOffset), 0
	var seen [5]bool // model, messages, max_tokens, max_completion_tokens, stream
	var maxTokens, maxCompletion int64 = -1, -1
	msgs := -1
	for first := true; ; first = false {
		if first && s.eat('}') {
			break
		}
		key, ok := s.key()
		if !ok || !s.eat(':') {
			return req, false
		}
		idx := -1
		switch string(key) {
		case "model":
			idx = 0
			req.model, ok = s.str()
		case "messages":
			idx = 1
			msgs, ok = s.messages(&hash, &promptLen)
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
	req.promptHash, req.promptLen = hash, promptLen
	return req, true
}
