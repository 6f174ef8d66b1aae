package sim

import (
	"encoding/json"
	"strings"
	"testing"

	"brownout/contract"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       contract.Outcome
		reason     contract.FallbackReason
	}{
		{"upstream", `{"answer":"x","sources":[],"metadata":{"duration_ms":3,"chunks_used":5}}`, 200, contract.OutcomeUpstream, ""},
		{"cache", `{"answer":"x","metadata":{"from_fallback":true,"fallback_reason":"circuit_breaker_open","fallback_source":"l1_cache"}}`, 200, contract.OutcomeCache, "circuit_breaker_open"},
		{"excerpts", `{"answer":"x","metadata":{"from_fallback":true,"fallback_reason":"upstream_timeout","fallback_source":"excerpts"}}`, 200, contract.OutcomeExcerpts, "upstream_timeout"},
		{"unknown source", `{"metadata":{"from_fallback":true,"fallback_source":"magic"}}`, 200, contract.OutcomeBadResponse, ""},
		{"unreadable 200", `{"answer":`, 200, contract.OutcomeBadResponse, ""},
		{"503", `{"error":"service_unavailable"}`, 503, contract.OutcomeUnavailable, ""},
		{"500", `oops`, 500, contract.OutcomeBadResponse, ""},
		{"transport", ``, 0, contract.OutcomeError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason, _ := classify(tt.status, []byte(tt.body), "boom")
			if got != tt.want || (tt.reason != "" && reason != tt.reason) {
				t.Errorf("classify = %q, %q; want %q, %q", got, reason, tt.want, tt.reason)
			}
		})
	}
}

// referenceMeta is the shape encoding/json reads the contract's metadata
// into: the reference readAnswerMeta is checked against.
type referenceMeta struct {
	Metadata *struct {
		FromFallback   bool   `json:"from_fallback"`
		FallbackReason string `json:"fallback_reason"`
		FallbackSource string `json:"fallback_source"`
	} `json:"metadata"`
}

func TestReadAnswerMetaErrors(t *testing.T) {
	for body, want := range map[string]string{
		`{"answer":`:                           "not valid JSON",
		`null`:                                 "a JSON null, not an object",
		`[{"metadata":{}}]`:                    "a JSON array, not an object",
		` "text"`:                              "a JSON string, not an object",
		`{"metadata":[]}`:                      "metadata is a JSON array, not an object",
		`{"metadata":{"from_fallback":"yes"}}`: "metadata.from_fallback is a JSON string, not a boolean",
		`{"metadata":{"fallback_source":5}}`:   "metadata.fallback_source is a JSON number, not a string",
		`{"metadata":{"fallback_reason":{"a":true}}}`:  "metadata.fallback_reason is a JSON object, not a string",
		`{"metadata":null,"answer":"x"}`:               "",
		`{"answer":"x"}`:                               "",
		`{"metadata":{"from_fallback":null}}`:          "",
		"{\"answer\":\"caf\xe9\",\"metadata\":{}}":     "",
		`{"metadata":{"from_fallback":false},"x":[1]}`: "",
	} {
		_, err := readAnswerMeta([]byte(body))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("readAnswerMeta(%s) error %q, want %q", body, got, want)
		}
	}
}

// TestReadAnswerMetaDeepNesting feeds answers nested a million levels
// deep, which a recursive validator would need a gigabyte of stack for.
func TestReadAnswerMetaDeepNesting(t *testing.T) {
	const depth = 1 << 20
	for _, open := range []string{"[", `{"a":`} {
		close := map[string]string{"[": "]", `{"a":`: "}"}[open]
		body := []byte(strings.Repeat(open, depth) + "1" + strings.Repeat(close, depth))
		if _, err := readAnswerMeta(body); err == nil || err.Error() != "not valid JSON" {
			t.Errorf("%d levels of %s: err = %v, want not valid JSON (encoding/json's depth limit)", depth, open, err)
		}
	}
	// Below the bracket bound, gjson's validator takes it.
	body := []byte(`{"metadata":{"from_fallback":true,"fallback_source":"l1_cache","x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}}`)
	if m, err := readAnswerMeta(body); err != nil || !m.FromFallback {
		t.Errorf("200 levels: %+v, %v", m, err)
	}
}

// FuzzReadAnswerMeta checks the gjson reader against encoding/json on
// answers built from the fuzzer's values, with the metadata and its fields
// of every JSON type, and that it never accepts what is not JSON.
func FuzzReadAnswerMeta(f *testing.F) {
	f.Add(true, "circuit_breaker_open", "l1_cache", "an answer", uint8(0), uint8(0), []byte(`{"metadata":{}}`))
	f.Add(false, "", "", "é \u2028 \"q\"", uint8(2), uint8(3), []byte(`{"a":[1,2,{"b":null}],"metadata":{"from_fallback":true}}`))
	f.Add(true, "x", "excerpts", "", uint8(1), uint8(5), []byte(`[`))
	f.Fuzz(func(t *testing.T, fromFallback bool, reason, source, answer string, metaKind, fieldKind uint8, raw []byte) {
		// Any bytes: no panic, and nothing invalid accepted.
		if _, err := readAnswerMeta(raw); err == nil && !json.Valid(raw) {
			t.Fatalf("accepted invalid JSON %q", raw)
		} else if err != nil && err.Error() == "not valid JSON" && json.Valid(raw) {
			t.Fatalf("refused valid JSON %q", raw)
		}

		// Built answers: the same verdict and values as encoding/json.
		values := []any{nil, 3.5, "s", []any{1}, map[string]any{"k": 1}}
		meta := map[string]any{"from_fallback": fromFallback, "fallback_reason": reason, "fallback_source": source, "duration_ms": 1.5}
		switch k := int(fieldKind) % 8; {
		case k < len(values):
			meta[[]string{"from_fallback", "fallback_reason", "fallback_source"}[int(fieldKind/8)%3]] = values[k]
		}
		doc := map[string]any{"answer": answer, "sources": []any{map[string]any{"id": answer}}}
		switch metaKind % 4 {
		case 0:
			doc["metadata"] = meta
		case 1:
			doc["metadata"] = nil
		case 2: // absent
		case 3:
			doc["metadata"] = values[int(fieldKind)%len(values)]
		}
		body, err := json.Marshal(doc)
		if err != nil {
			t.Skip()
		}
		var ref referenceMeta
		refErr := json.Unmarshal(body, &ref)
		got, err := readAnswerMeta(body)
		if (err != nil) != (refErr != nil) {
			t.Fatalf("%s: readAnswerMeta error %v, encoding/json error %v", body, err, refErr)
		}
		if err != nil {
			return
		}
		var want answerMeta
		if m := ref.Metadata; m != nil {
			want = answerMeta{m.FromFallback, m.FallbackReason, m.FallbackSource}
		}
		if got != want {
			t.Fatalf("%s: readAnswerMeta %+v, encoding/json %+v", body, got, want)
		}
	})
}
