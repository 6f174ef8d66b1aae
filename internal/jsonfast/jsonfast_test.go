package jsonfast

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// stdJSON is encoding/json without HTML escaping and without the newline
// Encode adds: the reference the writer must match byte for byte.
func stdJSON(t testing.TB, v any) string {
	t.Helper()
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(sb.String(), "\n")
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "ctl \x00\x01\x1f\t\n\r\b\f", "ünïcode ✓",
		"bad \xff utf8 \xc3", "line\u2028sep\u2029", "<html>&amp;</html>", "\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := `"` + string(AppendString(nil, s)) + `"`
		want := stdJSON(t, s)
		if got != want {
			t.Fatalf("AppendString(%q) = %s, encoding/json gives %s", s, got, want)
		}
	})
}

func TestAppendFloat(t *testing.T) {
	t.Parallel()
	for _, f := range []float64{0, 1, 0.5, 4.1471, 123.456, 1e-7, 2.5e-9, 1e21, 1e20, -3.25, 30000, math.Round(1.23456789*1e4) / 1e4} {
		if got, want := string(AppendFloat(nil, f)), stdJSON(t, f); got != want {
			t.Errorf("AppendFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

func FuzzUnquote(f *testing.F) {
	for _, s := range []string{`plain`, `a\nb`, `\u00e9\ud83d\ude00`, `\ud800`, `\ud800\u0041`, `\udc00\ud800`, "\xff\xfe", `\"\\\/\b\f\r\t`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var want string
		if json.Unmarshal([]byte(`"`+string(raw)+`"`), &want) != nil {
			return
		}
		got, ok := Unquote(raw)
		if !ok || got != want {
			t.Fatalf("Unquote(%q) = %q, %v; encoding/json gives %q", raw, got, ok, want)
		}
	})
}

// FuzzScanBytes checks the eight-bytes-at-a-time scan against a plain loop.
func FuzzScanBytes(f *testing.F) {
	for _, s := range []string{"", "plain ascii text, long enough for words", "tab\there", "é ü 日本 and more ascii", "\x1f", "\x7f\x80\x9f\xa0 \x20\x1f"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		wantCtl, wantASCII := false, true
		for _, c := range b {
			wantCtl = wantCtl || c < 0x20
			wantASCII = wantASCII && c < 0x80
		}
		ctl, ascii := scanBytes(b)
		if ctl != wantCtl || (!ctl && ascii != wantASCII) {
			t.Fatalf("scanBytes(%q) = %v, %v; want %v, %v", b, ctl, ascii, wantCtl, wantASCII)
		}
	})
}

// FuzzString checks the string reader against encoding/json: whenever it
// accepts a literal, encoding/json reads the same literal to the same
// value.
func FuzzString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"a\nb"`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, "\"\xff\"", `"\x"`, `"\u12"`, `"tail`, `  "ws" `, "\"\x01\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := New(b)
		raw, escaped, ok := s.String()
		if !ok {
			return
		}
		lit := bytes.TrimLeft(b, " \t\r\n")[:len(raw)+2]
		var want string
		if err := json.Unmarshal(lit, &want); err != nil {
			t.Fatalf("String accepted %q, encoding/json: %v", lit, err)
		}
		got := string(raw)
		if escaped {
			var uok bool
			if got, uok = Unquote(raw); !uok {
				t.Fatalf("Unquote(%q) failed after String accepted it", raw)
			}
		}
		if got != want {
			t.Fatalf("String/Unquote(%q) = %q, encoding/json gives %q", lit, got, want)
		}
	})
}

// FuzzStringReadsMarshal checks the other direction: every literal
// encoding/json writes (control characters escaped) is read back to its
// value.
func FuzzStringReadsMarshal(f *testing.F) {
	for _, s := range []string{"", "plain", "ctl \x00\x1f\n", "ünï ✓", "bad \xff", "\u2028", `"\/`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		lit, err := json.Marshal(v)
		if err != nil {
			t.Skip()
		}
		var want string
		if err := json.Unmarshal(lit, &want); err != nil {
			t.Fatal(err)
		}
		s := New(lit)
		raw, escaped, ok := s.String()
		if !ok || !s.End() {
			t.Fatalf("String refused %s", lit)
		}
		got := string(raw)
		if escaped {
			got, _ = Unquote(raw)
		}
		if got != want {
			t.Fatalf("String(%s) = %q, want %q", lit, got, want)
		}
	})
}

// FuzzSkipValue checks that whenever SkipValue accepts a whole document,
// it is valid JSON.
func FuzzSkipValue(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,-0,true,false,null,"x"]}`, `[]`, `{}`, `01`, `1.`, `{"a" 1}`, `[1,]`, `"\u00zz"`, `-`, `1e+`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := New(b)
		if s.SkipValue(0) && s.End() && !json.Valid(b) {
			t.Fatalf("SkipValue accepted %q, which is not valid JSON", b)
		}
	})
}

// FuzzUint checks the integer reader against encoding/json.
func FuzzUint(f *testing.F) {
	for _, s := range []string{"0", "7", "42", "9999", "10000", "01", "-1", "1.5", "1e3", "4294967295", "4294967296"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := New(b)
		v, ok := s.Uint(10)
		if !ok || !s.End() {
			return
		}
		var want uint64
		if err := json.Unmarshal(b, &want); err != nil || want != v {
			t.Fatalf("Uint(%q) = %d; encoding/json gives %d, %v", b, v, want, err)
		}
	})
}
