package assistant

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestScanChatContent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body string
		want string
		ok   bool
	}{
		{chatBody("Hello"), "Hello", true},
		{`{"choices":[{"message":{"content":"a"}},{"message":{"content":"b"}}]}`, "", false}, // left to encoding/json
		{` { "id" : "" , "choices" : [ { "index" : 0 , "message" : { "role" : "assistant" , "content" : "ünï ✓" } , "logprobs" : null , "finish_reason" : "stop" } ] , "usage" : { "prompt_tokens" : 5, "x": [1.5e3, -0, true, false, {}] } } `, "ünï ✓", true},
		{`{"choices":[{"message":{"content":"a\nb \u00e9 \ud83d\ude00 \ud800"}}]}`, "a\nb é 😀 \ufffd", true},
		{`{"choices":[]}`, "", false},
		{`{"choices":null}`, "", false},
		{`{"Choices":[{"message":{"content":"a"}}]}`, "", false},
		{`{"choices":[{"message":{"content":"a"}}],"choices":[]}`, "", false},
		{`{"choices":[{"message":{"content":null}}]}`, "", false},
		{`{"choices":[{"message":{"content":"a"}}]} x`, "", false},
		{`{"choices":[{"message":{"content":"a"}}],}`, "", false},
		{`{"choices":[{"message":{"content":"a"}}], "n": 01}`, "", false},
		{`{"choices":[{"message":{"content":"a"`, "", false},
		{``, "", false},
		{`{"choices":[{"message":{"content":"a"}}],"choiceſ":[]}`, "", false},
		{`{"choices":[{"meſſage":{"content":"b"},"message":{"content":"a"}}]}`, "", false},
	} {
		got, ok := scanChatContent([]byte(tc.body))
		if got != tc.want || ok != tc.ok {
			t.Errorf("scanChatContent(%s) = %q, %v; want %q, %v", tc.body, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzScanChatContent: whenever the fast scanner answers, encoding/json
// gives the same answer.
func FuzzScanChatContent(f *testing.F) {
	for _, s := range []string{
		chatBody("Hello"), chatBody(""), `{"choices":[{"message":{"content":"a"}},1]}`,
		`{"choices":[{"message":{"content":"a","role":"x"},"index":0}],"usage":{"a":[1,2.5e-3,null]}}`,
		`{"choices":[{"message":{"content":"\u00e9"}}]}`, `[]`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := scanChatContent(body)
		if !ok {
			return
		}
		std, err := decodeChatStd(body, 200)
		if err != nil {
			t.Fatalf("fast path accepted %q (%q) but encoding/json says %v", body, fast, err)
		}
		if got := strings.TrimSpace(fast); got != std {
			t.Fatalf("fast path %q, encoding/json %q for %q", got, std, body)
		}
	})
}

// TestScanChatContentGenerated builds many well-formed answers with extra
// members in random places and checks the fast path takes them and agrees
// with encoding/json.
func TestScanChatContentGenerated(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	values := []string{`0`, `-1.5e-3`, `true`, `null`, `"s"`, `"e\u00e9\n"`, `[]`, `[1,{"a":[null]}]`, `{}`, `{"k":"v","n":2}`}
	contents := []string{"", "plain", "ünïcode ✓", "with \"quote\"", "tab\there", "  padded  ", "<html>&"}
	member := func() string {
		return fmt.Sprintf(`"x%d":%s`, rng.IntN(1000), values[rng.IntN(len(values))])
	}
	object := func(required string) string {
		parts := []string{required}
		for range rng.IntN(4) {
			parts = append(parts, member())
		}
		rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
		ws := []string{"", " ", "\n  "}[rng.IntN(3)]
		return "{" + ws + strings.Join(parts, ","+ws) + ws + "}"
	}
	fast := 0
	for i := range 5000 {
		c := contents[rng.IntN(len(contents))]
		cj, _ := json.Marshal(c)
		body := object(`"choices":[` + object(`"message":`+object(`"content":`+string(cj))) + `]`)
		got, ok := scanChatContent([]byte(body))
		std, err := decodeChatStd([]byte(body), 200)
		if err != nil {
			t.Fatalf("#%d: generated body %s is invalid: %v", i, body, err)
		}
		if ok {
			fast++
			if strings.TrimSpace(got) != std {
				t.Fatalf("#%d: fast %q, encoding/json %q for %s", i, got, std, body)
			}
		}
	}
	if fast < 4000 {
		t.Errorf("fast path taken %d times of 5000, want most", fast)
	}
}

func BenchmarkDecodeChat(b *testing.B) {
	body := []byte(chatBody("before circuit is before of users checks bounded served\n before still quiet to served"))
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decodeChat(body, 200)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decodeChatStd(body, 200)
		}
	})
}

// FuzzScanQuery: whenever the fast path takes a request body, encoding/json
// (strict, as decodeQuery uses it) reads the same question and top_k.
func FuzzScanQuery(f *testing.F) {
	for _, s := range []string{`{"question":"What is a circuit breaker?"}`, `{"top_k":3,"question":"x\ny"}`,
		`{"question":"x","top_k":0}`, `{"question":"x","top_k":1e2}`, `{"question":"x","Top_K":2}`, `{"question":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		q, k, ok := scanQuery(body)
		if !ok {
			return
		}
		var in struct {
			Question *string `json:"question"`
			TopK     *int    `json:"top_k"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			t.Fatalf("fast path took %q, encoding/json: %v", body, err)
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Fatalf("fast path took %q with trailing data", body)
		}
		wantK := 0
		if in.TopK != nil {
			wantK = *in.TopK
		}
		if in.Question == nil || *in.Question != q || wantK != k {
			t.Fatalf("fast path %q/%d, encoding/json %v/%v for %q", q, k, in.Question, in.TopK, body)
		}
	})
}
