package faults

import (
	"hash/crc32"
	"strconv"

	"brownout/internal/jsonfast"
)

// Fingerprint is the system_fingerprint of every answer, as TGI renders
// "{version}-{docker_label|native}".
const Fingerprint = "3.3.6-native"

// Shared header values; net/http never mutates them, so one slice serves
// every response.
var (
	ctJSON        = []string{"application/json"}
	ctEventStream = []string{"text/event-stream"}
	ctTextPlain   = []string{"text/plain; charset=utf-8"}
	ctHTML        = []string{"text/html"}
	noCache       = []string{"no-cache"}
	accelNo       = []string{"no"}
	computeType   = []string{"gpu+optimized"}
)

// token is one entry of the fake vocabulary with its renderings prepared
// once, so the hot path only appends bytes.
type token struct {
	esc     []byte // JSON-escaped text without quotes
	escTrim []byte // the same without the leading space (first token of chat)
	tgi     []byte // TGI Token object: {"id":..,"text":..,"logprob":..,"special":..}
}

var words = []string{
	" The", " circuit", " breaker", " opens", " when", " the", " upstream", " fails",
	" and", " closes", " again", " after", " a", " quiet", " period", ".",
	" Requests", " are", " served", " from", " cache", " while", " it", " is",
	" open", ",", " so", " users", " still", " get", " an", " answer",
	" model", " latency", " grows", " under", " load", " but", " stays", " bounded",
	" retries", " back", " off", " with", " jitter", " to", " avoid", " storms",
	" health", " checks", " probe", " half", "-open", " state", " carefully", " before",
	" traffic", " returns", " in", " full", " measure", " of", " success", "\n",
}

// vocab holds the text tokens; eos is the end-of-sequence token, which has
// no visible text.
var vocab, eos = func() ([]token, token) {
	v := make([]token, len(words))
	for i, w := range words {
		v[i] = makeToken(1000+i*37, w, strconv.FormatFloat(-0.0625*float64(1+i%13), 'f', -1, 64), false)
	}
	return v, makeToken(128009, "<|eot_id|>", "-0.0001", true)
}()

func makeToken(id int, text, logprob string, special bool) token {
	t := token{esc: jsonfast.AppendString(nil, text)}
	t.escTrim = t.esc
	if len(text) > 0 && text[0] == ' ' {
		t.escTrim = t.esc[1:]
	}
	b := append([]byte(`{"id":`), strconv.Itoa(id)...)
	b = append(b, `,"text":"`...)
	b = append(b, t.esc...)
	b = append(b, `","logprob":`...)
	b = append(b, logprob...)
	b = append(b, `,"special":`...)
	b = strconv.AppendBool(b, special)
	t.tgi = append(b, '}')
	return t
}

// generation is the planned completion of one request.
type generation struct {
	text []uint8 // indices into vocab of the visible tokens
	eos  bool    // the completion ends with eos (else it hit max_tokens)
}

// n is the number of generated tokens, counting eos.
func (g generation) n() int {
	if g.eos {
		return len(g.text) + 1
	}
	return len(g.text)
}

// finishReason is TGI's finish reason; chat endpoints rewrite eos_token to
// "stop".
func (g generation) finishReason(chat bool) string {
	switch {
	case !g.eos:
		return "length"
	case chat:
		return "stop"
	default:
		return "eos_token"
	}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// hashPrompt is what the generated text is drawn from: two CRC-32s of the
// prompt's bytes (IEEE and Castagnoli, both done in hardware on common
// CPUs), so that a few kilobytes of RAG prompt hash in a fraction of a
// microsecond.
func hashPrompt(p []byte) uint64 {
	return uint64(crc32.Checksum(p, castagnoli))<<32 | uint64(crc32.ChecksumIEEE(p))
}

// generate plans n tokens for the prompt whose hash is promptHash. The
// text depends only on seed and prompt; eos reports whether the model
// stops by itself (no max_tokens).
func generate(seed int64, promptHash uint64, n int, eos bool, dst []uint8) generation {
	x := promptHash ^ uint64(seed)*0x9e3779b97f4a7c15
	textN := n
	if eos {
		textN = n - 1
	}
	dst = dst[:0]
	for range textN {
		// splitmix64
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		dst = append(dst, uint8(z%uint64(len(vocab))))
	}
	return generation{text: dst, eos: eos}
}

// appendText appends the JSON-escaped visible text; trim drops the leading
// space of the first token, as chat templates do.
func (g generation) appendText(b []byte, trim bool) []byte {
	for i, t := range g.text {
		if i == 0 && trim {
			b = append(b, vocab[t].escTrim...)
		} else {
			b = append(b, vocab[t].esc...)
		}
	}
	return b
}

// appendQuoted appends s as a JSON string literal.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	b = jsonfast.AppendString(b, s)
	return append(b, '"')
}

// errorBody renders TGI's ErrorResponse.
func errorBody(msg, errorType string) []byte {
	b := append([]byte(`{"error":`), appendQuoted(nil, msg)...)
	b = append(b, `,"error_type":`...)
	b = appendQuoted(b, errorType)
	return append(b, '}')
}
