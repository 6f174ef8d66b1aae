package faults

import (
	"encoding/json"
	"testing"
)

// FuzzUnquoteValid checks the fast string decoder of chat content against
// encoding/json on every valid JSON string literal.
func FuzzUnquoteValid(f *testing.F) {
	for _, s := range []string{"", "plain", "line\nbreak\ttab", `quote " and \ back`, "é ü 日本", "\u2028 and \x01", "/slash"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw, err := json.Marshal(s)
		if err != nil {
			t.Skip()
		}
		var want string
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if got := unquoteValid(raw); got != want {
			t.Fatalf("unquoteValid(%s) = %q, want %q", raw, got, want)
		}
	})
}

func TestMessageContentTypes(t *testing.T) {
	tests := []struct {
		body    string
		want    string
		wantErr bool
	}{
		{`"a\nb \u00e9 \/"`, "a\nb é /", false},
		{`[{"type":"text","text":"a"},{"type":"text","text":"b"}]`, "ab", false},
		{`null`, "", false},
		{`42`, "", true},
	}
	for _, tt := range tests {
		var c messageContent
		if err := json.Unmarshal([]byte(tt.body), &c); err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		if c.text != tt.want || (c.err != nil) != tt.wantErr {
			t.Errorf("%s: text %q err %v; want %q, error %v", tt.body, c.text, c.err, tt.want, tt.wantErr)
		}
	}
}

// FuzzChatFast checks that whenever the one-pass chat decoder accepts a
// body, the general decoder accepts it too and decodes the same request.
func FuzzChatFast(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi\nthere — é"}],"max_tokens":16,"stream":false}`,
		`{"messages":[{"role":"user","content":"x"}]}`,
		`{"messages":[],"max_tokens":0}`,
		`{"messages":[{"role":"user","content":"x"}],"max_completion_tokens":4294967295}`,
		`{"messages":[{"role":"user","content":"x","extra":1}]}`,
		` { "messages" : [ { "content" : "a\"b" , "role" : "u" } ] , "stream" : true } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := decodeChatFast(body)
		if !ok {
			return
		}
		fast.promptTokens = max(1, (fast.promptLen+3)/4)
		// The general path, without the fast one in front of it.
		var cr chatRequest
		if err := unmarshal(body, &cr); err != nil {
			t.Fatalf("fast decoder accepted %q, general decoder refuses it: %v", body, err)
		}
		var slow request
		var sb []byte
		for _, m := range *cr.Messages {
			if m.Content.err != nil {
				t.Fatalf("fast accepted %q with bad content %v", body, m.Content.err)
			}
			sb = append(sb, m.Content.text...)
		}
		slow.setPrompt(sb)
		mt := cr.MaxTokens
		if mt == nil {
			mt = cr.MaxCompletionTokens
		}
		if err := setMaxTokens(&slow, mt); err != nil {
			t.Fatalf("fast accepted %q, general says %v", body, err)
		}
		slow.stream = cr.Stream
		if cr.Model != nil {
			slow.model = *cr.Model
		}
		slow.promptTokens = max(1, (slow.promptLen+3)/4)
		if fast != slow {
			t.Fatalf("%q:\nfast %+v\nslow %+v", body, fast, slow)
		}
	})
}
