package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"brownout/contract"

	"github.com/tidwall/gjson"
)

// answerMeta is the part of the assistant's answer the harness reads: the
// contract's metadata says whether the answer came from a fallback.
type answerMeta struct {
	FromFallback   bool
	FallbackReason string
	FallbackSource string
}

// classify derives a request's outcome from the HTTP answer alone, so the
// harness judges any service that speaks the seed's contract, not only the
// built-in one. It returns the outcome, the fallback reason and, for a bad
// response, what was wrong with it.
func classify(status int, body []byte, transportErr string) (contract.Outcome, contract.FallbackReason, string) {
	if status == 0 {
		return contract.OutcomeError, "", transportErr
	}
	switch status {
	case http.StatusOK:
		m, err := readAnswerMeta(body)
		if err != nil {
			return contract.OutcomeBadResponse, "", "unreadable 200 body: " + err.Error()
		}
		if !m.FromFallback {
			return contract.OutcomeUpstream, "", ""
		}
		reason := contract.FallbackReason(m.FallbackReason)
		if o, ok := contract.OutcomeOf(contract.FallbackSource(m.FallbackSource)); ok {
			return o, reason, ""
		}
		return contract.OutcomeBadResponse, reason, "unknown fallback_source " + m.FallbackSource
	case http.StatusServiceUnavailable:
		return contract.OutcomeUnavailable, "", ""
	}
	return contract.OutcomeBadResponse, "", http.StatusText(status)
}

// readAnswerMeta reads the metadata of a 200 answer. Every answer of a run
// goes through it, and an answer is kilobytes of sources the harness does
// not need, so it validates and picks with gjson (about 5x faster than
// encoding/json on the built-in assistant's answers) instead of decoding.
// The body must be a JSON object; metadata, when present and not null,
// must be an object whose from_fallback is a boolean and whose
// fallback_reason and fallback_source are strings. Keys are matched as
// the contract spells them.
func readAnswerMeta(body []byte) (answerMeta, error) {
	var m answerMeta
	if !validJSON(body) {
		return m, errors.New("not valid JSON")
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); trimmed[0] != '{' { // valid JSON is not empty
		return m, fmt.Errorf("a JSON %s, not an object", jsonKind(gjson.ParseBytes(trimmed)))
	}
	md := gjson.GetBytes(body, "metadata")
	if md.Type == gjson.Null { // absent or null
		return m, nil
	}
	if !md.IsObject() {
		return m, fmt.Errorf("metadata is a JSON %s, not an object", jsonKind(md))
	}
	ff := md.Get("from_fallback")
	switch ff.Type {
	case gjson.True:
		m.FromFallback = true
	case gjson.False, gjson.Null:
	default:
		return m, fmt.Errorf("metadata.from_fallback is a JSON %s, not a boolean", jsonKind(ff))
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"fallback_reason", &m.FallbackReason}, {"fallback_source", &m.FallbackSource}} {
		v := md.Get(f.key)
		switch v.Type {
		case gjson.String:
			*f.dst = v.Str
		case gjson.Null:
		default:
			return m, fmt.Errorf("metadata.%s is a JSON %s, not a string", f.key, jsonKind(v))
		}
	}
	return m, nil
}

// maxBracketsForGjson bounds the nesting gjson's validator, which recurses
// once per level, may meet: an answer of a megabyte of "[" would otherwise
// grow a goroutine stack to hundreds of megabytes, and a larger one crash
// the process. An answer of the contract has a handful of brackets.
const maxBracketsForGjson = 512

// validJSON reports whether body is valid JSON: with gjson when its
// bracket count bounds the nesting, else with encoding/json's validator,
// which keeps its own bounded stack. The two agree (FuzzReadAnswerMeta).
func validJSON(body []byte) bool {
	if bytes.Count(body, []byte{'['})+bytes.Count(body, []byte{'{'}) <= maxBracketsForGjson {
		return gjson.ValidBytes(body)
	}
	return json.Valid(body)
}

// jsonKind names a JSON value's type as a person would.
func jsonKind(r gjson.Result) string {
	switch {
	case r.IsObject():
		return "object"
	case r.IsArray():
		return "array"
	case r.IsBool():
		return "boolean"
	}
	switch r.Type {
	case gjson.Number:
		return "number"
	case gjson.String:
		return "string"
	}
	return "null"
}
