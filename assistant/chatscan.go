package assistant

import (
	"bytes"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// scanChatContent is the fast path of decodeChat: it validates the whole
// body as JSON and extracts choices[0].message.content, in one pass and
// without reflection. It handles the ordinary answer only; whenever
// anything is unusual (more than one choice, a key spelt in another
// case, a duplicate key, a null where an object belongs, deep nesting) it
// returns ok false and decodeChat falls back to encoding/json, which then
// decides. A fuzz test checks that whenever ok is true, encoding/json
// agrees.
func scanChatContent(b []byte) (content string, ok bool) {
	s := jscan{b: b}
	s.ws()
	content, ok = s.object("choices", 0, s.choices)
	s.ws()
	if !ok || s.i != len(s.b) {
		return "", false
	}
	return content, true
}

type jscan struct {
	b []byte
	i int
}

const maxScanDepth = 100

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jscan) consume(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// key reads `"name":` and returns the name. Keys with escapes or non-ASCII
// bytes are refused: encoding/json matches field names with Unicode case
// folding ("choiceſ" is "choices" to it).
func (s *jscan) key() ([]byte, bool) {
	s.ws()
	raw, esc, ok := s.str()
	if !ok || esc {
		return nil, false
	}
	for _, c := range raw {
		if c >= utf8.RuneSelf {
			return nil, false
		}
	}
	s.ws()
	if !s.consume(':') {
		return nil, false
	}
	s.ws()
	return raw, true
}

// sameKey reports whether key is name, and refuses (ok false) a key that
// only encoding/json's case-insensitive matching would take for name.
func sameKey(key []byte, name string) (same, ok bool) {
	if string(key) == name {
		return true, true
	}
	return false, !(len(key) == len(name) && bytes.EqualFold(key, []byte(name)))
}

// str reads a string and returns its raw contents and whether it holds an
// escape. Invalid UTF-8 counts as an escape (encoding/json would replace it).
func (s *jscan) str() (raw []byte, esc, ok bool) {
	if !s.consume('"') {
		return nil, false, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			return raw, esc, true
		case c == '\\':
			esc = true
			s.i++
			if s.i >= len(s.b) {
				return nil, false, false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if s.i+5 > len(s.b) {
					return nil, false, false
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return nil, false, false
					}
				}
				s.i += 5
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size == 1 {
				esc = true
			}
			s.i += size
		}
	}
	return nil, false, false
}

// choices reads a choices array of exactly one choice (what an n=1 request
// gets) and returns its content. More choices are left to encoding/json,
// which type-checks every element.
func (s *jscan) choices() (string, bool) {
	if !s.consume('[') {
		return "", false
	}
	s.ws()
	content, ok := s.firstChoice()
	if !ok {
		return "", false
	}
	s.ws()
	if !s.consume(']') {
		return "", false
	}
	return content, true
}

// firstChoice reads {"message": {"content": "..."}, ...}.
func (s *jscan) firstChoice() (string, bool) {
	return s.object("message", 2, func() (string, bool) { return s.object("content", 3, s.content) })
}

// object reads an object in which the key name occurs exactly once and
// returns what read makes of its value; every other member is skipped (and
// validated) at nesting depth skipDepth.
func (s *jscan) object(name string, skipDepth int, read func() (string, bool)) (string, bool) {
	if !s.consume('{') {
		return "", false
	}
	s.ws()
	if s.consume('}') {
		return "", false
	}
	var out string
	found := false
	for {
		key, ok := s.key()
		if !ok {
			return "", false
		}
		same, ok := sameKey(key, name)
		switch {
		case !ok:
			return "", false
		case same:
			if found {
				return "", false
			}
			if out, ok = read(); !ok {
				return "", false
			}
			found = true
		default:
			if !s.skipValue(skipDepth) {
				return "", false
			}
		}
		s.ws()
		if s.consume('}') {
			return out, found
		}
		if !s.consume(',') {
			return "", false
		}
	}
}

// content reads the answer string.
func (s *jscan) content() (string, bool) {
	raw, esc, ok := s.str()
	if !ok {
		return "", false
	}
	if !esc {
		return string(raw), true
	}
	return unquoteJSON(raw)
}

// unquoteJSON decodes the escapes of a validated JSON string's contents
// exactly as encoding/json does: invalid surrogates and invalid UTF-8 become
// U+FFFD.
func unquoteJSON(raw []byte) (string, bool) {
	b := make([]byte, 0, len(raw))
	for r := 0; r < len(raw); {
		c := raw[r]
		switch {
		case c == '\\':
			if r+1 >= len(raw) {
				return "", false
			}
			switch e := raw[r+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
				r += 2
			case 'b':
				b, r = append(b, '\b'), r+2
			case 'f':
				b, r = append(b, '\f'), r+2
			case 'n':
				b, r = append(b, '\n'), r+2
			case 'r':
				b, r = append(b, '\r'), r+2
			case 't':
				b, r = append(b, '\t'), r+2
			case 'u':
				rr := getu4(raw[r:])
				if rr < 0 {
					return "", false
				}
				r += 6
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, getu4(raw[r:])); dec != unicode.ReplacementChar {
						r += 6
						b = utf8.AppendRune(b, dec)
						break
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
			default:
				return "", false
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(raw[r:])
			r += size
			b = utf8.AppendRune(b, rr)
		}
	}
	return string(b), true
}

// getu4 decodes \uXXXX at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// skipValue reads and validates any JSON value.
func (s *jscan) skipValue(depth int) bool {
	if depth > maxScanDepth || s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, _, ok := s.str()
		return ok
	case c == '{':
		s.i++
		s.ws()
		if s.consume('}') {
			return true
		}
		for {
			s.ws()
			if _, _, ok := s.str(); !ok {
				return false
			}
			s.ws()
			if !s.consume(':') {
				return false
			}
			s.ws()
			if !s.skipValue(depth + 1) {
				return false
			}
			s.ws()
			if s.consume('}') {
				return true
			}
			if !s.consume(',') {
				return false
			}
		}
	case c == '[':
		s.i++
		s.ws()
		if s.consume(']') {
			return true
		}
		for {
			s.ws()
			if !s.skipValue(depth + 1) {
				return false
			}
			s.ws()
			if s.consume(']') {
				return true
			}
			if !s.consume(',') {
				return false
			}
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	}
	return false
}

func (s *jscan) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *jscan) number() bool {
	s.consume('-')
	digits := func() int {
		n := 0
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.consume('0') {
		// no more integer digits
	} else if digits() == 0 {
		return false
	}
	if s.consume('.') && digits() == 0 {
		return false
	}
	if s.consume('e') || s.consume('E') {
		if !s.consume('+') {
			s.consume('-')
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// scanQuery is the fast path of decodeQuery for the ordinary body
// {"question": "...", "top_k": N} (top_k optional, any member order). On
// anything else it returns ok false and decodeQuery decodes with
// encoding/json, which also words the error. topK is 0 when absent.
func scanQuery(b []byte) (question string, topK int, ok bool) {
	s := jscan{b: b}
	s.ws()
	if !s.consume('{') {
		return "", 0, false
	}
	s.ws()
	if s.consume('}') {
		return "", 0, false
	}
	haveQ, haveK := false, false
	for {
		key, ok := s.key()
		if !ok {
			return "", 0, false
		}
		switch string(key) {
		case "question":
			if haveQ {
				return "", 0, false
			}
			if question, ok = s.content(); !ok {
				return "", 0, false
			}
			haveQ = true
		case "top_k":
			if haveK {
				return "", 0, false
			}
			if topK, ok = s.smallInt(); !ok {
				return "", 0, false
			}
			haveK = true
		default:
			return "", 0, false
		}
		s.ws()
		if s.consume('}') {
			break
		}
		if !s.consume(',') {
			return "", 0, false
		}
	}
	s.ws()
	if !haveQ || s.i != len(s.b) {
		return "", 0, false
	}
	return question, topK, true
}

// smallInt reads an integer literal from 1 to 9999; anything else (a sign,
// a fraction, an exponent, a leading zero, more digits) is left to
// encoding/json.
func (s *jscan) smallInt() (int, bool) {
	n, digits := 0, 0
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		if digits == 0 && s.b[s.i] == '0' || digits == 4 {
			return 0, false
		}
		n = n*10 + int(s.b[s.i]-'0')
		s.i++
		digits++
	}
	if digits == 0 || s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return 0, false
	}
	return n, true
}
