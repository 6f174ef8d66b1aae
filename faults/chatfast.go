package faults

import (
	"bytes"
	"encoding/binary"
	"sync"
	"unicode/utf8"
)

// The chat route carries most of the harness's traffic, and a RAG prompt
// makes its body a few kilobytes of JSON that encoding/json scans twice
// (validation, then decoding). decodeChatFast reads the common shape in one
// pass: an object with model, messages (role and string content),
// max_tokens or max_completion_tokens, and stream. It accepts only input it
// fully understands and that is valid JSON; anything else (other keys,
// escapes beyond the simple ones, duplicate keys, errors) returns ok=false
// and goes to the general decoder, which also words the error answers. A
// fuzz test checks that both decoders agree whenever the fast one accepts.

// promptPool holds the buffers decodeChatFast decodes prompts into.
var promptPool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

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
// are refused. The search for the closing quote and the checks use the
// standard library's vectorised byte searches and eight bytes at a time:
// a RAG prompt's content is kilobytes long.
func (s *chatScanner) span() (inside []byte, escaped, ok bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, false
	}
	start := s.i + 1
	j := start
	q := -1 // the next quote at or after j, once found
	for {
		if q < j {
			k := bytes.IndexByte(s.b[j:], '"')
			if k < 0 {
				return nil, false, false
			}
			q = j + k
		}
		e := bytes.IndexByte(s.b[j:q], '\\')
		if e < 0 {
			j = q
			break
		}
		escaped = true
		j += e + 1
		if j >= len(s.b) {
			return nil, false, false
		}
		switch s.b[j] {
		case 'n', 't', 'r', 'b', 'f', '"', '\\', '/':
		default:
			return nil, false, false
		}
		j++
	}
	inside = s.b[start:j]
	ctl, ascii := scanBytes(inside)
	if ctl || (!ascii && !utf8.Valid(inside)) {
		return nil, false, false
	}
	s.i = j + 1
	return inside, escaped, true
}

// scanBytes reports whether b holds a control character (below 0x20) and
// whether it is all ASCII, eight bytes at a time.
func scanBytes(b []byte) (ctl, ascii bool) {
	const highs, spaces = 0x8080808080808080, 0x2020202020202020
	var high uint64
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		high |= x
		// A byte below 0x20 borrows into its high bit when 0x20 is taken
		// from it; bytes with the high bit already set are excluded.
		if (x-spaces)&^x&highs != 0 {
			return true, false
		}
	}
	ascii = high&highs == 0
	for ; i < len(b); i++ {
		if b[i] < 0x20 {
			return true, false
		}
		if b[i] >= 0x80 {
			ascii = false
		}
	}
	return false, ascii
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
	return string(appendUnescaped(nil, inside)), true
}

// key reads an object key without copying it; keys with escapes are left
// to the general decoder.
func (s *chatScanner) key() ([]byte, bool) {
	inside, escaped, ok := s.span()
	return inside, ok && !escaped
}

// appendUnescaped appends the inside of a string literal that span has
// accepted, its simple escapes decoded.
func appendUnescaped(dst, inside []byte) []byte {
	for {
		e := bytes.IndexByte(inside, '\\')
		if e < 0 {
			return append(dst, inside...)
		}
		dst = append(dst, inside[:e]...)
		dst = append(dst, unescape(inside[e+1]))
		inside = inside[e+2:]
	}
}

// unescape decodes the letter of a simple JSON escape: n, t, r, b, f, ", \
// or / (span refuses \u escapes; unquoteValid hands them to encoding/json).
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

// messages reads [{"role": "...", "content": "..."}, ...], appending the
// decoded contents to prompt.
func (s *chatScanner) messages(prompt []byte) ([]byte, int, bool) {
	if !s.eat('[') {
		return prompt, 0, false
	}
	if s.eat(']') {
		return prompt, 0, true
	}
	n := 0
	for {
		if !s.eat('{') {
			return prompt, 0, false
		}
		var seenRole, seenContent bool
		for first := true; ; first = false {
			if first && s.eat('}') {
				break
			}
			key, ok := s.key()
			if !ok || !s.eat(':') {
				return prompt, 0, false
			}
			switch {
			case string(key) == "role" && !seenRole:
				seenRole = true
				if _, _, ok := s.span(); !ok {
					return prompt, 0, false
				}
			case string(key) == "content" && !seenContent:
				seenContent = true
				inside, escaped, ok := s.span()
				if !ok {
					return prompt, 0, false
				}
				if escaped {
					prompt = appendUnescaped(prompt, inside)
				} else {
					prompt = append(prompt, inside...)
				}
			default:
				return prompt, 0, false
			}
			if s.eat('}') {
				break
			}
			if !s.eat(',') {
				return prompt, 0, false
			}
		}
		if !seenRole {
			return prompt, 0, false // TGI requires a role: the general decoder says so
		}
		n++
		if s.eat(']') {
			return prompt, n, true
		}
		if !s.eat(',') {
			return prompt, 0, false
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
			prompt, msgs, ok = s.messages(prompt)
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
	req.setPrompt(prompt)
	return req, true
}
