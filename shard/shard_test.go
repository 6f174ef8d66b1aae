package shard

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shard
		err  string
	}{
		{"1/1", All, ""},
		{" 2/4 ", Shard{2, 4}, ""},
		{"4/4", Shard{4, 4}, ""},
		{"0/4", Shard{}, "I must be between 1 and N"},
		{"5/4", Shard{}, "I must be between 1 and N"},
		{"1/0", Shard{}, "N must be between"},
		{"1/100000", Shard{}, "N must be between"},
		{"2", Shard{}, "want I/N"},
		{"a/4", Shard{}, "whole numbers"},
		{"1/4/2", Shard{}, "whole numbers"},
		{"", Shard{}, "want I/N"},
	} {
		got, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) = %v, %v; want error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestAssignRoundRobinForEqualCosts(t *testing.T) {
	got := Assign(make([]float64, 10), 4)
	want := []int{1, 2, 3, 4, 1, 2, 3, 4, 1, 2}
	if !slices.Equal(got, want) {
		t.Errorf("Assign = %v, want %v", got, want)
	}
}

func TestAssignBalancesCosts(t *testing.T) {
	costs := []float64{1, 9, 2, 8, 3, 7, 4, 6, 5}
	got := Assign(costs, 3)
	// Longest first: 9→1, 8→2, 7→3 (loads 9, 8, 7); 6→3, 5→2, 4→1 (13 each);
	// 3→1 (16); 2→2 (15); 1→3 (14).
	want := []int{3, 1, 2, 2, 1, 3, 1, 3, 2}
	if !slices.Equal(got, want) {
		t.Errorf("Assign = %v, want %v", got, want)
	}
}

// TestShardsCoverEachItemOnce: for every N, the shards' selections are
// disjoint and together cover the list.
func TestShardsCoverEachItemOnce(t *testing.T) {
	costs := []float64{5, 1, 1, 3, 0, 2, 8, 8, 1}
	for n := 1; n <= 12; n++ {
		seen := make([]int, len(costs))
		for i := 1; i <= n; i++ {
			for _, k := range (Shard{i, n}).Select(costs) {
				seen[k]++
			}
		}
		for k, c := range seen {
			if c != 1 {
				t.Errorf("n=%d: item %d played %d times", n, k, c)
			}
		}
	}
}
