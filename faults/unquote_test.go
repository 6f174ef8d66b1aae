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
