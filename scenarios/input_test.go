package scenarios

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestNestingCap feeds 200 KB files nested 100,000 levels deep, which took
// the YAML library 15 GB and 30 s, and checks that each is refused at the
// depth limit, with a position, within a memory bound.
func TestNestingCap(t *testing.T) {
	const levels = 100_000
	cases := map[string]string{
		"flow sequences": "x-deep: " + strings.Repeat("[", levels) + "\n",
		"flow mappings":  "x-deep: " + strings.Repeat("{a: ", levels/2) + "\n",
		"block entries":  "x-deep:\n  " + strings.Repeat("- ", levels) + "x\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := Parse("deep.yaml", []byte(src))
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			t.Logf("%d KB refused in %v, %d MB allocated", len(src)>>10, took.Round(time.Millisecond), (after.TotalAlloc-before.TotalAlloc)>>20)
			var list *ErrorList
			if !errors.As(err, &list) || len(list.Errors) != 1 {
				t.Fatalf("want one error, got %v", err)
			}
			fe := list.Errors[0]
			if !strings.Contains(fe.Message, "nested more than") || fe.Line < 1 || fe.Column < 1 {
				t.Errorf("want a nesting error with a position, got %#v", fe)
			}
			// The scanner's tokens are about 300 bytes each; the parser
			// never runs. 128 MB is a bound the unguarded parser exceeded
			// a hundredfold.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 128<<20 {
				t.Errorf("allocated %d MB refusing a %d KB file, want under 128 MB", alloc>>20, len(src)>>10)
			}
		})
	}
}

// TestNestingCapIgnoresStrings checks that brackets inside strings and
// comments do not count, and that the deepest real scenario passes.
func TestNestingCapIgnoresStrings(t *testing.T) {
	src := "description: \"" + strings.Repeat("[", 500) + "\"  # " + strings.Repeat("{", 500) + "\n" +
		"phases:\n  - name: a\n    duration: 10s\n    faults:\n      - kind: latency\n        latency: {dist: lognormal, median: 1s, p99: 2s}\n"
	if _, err := Parse("strings.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
}

// TestFileSizeCap checks that an oversized file is refused before parsing,
// and that an endless one (/dev/zero) is refused after reading only the
// limit.
func TestFileSizeCap(t *testing.T) {
	big := []byte("description: \"" + strings.Repeat("x", MaxFileSize) + "\"\n")
	if _, err := Parse("big.yaml", big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Parse of %d bytes: got %v, want a size error", len(big), err)
	}
	_, err := Load("/dev/zero")
	var list *ErrorList
	if !errors.As(err, &list) || !strings.Contains(err.Error(), "/dev/zero:1:1: the file is larger than") {
		t.Errorf("Load(/dev/zero): got %v, want a size error", err)
	}
}

// TestByteOrderMark checks that a UTF-8 BOM is not read as part of the
// first key.
func TestByteOrderMark(t *testing.T) {
	s, err := Parse("bom.yaml", []byte("\xEF\xBB\xBFname: bom\nphases: [{name: a, duration: 1s}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "bom" {
		t.Errorf("name %q, want bom", s.Name)
	}
}

// TestSyntaxErrorContext checks that a syntax error points at the
// offending line and quotes the lines before it with a caret.
func TestSyntaxErrorContext(t *testing.T) {
	src := "name: x\nbreaker:\n  enabled: true\n    policy: ratio\nphases: [{name: a, duration: 1s}]\n"
	_, err := Parse("indent.yaml", []byte(src))
	var list *ErrorList
	if !errors.As(err, &list) || len(list.Errors) != 1 {
		t.Fatalf("want one error, got %v", err)
	}
	fe := list.Errors[0]
	if fe.Line != 4 || fe.Column != 5 || !strings.Contains(fe.Message, `key "policy"`) {
		t.Errorf("got %d:%d %q, want 4:5 naming key policy", fe.Line, fe.Column, fe.Message)
	}
	want := "  2 | breaker:\n  3 |   enabled: true\n> 4 |     policy: ratio\n    |     ^"
	if fe.Source != want {
		t.Errorf("source context:\n%s\nwant:\n%s", fe.Source, want)
	}
}
