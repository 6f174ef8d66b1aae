package assistant

import (
	"brownout/internal/jsonfast"
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
	s := chatScan{jsonfast.New(b)}
	s.WS()
	content, ok = s.object("choices", 0, s.choices)
	if !ok || !s.End() {
		return "", false
	}
	return content, true
}

// chatScan reads the upstream's chat answer.
type chatScan struct{ jsonfast.Scanner }

// choices reads a choices array of exactly one choice (what an n=1 request
// gets) and returns its content. More choices are left to encoding/json,
// which type-checks every element.
func (s *chatScan) choices() (string, bool) {
	if !s.Consume('[') {
		return "", false
	}
	s.WS()
	content, ok := s.firstChoice()
	if !ok || !s.Eat(']') {
		return "", false
	}
	return content, true
}

// firstChoice reads {"message": {"content": "..."}, ...}.
func (s *chatScan) firstChoice() (string, bool) {
	return s.object("message", 2, func() (string, bool) { return s.object("content", 3, s.content) })
}

// object reads an object in which the key name occurs exactly once and
// returns what read makes of its value; every other member is skipped (and
// validated) at nesting depth skipDepth.
func (s *chatScan) object(name string, skipDepth int, read func() (string, bool)) (string, bool) {
	if !s.Consume('{') || s.Eat('}') {
		return "", false
	}
	var out string
	found := false
	for {
		key, ok := s.Key()
		if !ok {
			return "", false
		}
		same, ok := jsonfast.SameKey(key, name)
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
			if !s.SkipValue(skipDepth) {
				return "", false
			}
		}
		if s.Eat('}') {
			return out, found
		}
		if !s.Eat(',') {
			return "", false
		}
	}
}

// content reads the answer string.
func (s *chatScan) content() (string, bool) { return readString(&s.Scanner) }

// readString reads a string value as encoding/json decodes it.
func readString(s *jsonfast.Scanner) (string, bool) {
	raw, escaped, ok := s.String()
	if !ok {
		return "", false
	}
	if !escaped {
		return string(raw), true
	}
	return jsonfast.Unquote(raw)
}

// scanQuery is the fast path of decodeQuery for the ordinary body
// {"question": "...", "top_k": N} (top_k optional, any member order). On
// anything else it returns ok false and decodeQuery decodes with
// encoding/json, which also words the error. topK is 0 when absent.
func scanQuery(b []byte) (question string, topK int, ok bool) {
	s := jsonfast.New(b)
	if !s.Eat('{') || s.Eat('}') {
		return "", 0, false
	}
	haveQ, haveK := false, false
	for {
		key, ok := s.Key()
		if !ok {
			return "", 0, false
		}
		switch string(key) {
		case "question":
			if haveQ {
				return "", 0, false
			}
			if question, ok = readString(&s); !ok {
				return "", 0, false
			}
			haveQ = true
		case "top_k":
			// 1 to 9999; anything else (0, a sign, a fraction, an
			// exponent, a leading zero, more digits) is left to
			// encoding/json.
			n, ok := s.Uint(4)
			if haveK || !ok || n == 0 {
				return "", 0, false
			}
			topK, haveK = int(n), true
		default:
			return "", 0, false
		}
		if s.Eat('}') {
			break
		}
		if !s.Eat(',') {
			return "", 0, false
		}
	}
	if !haveQ || !s.End() {
		return "", 0, false
	}
	return question, topK, true
}
