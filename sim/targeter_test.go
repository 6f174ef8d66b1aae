package sim

import (
	"math"
	"testing"
)

func TestQuestionSourceRepeatRatio(t *testing.T) {
	qs, err := LoadQueries("builtin")
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	for _, ratio := range []float64{0, 0.3, 0.9} {
		src := newQuestionSource(qs, ratio, 7)
		seen := map[string]bool{}
		repeats := 0
		for range n {
			q := src.Next()
			if seen[q] {
				repeats++
			}
			seen[q] = true
		}
		got := float64(repeats) / n
		// Binomial sd at n=20000 is at most 0.0035; allow 4 sd.
		if math.Abs(got-ratio) > 0.015 {
			t.Errorf("repeat ratio %v: observed %.4f", ratio, got)
		}
	}
}

func TestQuestionSourceIsSeeded(t *testing.T) {
	qs, _ := LoadQueries("")
	a, b := newQuestionSource(qs, 0.5, 42), newQuestionSource(qs, 0.5, 42)
	for i := range 1000 {
		if x, y := a.Next(), b.Next(); x != y {
			t.Fatalf("draw %d: %q != %q", i, x, y)
		}
	}
}

func TestLoadQueriesErrors(t *testing.T) {
	if _, err := LoadQueries("/nonexistent/queries.txt"); err == nil {
		t.Error("missing file: want an error")
	}
}
