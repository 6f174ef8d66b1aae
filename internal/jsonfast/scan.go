// Package jsonfast reads and writes the few JSON shapes on brownout's hot
// paths (the assistant's query body and upstream answer, the fake server's
// chat request) in one pass and without reflection, exactly as
// encoding/json would. A Scanner accepts only what it fully understands;
// its callers fall back to encoding/json on anything else, and fuzz tests
// check that both agree whenever the fast path accepts.
//
// The assistant and the fake server each had their own copy of this code;
// it lives here once, fuzzed once.
package jsonfast

import (
	"bytes"
	"encoding/binary"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds the nesting SkipValue follows; deeper documents are left
// to encoding/json.
const MaxDepth = 100

// Scanner walks one JSON document held in memory. The zero value is not
// useful; build one with New.
type Scanner struct {
	b []byte
	i int
}

// New returns a Scanner at the start of b.
func New(b []byte) Scanner { return Scanner{b: b} }

// WS skips JSON whitespace.
func (s *Scanner) WS() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// Consume moves past c if it is the next byte.
func (s *Scanner) Consume(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// Eat skips whitespace, then consumes c if it is the next byte.
func (s *Scanner) Eat(c byte) bool {
	s.WS()
	return s.Consume(c)
}

// End skips trailing whitespace and reports whether the document ends
// there.
func (s *Scanner) End() bool {
	s.WS()
	return s.i == len(s.b)
}

// String reads the string literal at the cursor (after whitespace) and
// returns its raw inside, escapes not decoded. escaped reports that the
// inside holds an escape or invalid UTF-8, so that Unquote is needed to
// get the value encoding/json would (which replaces invalid UTF-8 with
// U+FFFD). Control characters and malformed escapes are refused. The
// search for the closing quote uses the standard library's vectorised
// byte search and checks eight bytes at a time: a RAG prompt is kilobytes
// long.
func (s *Scanner) String() (raw []byte, escaped, ok bool) {
	s.WS()
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
			j++
		case 'u':
			if j+5 > len(s.b) {
				return nil, false, false
			}
			for _, h := range s.b[j+1 : j+5] {
				if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
					return nil, false, false
				}
			}
			j += 5
		default:
			return nil, false, false
		}
	}
	raw = s.b[start:j]
	ctl, ascii := scanBytes(raw)
	if ctl {
		return nil, false, false
	}
	if !ascii && !utf8.Valid(raw) {
		escaped = true
	}
	s.i = j + 1
	return raw, escaped, true
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

// Key reads an object key and the colon after it, and returns the key's
// raw bytes. Keys with escapes or non-ASCII bytes are refused:
// encoding/json matches field names with Unicode case folding ("choiceſ"
// is "choices" to it), so only the general decoder can say what they name.
func (s *Scanner) Key() ([]byte, bool) {
	raw, escaped, ok := s.String()
	if !ok || escaped {
		return nil, false
	}
	for _, c := range raw {
		if c >= utf8.RuneSelf {
			return nil, false
		}
	}
	if !s.Eat(':') {
		return nil, false
	}
	s.WS()
	return raw, true
}

// SameKey reports whether key is name, and refuses (ok false) a key that
// only encoding/json's case-insensitive matching would take for name.
func SameKey(key []byte, name string) (same, ok bool) {
	if string(key) == name {
		return true, true
	}
	return false, !(len(key) == len(name) && bytes.EqualFold(key, []byte(name)))
}

// Uint reads a non-negative integer literal of at most maxDigits digits.
// A leading zero (other than "0" itself), a sign, a fraction or an
// exponent is refused: callers leave those to encoding/json.
func (s *Scanner) Uint(maxDigits int) (uint64, bool) {
	s.WS()
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	n := s.i - start
	if n == 0 || n > maxDigits || (s.b[start] == '0' && n > 1) {
		return 0, false
	}
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	var v uint64
	for _, c := range s.b[start:s.i] {
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// Bool reads true or false.
func (s *Scanner) Bool() (value, ok bool) {
	s.WS()
	switch {
	case s.literal("true"):
		return true, true
	case s.literal("false"):
		return false, true
	}
	return false, false
}

// SkipValue reads and validates any JSON value at nesting depth depth;
// deeper than MaxDepth is refused.
func (s *Scanner) SkipValue(depth int) bool {
	s.WS()
	if depth > MaxDepth || s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, _, ok := s.String()
		return ok
	case c == '{':
		s.i++
		if s.Eat('}') {
			return true
		}
		for {
			if _, _, ok := s.String(); !ok {
				return false
			}
			if !s.Eat(':') {
				return false
			}
			if !s.SkipValue(depth + 1) {
				return false
			}
			if s.Eat('}') {
				return true
			}
			if !s.Eat(',') {
				return false
			}
		}
	case c == '[':
		s.i++
		if s.Eat(']') {
			return true
		}
		for {
			if !s.SkipValue(depth + 1) {
				return false
			}
			if s.Eat(']') {
				return true
			}
			if !s.Eat(',') {
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

func (s *Scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *Scanner) number() bool {
	s.Consume('-')
	digits := func() int {
		n := 0
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.Consume('0') {
		// no more integer digits
	} else if digits() == 0 {
		return false
	}
	if s.Consume('.') && digits() == 0 {
		return false
	}
	if s.Consume('e') || s.Consume('E') {
		if !s.Consume('+') {
			s.Consume('-')
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// AppendUnquote appends the value of a string literal's raw inside (as
// String returned it) to dst, decoding escapes exactly as encoding/json
// does: invalid surrogates and invalid UTF-8 become U+FFFD. Text between
// escapes is copied whole (found with the vectorised byte search): a RAG
// prompt is kilobytes of text with a newline escape every few lines.
func AppendUnquote(dst, raw []byte) ([]byte, bool) {
	for len(raw) > 0 {
		e := bytes.IndexByte(raw, '\\')
		text := raw
		if e >= 0 {
			text = raw[:e]
		}
		if utf8.Valid(text) {
			dst = append(dst, text...)
		} else {
			for k := 0; k < len(text); {
				rr, size := utf8.DecodeRune(text[k:])
				dst = utf8.AppendRune(dst, rr)
				k += size
			}
		}
		if e < 0 {
			return dst, true
		}
		raw = raw[e:]
		if len(raw) < 2 {
			return dst, false
		}
		switch c := raw[1]; c {
		case '"', '\\', '/':
			dst, raw = append(dst, c), raw[2:]
		case 'b':
			dst, raw = append(dst, '\b'), raw[2:]
		case 'f':
			dst, raw = append(dst, '\f'), raw[2:]
		case 'n':
			dst, raw = append(dst, '\n'), raw[2:]
		case 'r':
			dst, raw = append(dst, '\r'), raw[2:]
		case 't':
			dst, raw = append(dst, '\t'), raw[2:]
		case 'u':
			rr := getu4(raw)
			if rr < 0 {
				return dst, false
			}
			raw = raw[6:]
			if utf16.IsSurrogate(rr) {
				if dec := utf16.DecodeRune(rr, getu4(raw)); dec != unicode.ReplacementChar {
					raw = raw[6:]
					dst = utf8.AppendRune(dst, dec)
					break
				}
				rr = unicode.ReplacementChar
			}
			dst = utf8.AppendRune(dst, rr)
		default:
			return dst, false
		}
	}
	return dst, true
}

// Unquote is AppendUnquote into a new string.
func Unquote(raw []byte) (string, bool) {
	b, ok := AppendUnquote(make([]byte, 0, len(raw)), raw)
	return string(b), ok
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
