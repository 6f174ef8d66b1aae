package scenarios

import (
	"strconv"
	"strings"
	"testing"
)

// TestAliasBombs checks that aliases cannot make Parse loop or explode.
func TestAliasBombs(t *testing.T) {
	var b strings.Builder
	b.WriteString("x-0: &f0 {kind: reset}\n")
	for i := 1; i <= 12; i++ {
		b.WriteString("x-" + string(rune('a'+i)) + ": &f" + itoa(i) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*f" + itoa(i-1))
		}
		b.WriteString("]\n")
	}
	for _, tc := range []struct{ name, src, want string }{
		{"self", "phases: &a [{name: a, duration: 1s, faults: *a}]", `unknown key "faults"`},
		{"self-map", "x-a: &a {kind: *a}\nphases: [{name: a, duration: 1s, faults: [*a]}]", "refers to a value that contains it"},
		{"laughs", b.String() + "phases: [{name: a, duration: 1s, faults: *f12}]", "found a list, want a mapping"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("a.yaml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
